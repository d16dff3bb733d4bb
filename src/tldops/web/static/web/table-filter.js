/* Filters the rows of long tables (every ccTLD: 309 rows) as one types, without a round trip.
 *
 * An <input data-filter-tables="id1 id2"> hides the <tbody> rows of those tables whose
 * data-search attribute (or, without one, text) does not contain what was typed; case, accents
 * and a leading dot are ignored. data-filter-status names an element that gets the count.
 * The input sits in a GET form with name="q": without script, submitting it filters on the server
 * (?q=), so the page works the same either way. No inline script: the CSP forbids it.
 */
(function () {
  "use strict";

  function fold(text) {
    return (text || "")
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .trim()
      .replace(/^\.+/, "");
  }

  function setup(input) {
    var ids = (input.getAttribute("data-filter-tables") || "").split(/\s+/).filter(Boolean);
    var status = document.getElementById(input.getAttribute("data-filter-status") || "");
    var template = input.getAttribute("data-filter-template") || "{n} / {total}";
    var rows = [];
    ids.forEach(function (id) {
      var table = document.getElementById(id);
      if (!table) return;
      Array.prototype.forEach.call(table.tBodies, function (body) {
        Array.prototype.forEach.call(body.rows, function (row) {
          rows.push({ row: row, text: fold(row.getAttribute("data-search") || row.textContent) });
        });
      });
    });

    function apply() {
      var query = fold(input.value);
      var shown = 0;
      rows.forEach(function (item) {
        var match = !query || item.text.indexOf(query) !== -1;
        item.row.hidden = !match;
        if (match) shown += 1;
      });
      if (status) {
        status.textContent = query
          ? template.replace("{n}", String(shown)).replace("{total}", String(rows.length))
          : "";
      }
    }

    input.addEventListener("input", apply);
    input.addEventListener("search", apply);
    if (input.value) apply();
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-filter-tables]"), setup);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
