// The console's one script (no inline script anywhere): keyboard shortcuts on the queue,
// confirmations for destructive forms, live counts over server-sent events with an
// optional sound for urgent items, and the Markdown preview of coaches' answers.
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

for (const form of $$("form[data-confirm]")) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}

const rows = $$("[data-keyboard-list] > li");
let current = -1;
function select(i) {
  if (!rows.length) return;
  current = Math.max(0, Math.min(rows.length - 1, i));
  rows.forEach((r, n) => r.classList.toggle("selected", n === current));
  rows[current].focus();
}
const help = document.getElementById("help");
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || typing(document.activeElement)) return;
  const key = event.key;
  if (key === "?" && help) { help.hidden = !help.hidden; if (!help.hidden) help.querySelector("button").focus(); return; }
  if (key === "Escape" && help) { help.hidden = true; return; }
  if (key === "j") select(current + 1);
  else if (key === "k") select(current - 1);
  else if ((key === "a" || key === "r" || key === "s" || key === "e") && rows.length && current >= 0) {
    window.location.href = rows[current].dataset.itemUrl + "#" + key;
  } else if (key === "a" || key === "r" || key === "s") {
    const button = document.querySelector(`[data-key="${key}"]`);
    if (button) { if (key === "a") button.click(); else button.closest("form").querySelector("#reason")?.focus(); }
  } else if (key === "e") {
    document.querySelector('[data-key-target="e"]')?.focus();
  } else return;
  event.preventDefault();
});
for (const b of $$("[data-close-help]")) b.addEventListener("click", () => { help.hidden = true; });
if (location.hash.length === 2) {
  const key = location.hash.slice(1);
  if (key === "r" || key === "s") document.getElementById("reason")?.focus();
  if (key === "e") document.querySelector('[data-key-target="e"]')?.focus();
}

const counters = $$("[data-count]");
if (counters.length && "EventSource" in window) {
  const alert = document.getElementById("live-alert");
  let lastUrgent = null;
  const source = new EventSource("/console/events");
  source.addEventListener("counts", (event) => {
    const counts = JSON.parse(event.data);
    for (const el of counters) {
      const value = counts[el.dataset.count];
      if (value !== undefined) el.textContent = String(value);
    }
    if (lastUrgent !== null && counts.urgent > lastUrgent && alert) {
      alert.textContent = alert.dataset.text || document.getElementById("forum-i18n") &&
        JSON.parse(document.getElementById("forum-i18n").textContent)["console.alert.urgent"];
      alert.hidden = false;
      if (document.getElementById("sound-alerts")?.checked) beep();
    }
    lastUrgent = counts.urgent;
  });
}
function beep() {
  try {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    osc.connect(ctx.destination);
    osc.frequency.value = 660;
    osc.start();
    osc.stop(ctx.currentTime + 0.25);
  } catch { /* no sound: the visible alert stays */ }
}

for (const area of $$("textarea[data-preview]")) {
  const out = document.getElementById(area.dataset.preview);
  let timer;
  area.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      try {
        const r = await fetch("/api/preview", { method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ body: area.value }) });
        if (r.ok) out.innerHTML = (await r.json()).html;
      } catch { /* the preview is a convenience */ }
    }, 400);
  });
}
