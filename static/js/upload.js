// Dataset upload: drag-and-drop onto the drop zone, an upload progress bar, and inline errors.
// Without JavaScript the forms still post normally and the server answers with a full page.
(() => {
  // Inline 413/422 errors are swapped in by studio.js's shared htmx:beforeSwap handler.

  const formOf = (element) => element && element.closest && element.closest("[data-upload-form]");

  const checkSize = (input) => {
    const form = formOf(input);
    const limit = Number(form && form.dataset.maxBytes);
    const file = input.files && input.files[0];
    const name = form && form.querySelector("[data-dropzone-name]");
    if (name) name.textContent = file ? `Selected: ${file.name}` : "";
    if (file && limit && file.size > limit) {
      const mb = Math.round(limit / (1024 * 1024));
      input.setCustomValidity(`This file is larger than the upload limit of ${mb} MB.`);
      input.reportValidity();
    } else {
      input.setCustomValidity("");
    }
  };

  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-upload-form] input[type=file]")) checkSize(event.target);
  });

  const zoneOf = (event) => event.target.closest && event.target.closest("[data-dropzone]");

  ["dragenter", "dragover"].forEach((type) => {
    document.addEventListener(type, (event) => {
      const zone = zoneOf(event);
      if (!zone) return;
      event.preventDefault();
      zone.classList.add("dragover");
    });
  });
  document.addEventListener("dragleave", (event) => {
    const zone = zoneOf(event);
    if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("dragover");
  });
  document.addEventListener("drop", (event) => {
    const zone = zoneOf(event);
    if (!zone) return;
    event.preventDefault();
    zone.classList.remove("dragover");
    const input = zone.querySelector("input[type=file]");
    if (input && event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      checkSize(input);
    }
  });

  const progressOf = (event) => {
    const form = formOf(event.target);
    return form && form.querySelector("[data-upload-progress]");
  };

  document.addEventListener("htmx:beforeSend", (event) => {
    const box = progressOf(event);
    if (!box) return;
    box.hidden = false;
    const bar = box.querySelector("progress");
    bar.removeAttribute("value"); // indeterminate until the first progress event
  });
  document.addEventListener("htmx:xhr:progress", (event) => {
    const box = progressOf(event);
    if (!box || !event.detail.lengthComputable) return;
    const percent = Math.round((100 * event.detail.loaded) / event.detail.total);
    const bar = box.querySelector("progress");
    bar.value = percent;
    bar.textContent = `${percent}%`;
    const label = box.querySelector("label");
    if (label) label.textContent = percent < 100 ? `Uploading… ${percent}%` : "Checking the file…";
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const box = progressOf(event);
    if (box) box.hidden = true;
  });
})();
