// Page behaviour that would otherwise be inline: the Content-Security-Policy allows only
// same-origin script files and no inline script or style attributes.
(function () {
  "use strict";

  // Widths and shades computed on the server arrive as data attributes; styles set through
  // the CSSOM are allowed where style="" attributes are not.
  function applyDataStyles(root) {
    root.querySelectorAll("[data-width]").forEach(function (el) {
      el.style.width = Number(el.dataset.width || 0) + "%";
    });
    root.querySelectorAll("[data-heat]").forEach(function (el) {
      el.style.background = "rgba(13,110,253," + Number(el.dataset.heat || 0) / 100 + ")";
    });
  }

  document.addEventListener("DOMContentLoaded", function () { applyDataStyles(document); });
  // htmx swaps (polling live pages, filters) bring new elements.
  document.addEventListener("htmx:load", function (event) {
    applyDataStyles(event.detail.elt.parentNode || document);
  });

  // <select data-autosubmit>: a filter that applies as soon as it changes.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) el.form.submit();
  });
})();
