// Small progressive enhancements; every page works without them.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy-target]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copyTarget);
  if (source && navigator.clipboard) {
    navigator.clipboard.writeText(source.textContent.trim()).then(() => {
      button.textContent = "Copied";
    });
  }
});

// A button that dismisses something on the page: the element its data-dismiss-target names.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-dismiss-target]");
  if (!button) return;
  const target = document.querySelector(button.dataset.dismissTarget);
  if (target) target.remove();
});

// A select that submits its form as soon as it changes (its form has a <noscript> button).
document.addEventListener("change", (event) => {
  const select = event.target.closest && event.target.closest("[data-autosubmit]");
  if (select && select.form) select.form.requestSubmit();
});

// Swap refusals in place too, so a form or a copilot shows its message: validation (422),
// conflicts (409), oversized uploads and storage quotas (413) and throttles and quotas (429)
// anywhere; a wrong run state (400) only inside a copilot, whose refusals are messages to show;
// a refused role change (403) only where a fragment marks itself [data-show-refusals].
document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  const target = event.detail.target;
  const inCopilot = Boolean(target && target.closest && target.closest(".copilot"));
  const showsRefusals = Boolean(target && target.closest && target.closest("[data-show-refusals]"));
  const anywhere = status === 409 || status === 413 || status === 422 || status === 429;
  const copilotOnly = status === 400;
  if (anywhere || (copilotOnly && inCopilot) || (status === 403 && showsRefusals)) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// A table wider than its card scrolls inside it (.table-wrap): keyboard users reach it with Tab
// and scroll it with the arrow keys, and screen readers announce it by the table's name (its
// aria-label, caption or aria-labelledby, else the heading above it). Markup that sets these
// itself keeps them.
function labelScrollRegions(root) {
  const scope = root && root.querySelectorAll ? root : document;
  const wraps = [...scope.querySelectorAll(".table-wrap")];
  if (scope.matches && scope.matches(".table-wrap")) wraps.push(scope);
  for (const wrap of wraps) {
    if (!wrap.hasAttribute("tabindex")) wrap.setAttribute("tabindex", "0");
    if (!wrap.hasAttribute("role")) wrap.setAttribute("role", "region");
    if (wrap.hasAttribute("aria-label") || wrap.hasAttribute("aria-labelledby")) continue;
    const table = wrap.querySelector("table");
    let name = table && (table.getAttribute("aria-label") || (table.caption && table.caption.textContent));
    const labelledBy = table && table.getAttribute("aria-labelledby");
    if (!name && labelledBy) {
      const label = document.getElementById(labelledBy.split(" ")[0]);
      name = label && label.textContent;
    }
    if (!name) {
      const section = wrap.closest("section, aside, details, main");
      const heading = section && section.querySelector("h1, h2, h3, h4, summary");
      name = heading && heading.textContent;
    }
    wrap.setAttribute("aria-label", (name || "Table").trim().replace(/\s+/g, " ") + " (scrollable)");
  }
}
document.addEventListener("DOMContentLoaded", () => labelScrollRegions(document));
document.addEventListener("htmx:afterSettle", (event) => labelScrollRegions(event.detail.elt));
