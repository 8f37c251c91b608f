// The sales dashboard's charts (Chart.js, served from node_modules): each <canvas data-chart>
// fetches its table from data-source (/sales/api/<table>/, the same rows as the tables and CSVs)
// and draws it. Money arrives as decimal strings; Chart.js needs numbers only to draw.
(() => {
  const MOVEMENTS = [
    ["new", "New", "#2f9e44"], ["expansion_seats", "Expansion: seats", "#37b24d"],
    ["expansion_regions", "Expansion: regions", "#74b816"], ["expansion_products", "Expansion: new products", "#1c7ed6"],
    ["expansion_plan", "Expansion: plan / price", "#4dabf7"], ["reactivation", "Reactivation", "#7048e8"],
    ["contraction", "Contraction", "#f08c00"], ["churn", "Churn", "#e03131"],
  ];
  const COLOURS = ["#3b5bdb", "#e8590c", "#0ca678", "#ae3ec9"];
  const charts = {};
  window.salesCharts = charts;

  const unique = (values) => [...new Set(values)];
  const options = (extra = {}) => ({ responsive: true, maintainAspectRatio: false, animation: false, ...extra });

  function draw(canvas, config) {
    const name = canvas.dataset.chart;
    if (charts[name]) charts[name].destroy();
    charts[name] = new Chart(canvas, config);
  }

  function mrr(canvas, table) {
    const months = unique(table.rows.map((r) => r.month));
    const datasets = unique(table.rows.map((r) => r.currency)).map((currency, i) => ({
      label: currency, borderColor: COLOURS[i % COLOURS.length], backgroundColor: COLOURS[i % COLOURS.length],
      data: months.map((m) => Number((table.rows.find((r) => r.month === m && r.currency === currency) || {}).mrr || 0)),
    }));
    draw(canvas, { type: "line", data: { labels: months, datasets }, options: options() });
  }

  function movements(canvas, table) {
    const select = document.querySelector("[data-currency]");
    const currencies = unique(table.rows.map((r) => r.currency));
    if (select && !select.options.length) {
      currencies.forEach((c) => select.add(new Option(c, c)));
      select.addEventListener("change", () => movements(canvas, table));
    }
    const currency = (select && select.value) || currencies[0];
    const rows = table.rows.filter((r) => r.currency === currency);
    const datasets = MOVEMENTS.map(([key, label, colour]) => ({
      label, backgroundColor: colour, data: rows.map((r) => Number(r[key] || 0)),
    }));
    draw(canvas, {
      type: "bar", data: { labels: rows.map((r) => r.month), datasets },
      options: options({ scales: { x: { stacked: true }, y: { stacked: true } } }),
    });
  }

  function conversion(canvas, table) {
    const rows = table.rows.filter((r) => r.product === "All products");
    draw(canvas, {
      type: "bar",
      data: {
        labels: rows.map((r) => r.week),
        datasets: [
          { label: "Trials", backgroundColor: "#adb5bd", data: rows.map((r) => r.trials) },
          { label: "Converted", backgroundColor: "#2f9e44", data: rows.map((r) => r.converted) },
        ],
      },
      options: options(),
    });
  }

  function seats(canvas, table) {
    draw(canvas, {
      type: "bar",
      data: {
        labels: table.rows.map((r) => r.product),
        datasets: [
          { label: "Purchased", backgroundColor: "#3b5bdb", data: table.rows.map((r) => r.purchased) },
          { label: "In use", backgroundColor: "#0ca678", data: table.rows.map((r) => r.used) },
        ],
      },
      options: options(),
    });
  }

  const DRAW = { mrr, movements, conversion, seats };

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      fetch(canvas.dataset.source, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((response) => {
          if (!response.ok) throw new Error(`${response.status} ${canvas.dataset.source}`);
          return response.json();
        })
        .then((table) => DRAW[canvas.dataset.chart](canvas, table))
        .catch((error) => { canvas.closest("figure").dataset.error = String(error); });
    });
  });
})();
