// Keyboard shortcuts for the review queue: the console's only script (no inline script:
// the Content-Security-Policy allows scripts from this origin alone).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const items = Array.from(document.querySelectorAll("ol.queue > li.item"));
  let current = -1;
  const select = (index) => {
    if (!items.length) return;
    current = Math.max(0, Math.min(items.length - 1, index));
    items.forEach((item, i) => item.classList.toggle("selected", i === current));
    items[current].focus();
    items[current].scrollIntoView({block: "nearest"});
  };
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement ||
        target instanceof HTMLSelectElement) return;
    if (event.key === "j") select(current + 1);
    else if (event.key === "k") select(current - 1);
    else if (event.key === "/") {
      const filter = document.querySelector("form.filters input[type=text], form.filters input[type=search]");
      if (filter) { event.preventDefault(); filter.focus(); }
    } else if ((event.key === "s" || event.key === "h") && current >= 0) {
      const button = items[current].querySelector(`button[data-key="${event.key}"]`);
      if (button) button.click();
    } else return;
  });
});
