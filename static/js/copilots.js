// Copilot modals and cards. Opening a copilot dialog is the consent to ask it, so the dialog
// fires its consultation when it opens (once per page view); cards ask only on their button.
// A refused consultation (400, 429) is swapped in by studio.js's shared htmx:beforeSwap handler.
(() => {
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-copilot-dialog]");
    if (!form || !window.htmx) return; // without htmx the form posts and a page answers
    const dialog = document.querySelector(form.dataset.copilotDialog);
    if (!dialog || typeof dialog.showModal !== "function") return;
    event.preventDefault();
    if (!dialog.open) dialog.showModal();
    const body = dialog.querySelector("[data-copilot-body]");
    if (body && !body.dataset.asked) {
      body.dataset.asked = "1";
      window.htmx.trigger(body, "copilot-open");
    }
  });

  // "Apply" fills in the experiment form on the page: close the dialog to show it.
  document.addEventListener("htmx:afterRequest", (event) => {
    const source = event.detail.elt;
    if (source && source.matches && source.matches("[data-copilot-apply]")) {
      const dialog = source.closest("dialog");
      if (dialog && dialog.open) dialog.close();
    }
  });
})();
