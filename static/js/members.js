// The members page: "select every member on this page" for the bulk actions. The badges'
// live refresh needs no code here (htmx out-of-band swaps of the badge cells alone).
document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-select-all]");
  if (all) {
    document.querySelectorAll("input[data-select]").forEach((box) => { box.checked = all.checked; });
    return;
  }
  if (event.target.matches("input[data-select]")) {
    const boxes = [...document.querySelectorAll("input[data-select]")];
    const head = document.querySelector("[data-select-all]");
    if (head) {
      const ticked = boxes.filter((box) => box.checked).length;
      head.checked = ticked === boxes.length && ticked > 0;
      head.indeterminate = ticked > 0 && ticked < boxes.length;
    }
  }
});
