// Apply the saved theme before first paint (no light flash in dark mode). A file, not an inline
// script, so the Content-Security-Policy can stay `script-src 'self'`.
(() => {
  const t = localStorage.getItem("ui-theme") || "system";
  const dark = t === "dark" || (t === "system" && window.matchMedia("(prefers-color-scheme: dark)").matches);
  if (dark) document.documentElement.classList.add("dark");
})();
