// DOM helpers shared by the demo page's modules: element building (text only, never HTML), notifications, busy
// buttons, the confirm dialog and the number/time formats.

export const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** Creates an element: h("button", { class: "btn", onclick: fn }, "Text", child). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v == null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  el.append(...children.flat().filter((c) => c != null && c !== false));
  return el;
}

const ARABIC_SCRIPT = /[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]/;
/** "fa" when the first letter is Persian/Arabic script: picks the font and helps screen readers. */
export function langOf(text) {
  const first = text.match(/[A-Za-z\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]/);
  return first && ARABIC_SCRIPT.test(first[0]) ? "fa" : "en";
}

export const numberFmt = new Intl.NumberFormat("en");
export const compactFmt = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });
const relFmt = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function relativeTime(iso) {
  const s = (Date.parse(iso) - Date.now()) / 1000;
  const abs = Math.abs(s);
  if (abs < 45) return "just now";
  if (abs < 3600) return relFmt.format(Math.round(s / 60), "minute");
  if (abs < 86400) return relFmt.format(Math.round(s / 3600), "hour");
  if (abs < 7 * 86400) return relFmt.format(Math.round(s / 86400), "day");
  return new Date(iso).toLocaleDateString();
}

/**
 * Shows a notification.
 * @param {string} message
 * @param {{ kind?: "error" | "info" | "success", timeout?: number, action?: { label: string, run: () => void } }} [options]
 */
export function toast(message, { kind = "error", timeout, action } = {}) {
  const close = () => el.remove();
  const el = h(
    "div",
    { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" },
    h("p", {}, message),
    action && h("button", { type: "button", class: "btn btn-small btn-ghost", onclick: () => (close(), action.run()) }, action.label),
    h("button", { type: "button", class: "toast-close", "aria-label": "Dismiss", onclick: close }, "×"),
  );
  $("toasts").append(el);
  const ms = timeout ?? (kind === "error" ? 12_000 : 5_000);
  if (ms > 0) setTimeout(close, ms);
  return el;
}

export function setBusy(button, busy, busyLabel) {
  if (busy) {
    button.dataset.idleLabel = button.textContent;
    button.textContent = busyLabel;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
  } else {
    if (button.dataset.idleLabel && !button.dataset.timer) button.textContent = button.dataset.idleLabel;
    if (!button.dataset.timer) button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/** A modal confirm built on <dialog>; resolves true when confirmed. */
export function confirmDialog(text, okLabel = "Delete") {
  const dialog = /** @type {HTMLDialogElement} */ ($("confirm-dialog"));
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = okLabel;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true }));
}

/** Saves a Blob under a file name (an <a download> click). */
export function saveBlob(url, filename) {
  const a = h("a", { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
}
