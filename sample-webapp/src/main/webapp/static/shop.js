// Marks the current page's navigation link; the shop works without it.
document.addEventListener("DOMContentLoaded", () => {
  for (const link of document.querySelectorAll("nav a")) {
    if (link.pathname === location.pathname) {
      link.style.fontWeight = "700";
    }
  }
});
