// A lightbox for run plots: a click on a thumbnail (a[data-lightbox]) shows the full-size
// image in a modal <dialog>; Escape, the Close button or a click on the backdrop closes it.
// Without JavaScript the link still opens the image itself.
(() => {
  let dialog;

  function build() {
    dialog = document.createElement("dialog");
    dialog.className = "lightbox";
    dialog.setAttribute("aria-label", "Plot, full size");
    const close = document.createElement("button");
    close.type = "button";
    close.className = "btn btn-small lightbox-close";
    close.textContent = "Close";
    close.addEventListener("click", () => dialog.close());
    const figure = document.createElement("figure");
    const img = document.createElement("img");
    const caption = document.createElement("figcaption");
    figure.append(img, caption);
    dialog.append(close, figure);
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) dialog.close();
    });
    document.body.appendChild(dialog);
    return dialog;
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-lightbox]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    const box = dialog || build();
    const img = box.querySelector("img");
    img.src = link.href;
    img.alt = link.querySelector("img")?.alt || "";
    box.querySelector("figcaption").textContent = link.dataset.caption || img.alt;
    box.showModal();
  });
})();
