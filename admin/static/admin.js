// Row action menus: one open at a time; Escape closes the open one and returns focus to it.
document.addEventListener("toggle", (event) => {
  const opened = event.target;
  if (!(opened instanceof HTMLDetailsElement) || !opened.open || !opened.classList.contains("menu")) return;
  document.querySelectorAll("details.menu[open]").forEach((menu) => { if (menu !== opened) menu.open = false; });
  const first = opened.querySelector("a");
  if (first) first.focus();
}, true);
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const open = document.querySelector("details.menu[open]");
  if (open) { open.open = false; open.querySelector("summary").focus(); }
});
