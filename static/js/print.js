// "Print" links ([data-print]): a static file, because the Content-Security-Policy allows no
// inline script or javascript: URL.
document.addEventListener("click", (event) => {
  const link = event.target.closest("[data-print]");
  if (!link) return;
  event.preventDefault();
  window.print();
});
