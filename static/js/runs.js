// Run page enhancements: a sortable leaderboard and an event list that follows new events.
(() => {
  function cellValue(row, index) {
    const cell = row.children[index];
    return cell ? (cell.dataset.value ?? cell.textContent.trim()) : "";
  }

  function sortTable(button) {
    const th = button.closest("th");
    const table = button.closest("table");
    const index = Array.from(th.parentNode.children).indexOf(th);
    const numeric = button.dataset.sort === "number";
    const ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("thead th").forEach((h) => h.removeAttribute("aria-sort"));
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    rows.sort((a, b) => {
      const x = cellValue(a, index);
      const y = cellValue(b, index);
      let order;
      if (numeric) {
        const nx = x === "" ? NaN : Number(x);
        const ny = y === "" ? NaN : Number(y);
        if (Number.isNaN(nx) && Number.isNaN(ny)) order = 0;
        else if (Number.isNaN(nx)) return 1; // blanks last, either way
        else if (Number.isNaN(ny)) return -1;
        else order = nx - ny;
      } else {
        order = x.localeCompare(y);
      }
      return ascending ? order : -order;
    });
    rows.forEach((row) => body.appendChild(row));
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("table.sortable button.sort");
    if (button) sortTable(button);
  });

  function followEvents() {
    const list = document.getElementById("run-events");
    if (list) list.scrollTop = list.scrollHeight;
  }
  // The experiment page's "Run N submitted: Queued…" notice follows the runs list, which
  // polls while a run is active, so it never reads "Queued" after the run has finished.
  function followSubmitted() {
    document.querySelectorAll("[data-submitted-run]").forEach((status) => {
      const row = document.querySelector(
        `#runs-list tr[data-run-id="${status.dataset.submittedRun}"]`,
      );
      if (row && row.dataset.statusDetail) status.textContent = row.dataset.statusDetail;
    });
  }
  document.addEventListener("htmx:afterSettle", followSubmitted);
  document.addEventListener("DOMContentLoaded", followEvents);
  document.addEventListener("htmx:afterSettle", followEvents);
})();
