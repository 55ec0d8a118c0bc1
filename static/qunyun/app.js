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

  // <table class="table-cards">: on phones each row is a card (app.css); every cell carries
  // its column's header as data-label, shown before the value.
  function labelTableCells(root) {
    root.querySelectorAll("table.table-cards").forEach(function (table) {
      var heads = table.tHead ? Array.prototype.map.call(
        table.tHead.rows[0].cells, function (th) { return th.textContent.trim(); }) : [];
      Array.prototype.forEach.call(table.querySelectorAll("tbody tr, tfoot tr"), function (tr) {
        var column = 0;
        Array.prototype.forEach.call(tr.cells, function (cell) {
          if (cell.tagName === "TD" && !cell.hasAttribute("data-label") && heads[column]) {
            cell.setAttribute("data-label", heads[column]);
          }
          column += cell.colSpan || 1;
        });
      });
    });
  }

  // <select data-show-for="kind"> shows the fields of the chosen value only: a field's
  // wrapper says which values it belongs to with data-show-when="kind" data-show-values="a b".
  function showFieldsFor(select) {
    var form = select.form || document;
    form.querySelectorAll('[data-show-when="' + select.name + '"]').forEach(function (el) {
      var values = (el.dataset.showValues || "").split(" ");
      el.hidden = values.indexOf(select.value) === -1;
    });
  }

  function enhance(root) {
    applyDataStyles(root);
    labelTableCells(root);
    root.querySelectorAll("select[data-show-for]").forEach(showFieldsFor);
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  // htmx swaps (polling live pages, filters) bring new elements.
  document.addEventListener("htmx:load", function (event) {
    enhance(event.detail.elt.parentNode || document);
  });
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-show-for]")) showFieldsFor(el);
  });

  // <select data-autosubmit>: a filter that applies as soon as it changes.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) el.form.submit();
  });
})();
