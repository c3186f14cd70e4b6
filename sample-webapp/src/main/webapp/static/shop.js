// Marks the current page's navigation link, and shows which node serves the visitor now: a page
// from the shared cache was rendered by whichever node rendered it first.
document.addEventListener("DOMContentLoaded", () => {
  for (const link of document.querySelectorAll("nav a")) {
    if (link.pathname === location.pathname) {
      link.style.fontWeight = "700";
    }
  }
  const node = document.getElementById("node");
  if (node && node.dataset.live !== undefined) {
    fetch(node.dataset.live, { cache: "no-store" })
      .then((response) => (response.ok ? response.text() : null))
      .then((name) => { if (name) { node.textContent = name; } })
      .catch(() => {});
  }
});
