// Keyboard shortcuts (j/k: next/previous unreviewed, a: accept the suggestion) and the
// selected passage copied into the excerpt form. No library, nothing from a CDN.
document.addEventListener("keydown", (event) => {
  const tag = (event.target.tagName || "").toLowerCase();
  if (["input", "textarea", "select"].includes(tag) || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = document.querySelector(`[data-key="${event.key}"]`);
  if (!target) return;
  event.preventDefault();
  target.click();
});
document.addEventListener("mouseup", () => {
  const quote = document.getElementById("quote");
  const selected = window.getSelection().toString().trim();
  if (quote && selected && window.getSelection().anchorNode && document.querySelector(".text").contains(window.getSelection().anchorNode)) {
    quote.value = selected;
  }
});
