// Metric charts: each <canvas data-chart="id"> draws the JSON in <script id="id">.
// Numbers show on hover; the table under each chart carries the same figures.
(function () {
  "use strict";
  if (!window.Chart) return;
  var palette = ["#0d6efd", "#198754", "#fd7e14", "#6f42c1"];
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    var spec = JSON.parse(source.textContent);
    var unit = spec.unit || "";
    new window.Chart(canvas, {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (ds, i) {
          return {
            label: ds.label,
            data: ds.data,
            borderColor: palette[i % palette.length],
            backgroundColor: spec.type === "bar" ? palette[i % palette.length] : "transparent",
            pointRadius: spec.labels.length > 45 ? 0 : 2,
            spanGaps: true,
            tension: 0
          };
        })
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var v = ctx.parsed.y;
                if (v === null || v === undefined) return ctx.dataset.label + ": —";
                return ctx.dataset.label + ": " + (unit === "¥" ? "¥" + v : v + unit);
              }
            }
          }
        },
        scales: { y: { beginAtZero: true } }
      }
    });
  });
})();
