// DocuChat demo page: login, PDF upload with progress, document list (private and collection documents), and chat
// over the WebSocket; owners and admins also get the admin view (admin.js).
// No framework: small DOM helpers, one state object per area, everything rendered with textContent (never HTML
// from the server or the documents), except answers: Markdown, rendered and sanitised by markdown.js.
import { createAdmin } from "./admin.js";
import { ApiError, createApi, describeError, formatSeconds } from "./api.js";
import { renderMarkdown } from "./markdown.js";
import { $, compactFmt, confirmDialog, formatBytes, h, langOf, numberFmt, relativeTime, saveBlob, setBusy, toast } from "./ui.js";

const MAX_UPLOAD_BYTES = 25 * 1024 * 1024;
const POLL_MS = 700;
const PING_MS = 25_000;
const STORE = window.sessionStorage;
const KEYS = { token: "docuchat.token", tenant: "docuchat.tenant", user: "docuchat.user" };

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

const pageRange = (c) => (c.page_start === c.page_end ? `${c.page_start}` : `${c.page_start}–${c.page_end}`);

/** Disables a button for `seconds`, with a countdown in its label. */
function cooldown(button, seconds) {
  const label = button.dataset.label ?? button.textContent;
  button.dataset.label = label;
  clearInterval(Number(button.dataset.timer));
  let left = seconds;
  const tick = () => {
    if (left <= 0) {
      clearInterval(Number(button.dataset.timer));
      delete button.dataset.timer;
      button.disabled = false;
      button.textContent = label;
      return;
    }
    button.disabled = true;
    button.textContent = `${label} (${formatSeconds(left)})`;
    left -= 1;
  };
  tick();
  button.dataset.timer = String(setInterval(tick, 1000));
}

// ---------------------------------------------------------------------------------------------------------------
// Session (who is logged in)

const auth = {
  tenant: STORE.getItem(KEYS.tenant) || "demo",
  token: STORE.getItem(KEYS.token),
  user: JSON.parse(STORE.getItem(KEYS.user) || "null"),
  /** GET /v1/me: the role says whether the admin view is offered */
  me: null,
  email: "",
};

const api = createApi({
  tenant: () => auth.tenant,
  token: () => auth.token,
  onUnauthorized: () => signOut("Your session has expired. Please sign in again."),
});

function showLogin(message) {
  $("app-view").hidden = true;
  $("account").hidden = true;
  $("login-view").hidden = false;
  /** @type {HTMLInputElement} */ ($("tenant")).value = auth.tenant;
  $("request-form").hidden = false;
  $("verify-form").hidden = true;
  loginError(message ?? "");
  /** @type {HTMLInputElement} */ ($("tenant").value ? $("email") : $("tenant")).focus();
}

function loginError(message) {
  $("login-error").textContent = message;
}

async function requestCode() {
  const tenantInput = /** @type {HTMLInputElement} */ ($("tenant"));
  const emailInput = /** @type {HTMLInputElement} */ ($("email"));
  const tenant = tenantInput.value.trim().toLowerCase();
  const email = emailInput.value.trim();
  if (!/^[a-z0-9_-]{1,63}$/.test(tenant)) return (loginError("The workspace is 1–63 lowercase letters, digits, “-” or “_”."), tenantInput.focus());
  if (!email || !emailInput.checkValidity()) return (loginError("Enter a valid email address."), emailInput.focus());
  loginError("");
  auth.tenant = tenant;
  auth.email = email;
  const button = $("send-code");
  setBusy(button, true, "Sending…");
  try {
    const res = await api.post("/v1/auth/request-code", { email }, { auth: false });
    showVerify(email, res.dev_code);
  } catch (err) {
    loginError(describeError(err));
    if (err instanceof ApiError && err.status === 429 && err.retryAfter) {
      cooldown(button, err.retryAfter);
      cooldown($("resend"), err.retryAfter);
      // A code was sent a moment ago: it still works.
      if (err.code === "resend_cooldown") showVerify(email, null, { keepCode: true, keepError: true });
    }
  } finally {
    setBusy(button, false);
  }
}

function showVerify(email, devCode, { keepCode = false, keepError = false } = {}) {
  const wasShown = !$("verify-form").hidden;
  $("request-form").hidden = true;
  $("verify-form").hidden = false;
  $("code-email").textContent = email;
  const code = /** @type {HTMLInputElement} */ ($("code"));
  if (!keepCode) {
    $("dev-code").hidden = !devCode;
    $("dev-code-value").textContent = devCode ?? "";
    code.value = devCode ?? "";
  }
  if (!keepError) loginError("");
  if (!wasShown || devCode) (code.value.length === 6 ? $("verify") : code).focus();
}

async function verifyCode() {
  const code = /** @type {HTMLInputElement} */ ($("code")).value.trim();
  if (!/^\d{6}$/.test(code)) return (loginError("The code has 6 digits."), $("code").focus());
  const button = $("verify");
  setBusy(button, true, "Verifying…");
  try {
    const res = await api.post("/v1/auth/verify-code", { email: auth.email, code }, { auth: false });
    auth.token = res.access_token;
    auth.user = res.user;
    STORE.setItem(KEYS.token, auth.token);
    STORE.setItem(KEYS.tenant, auth.tenant);
    STORE.setItem(KEYS.user, JSON.stringify(auth.user));
    loginError("");
    showApp();
  } catch (err) {
    loginError(describeError(err));
    if (err instanceof ApiError && err.status === 429 && err.retryAfter) cooldown(button, err.retryAfter);
  } finally {
    setBusy(button, false);
  }
}

function showApp() {
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  $("account").hidden = false;
  $("user-email").textContent = auth.user?.email ?? "";
  $("user-email").title = `Signed in to workspace “${auth.tenant}”`;
  newChat();
  void loadCollections().then(() => loadDocs());
  void loadSessions();
  void refreshUsage();
  api.get("/v1/me").then(
    (me) => {
      $("user-email").textContent = me.email;
      auth.me = me;
      // The server decides what an admin may do; this only decides whether to offer the view.
      $("admin-toggle").hidden = !(me.role === "owner" || me.role === "admin");
    },
    () => {},
  );
  $("question").focus();
}

// ---------------------------------------------------------------------------------------------------------------
// Admin view

/** @type {ReturnType<typeof createAdmin> | null} built on first opening, for the signed-in admin */
let admin = null;

function showAdmin(on) {
  $("admin-view").hidden = !on;
  $("app-view").hidden = on;
  $("admin-toggle").textContent = on ? "Back to chat" : "Admin";
  $("admin-toggle").setAttribute("aria-expanded", String(on));
  if (on) {
    admin ??= createAdmin({ api, me: () => auth.me, collectionsChanged: () => void loadCollections() });
    $("admin-org").textContent = `Workspace “${auth.tenant}”`;
    admin.open();
  }
}

function signOut(message) {
  if (!auth.token) return;
  auth.token = null;
  auth.user = null;
  for (const k of [KEYS.token, KEYS.user]) STORE.removeItem(k);
  closeSocket();
  chat.sessionId = null;
  chat.current = null;
  setStreaming(false);
  resetDocs();
  showAdmin(false);
  admin = null;
  auth.me = null;
  $("admin-toggle").hidden = true;
  collections.list = [];
  renderCollectionControls();
  chat.sessions = [];
  renderSessions();
  $("messages").replaceChildren();
  showLogin(message);
}

// ---------------------------------------------------------------------------------------------------------------
// Usage indicator

let usageTimer = 0;
function refreshUsage() {
  clearTimeout(usageTimer);
  usageTimer = setTimeout(async () => {
    if (!auth.token) return;
    try {
      const u = await api.get("/v1/usage");
      const day = u.last_24h;
      const { limit } = u.daily_budget.user;
      const tenantLeft = u.daily_budget.tenant.remaining_fraction;
      const meter = /** @type {HTMLMeterElement} */ ($("usage-meter"));
      meter.max = limit > 0 ? limit : 1;
      meter.value = limit > 0 ? Math.min(day.total_tokens, limit) : 0;
      meter.high = meter.max * 0.9;
      meter.low = meter.max * 0.7;
      $("usage-text").textContent =
        limit > 0 ? `${compactFmt.format(day.total_tokens)} / ${compactFmt.format(limit)}` : `${compactFmt.format(day.total_tokens)} (no limit)`;
      $("usage").title =
        `Last 24 h: ${numberFmt.format(day.total_tokens)} tokens in ${numberFmt.format(day.requests)} requests ` +
        `(prompt ${numberFmt.format(day.prompt_tokens)}, completion ${numberFmt.format(day.completion_tokens)}, ` +
        `embeddings ${numberFmt.format(day.embedding_tokens)}). Daily budget: ${limit > 0 ? numberFmt.format(limit) : "unlimited"}. ` +
        `Last 7 days: ${numberFmt.format(u.last_7d.total_tokens)} tokens. ` +
        `Organisation's daily budget: ${tenantLeft === null ? "unlimited" : `${Math.round(tenantLeft * 100)}% left`}.`;
    } catch {
      // The indicator is optional; a failure here is not worth an alert.
    }
  }, 250);
}

// ---------------------------------------------------------------------------------------------------------------
// Collections: the organisation's shared documents, beside the user's own

const collections = {
  /** GET /v1/collections: what the user can read, each with their access ("read" | "write") */
  list: /** @type {any[]} */ ([]),
  /** the document list shows: "all", "private" or a collection id */
  filter: "all",
};

const collectionOf = (id) => collections.list.find((c) => c.id === id);

async function loadCollections() {
  try {
    const res = await api.get("/v1/collections?limit=100");
    collections.list = res.collections;
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) toast(`Could not load the collections: ${describeError(err)}`);
  }
  renderCollectionControls();
}

/** Fills the three collection pickers; without any collection they stay hidden and the page is as before. */
function renderCollectionControls() {
  const options = (el, items, keep) => {
    const before = keep ? el.value : "";
    el.replaceChildren(...items.map(([value, label]) => h("option", { value }, label)));
    el.value = items.some(([v]) => v === before) ? before : (items[0]?.[0] ?? "");
  };
  const named = collections.list.map((c) => [c.id, c.name]);
  const writable = collections.list.filter((c) => c.access === "write").map((c) => [c.id, c.name]);
  const filter = /** @type {HTMLSelectElement} */ ($("doc-filter"));
  options(filter, [["all", "All documents"], ["private", "Only mine (private)"], ...named], true);
  collections.filter = filter.value || "all";
  options(/** @type {HTMLSelectElement} */ ($("upload-target")), [["", "Only me (private)"], ...writable], true);
  options(/** @type {HTMLSelectElement} */ ($("chat-collection")), [["", "All my documents and collections"], ...named], true);
  const any = collections.list.length > 0;
  $("doc-controls").hidden = !any;
  $("collection-scope").hidden = !any;
  for (const [id, row] of docs.rows) updateDocRow(row, docs.byId.get(id));
}

// ---------------------------------------------------------------------------------------------------------------
// Documents

const docs = {
  /** @type {Map<string, any>} */ byId: new Map(),
  /** @type {Map<string, HTMLLIElement>} */ rows: new Map(),
  cursor: /** @type {string | null} */ (null),
  /** file ids the chat is limited to */ selected: new Set(),
  /** @type {Map<string, number>} */ pollers: new Map(),
  /** @type {Map<string, Promise<string>>} */ blobUrls: new Map(),
  /** GET /v1/files/{id}/pages answers, by "id:from-to" */ pageTexts: new Map(),
  /** @type {Set<{ abort(): void }>} */ uploads: new Set(),
  loading: false,
};

const isTerminal = (d) => d.status === "ready" || d.status === "failed";

function resetDocs() {
  for (const t of docs.pollers.values()) clearTimeout(t);
  docs.pollers.clear();
  for (const u of docs.uploads) u.abort();
  docs.uploads.clear();
  for (const p of docs.blobUrls.values())
    p.then(
      (url) => URL.revokeObjectURL(url),
      () => {},
    );
  docs.blobUrls.clear();
  docs.pageTexts.clear();
  docs.byId.clear();
  docs.rows.clear();
  docs.selected.clear();
  docs.cursor = null;
  $("doc-list").replaceChildren();
  $("uploads").replaceChildren();
  updateDocsChrome();
  updateScope();
}

async function loadDocs({ more = false } = {}) {
  if (docs.loading) return;
  docs.loading = true;
  const button = $("load-more");
  if (more) setBusy(button, true, "Loading…");
  try {
    const query = new URLSearchParams({ limit: "20" });
    if (collections.filter === "private") query.set("private", "true");
    else if (collections.filter !== "all") query.set("collection_id", collections.filter);
    if (more && docs.cursor) query.set("cursor", docs.cursor);
    const res = await api.get(`/v1/files?${query}`);
    if (!more) {
      // A fresh first page: forget rows that are gone (deleted elsewhere, or outside the chosen filter).
      const keep = new Set(res.files.map((d) => d.id));
      for (const id of [...docs.byId.keys()]) if (!keep.has(id)) removeDoc(id);
    }
    for (const d of res.files) upsertDoc(d, { position: "end" });
    // Rows kept from before move into the page's order (newest first).
    if (!more) $("doc-list").append(...res.files.map((d) => docs.rows.get(d.id)));
    docs.cursor = res.next_cursor;
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) toast(`Could not load your documents: ${describeError(err)}`);
  } finally {
    docs.loading = false;
    if (more) setBusy(button, false);
    updateDocsChrome();
  }
}

function updateDocsChrome() {
  $("load-more").hidden = !docs.cursor;
  $("docs-empty").hidden = docs.byId.size > 0 || $("uploads").childElementCount > 0;
}

/** Adds or updates a document row; starts polling while it is being ingested. */
function upsertDoc(doc, { position = "start" } = {}) {
  const before = docs.byId.get(doc.id);
  docs.byId.set(doc.id, doc);
  let row = docs.rows.get(doc.id);
  if (!row) {
    row = buildDocRow(doc);
    docs.rows.set(doc.id, row);
    if (position === "start") $("doc-list").prepend(row);
    else $("doc-list").append(row);
  }
  updateDocRow(row, doc);
  if (!isTerminal(doc)) watchDoc(doc.id);
  else if (before && !isTerminal(before)) {
    if (doc.status === "ready") toast(`${doc.filename} is ready: ${doc.page_count} pages, ${doc.chunk_count} chunks.`, { kind: "success" });
    else toast(`${doc.filename} could not be processed: ${doc.error?.message ?? "unknown error"}`);
    refreshUsage();
  }
  updateDocsChrome();
}

function removeDoc(id) {
  clearTimeout(docs.pollers.get(id));
  docs.pollers.delete(id);
  docs.rows.get(id)?.remove();
  docs.rows.delete(id);
  docs.byId.delete(id);
  docs.blobUrls.get(id)?.then(
    (url) => URL.revokeObjectURL(url),
    () => {},
  );
  docs.blobUrls.delete(id);
  for (const key of [...docs.pageTexts.keys()]) if (key.startsWith(`${id}:`)) docs.pageTexts.delete(key);
  if (docs.selected.delete(id)) updateScope();
  updateDocsChrome();
}

function buildDocRow(doc) {
  const nameId = `doc-name-${doc.id}`;
  const pick = h("input", { type: "checkbox", class: "doc-pick", "aria-describedby": nameId });
  pick.addEventListener("change", () => {
    if (pick.checked) docs.selected.add(doc.id);
    else docs.selected.delete(doc.id);
    updateScope();
  });
  const row = h(
    "li",
    { class: "doc", "data-id": doc.id },
    h("div", { class: "doc-top" }, pick, h("span", { class: "doc-name", id: nameId, dir: "auto" }), h("span", { class: "badge" })),
    h("div", { class: "doc-meta" }),
    h("details", { class: "doc-warnings", hidden: true }, h("summary", {}), h("ul", {})),
    h(
      "div",
      { class: "doc-progress" },
      h("progress", { max: "1", "aria-label": `Ingestion progress of ${doc.filename}` }),
      h("span", { class: "doc-progress-text" }),
    ),
    h("p", { class: "doc-error", role: "note" }),
    h(
      "div",
      { class: "doc-actions" },
      h("button", { type: "button", class: "btn btn-ghost btn-small", "data-action": "download", onclick: () => downloadDoc(doc.id) }, "Download"),
      h(
        "button",
        { type: "button", class: "btn btn-ghost btn-small btn-danger-text", "data-action": "delete", onclick: () => deleteDoc(doc.id) },
        "Delete",
      ),
    ),
  );
  return row;
}

function updateDocRow(row, doc) {
  row.dataset.status = doc.status;
  const q = (sel) => /** @type {HTMLElement} */ (row.querySelector(sel));
  q(".doc-name").textContent = doc.filename;
  q(".doc-name").title = doc.filename;
  const badge = q(".badge");
  badge.textContent = doc.status;
  badge.className = `badge badge-${doc.status}`;

  const pick = /** @type {HTMLInputElement} */ (q(".doc-pick"));
  pick.disabled = doc.status !== "ready";
  pick.checked = docs.selected.has(doc.id);
  pick.setAttribute("aria-label", `Ask only about ${doc.filename}`);
  pick.title = doc.status === "ready" ? "Limit the chat to the checked documents" : "Available once the document is ready";

  const parts = [formatBytes(doc.size_bytes)];
  if (doc.page_count != null) parts.push(`${doc.page_count} ${doc.page_count === 1 ? "page" : "pages"}`);
  if (doc.chunk_count != null && doc.status === "ready") parts.push(`${numberFmt.format(doc.chunk_count)} chunks`);
  if (doc.ocr_pages) parts.push(`${numberFmt.format(doc.ocr_pages)} ${doc.ocr_pages === 1 ? "page" : "pages"} OCRed`);
  parts.push(relativeTime(doc.created_at));
  const collection = doc.collection_id ? collectionOf(doc.collection_id) : null;
  if (doc.collection_id) parts.unshift(`In “${collection?.name ?? "a collection"}”`);
  q(".doc-meta").textContent = parts.join(" · ");
  // A collection's documents are deleted by those who may add to it; the server refuses the others anyway.
  q('[data-action="delete"]').hidden = Boolean(doc.collection_id) && collection?.access !== "write";
  updateDocWarnings(/** @type {HTMLDetailsElement} */ (q(".doc-warnings")), doc.warnings ?? []);

  const progressBox = q(".doc-progress");
  progressBox.hidden = isTerminal(doc);
  const bar = /** @type {HTMLProgressElement} */ (q("progress"));
  const total = doc.progress?.pages_total;
  const done = doc.progress?.pages_done ?? 0;
  if (total) {
    bar.value = done / total;
    q(".doc-progress-text").textContent = `${doc.status === "queued" ? "Queued" : "Reading"}: ${done} / ${total} pages`;
  } else {
    bar.removeAttribute("value");
    q(".doc-progress-text").textContent = doc.status === "queued" ? "Queued for processing…" : "Processing…";
  }

  const error = q(".doc-error");
  error.hidden = doc.status !== "failed";
  error.textContent = doc.error ? `${doc.error.message} (${doc.error.code})` : "Processing failed.";
}

/** "2 pages not read", opening to the list of what happened to each page; rebuilt only when the warnings change. */
function updateDocWarnings(box, warnings) {
  const key = JSON.stringify(warnings);
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.hidden = warnings.length === 0;
  const pages = new Set(warnings.map((w) => w.page)).size;
  const summary = /** @type {HTMLElement} */ (box.querySelector("summary"));
  summary.textContent = `${pages} ${pages === 1 ? "page" : "pages"} not read`;
  summary.title = warnings.map((w) => w.message).join("\n");
  /** @type {HTMLElement} */ (box.querySelector("ul")).replaceChildren(
    ...warnings.map((w) => h("li", {}, h("span", { class: "badge badge-warn" }, `p. ${w.page}`), " ", w.message, " ", h("code", {}, w.code))),
  );
}

function watchDoc(id) {
  if (docs.pollers.has(id)) return;
  const tick = async () => {
    if (!docs.pollers.has(id) || !auth.token) return;
    let delay = POLL_MS;
    try {
      const doc = await api.get(`/v1/files/${id}`);
      if (!docs.pollers.has(id)) return;
      if (isTerminal(doc)) docs.pollers.delete(id);
      upsertDoc(doc);
      if (isTerminal(doc)) return;
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 401)) {
        docs.pollers.delete(id);
        if (err.status === 404) removeDoc(id);
        return;
      }
      delay = err instanceof ApiError && err.status === 429 && err.retryAfter ? err.retryAfter * 1000 : 3000;
    }
    if (docs.pollers.has(id)) docs.pollers.set(id, setTimeout(tick, delay));
  };
  docs.pollers.set(id, setTimeout(tick, 300));
}

function isPdf(file) {
  return file.type === "application/pdf" || /\.pdf$/i.test(file.name);
}

function uploadFiles(files) {
  for (const file of files) {
    if (!isPdf(file)) toast(`${file.name} is not a PDF.`);
    else if (file.size === 0) toast(`${file.name} is empty.`);
    else if (file.size > MAX_UPLOAD_BYTES) toast(`${file.name} is ${formatBytes(file.size)}; the limit is 25 MiB.`);
    else startUpload(file);
  }
}

function startUpload(file) {
  const bar = /** @type {HTMLProgressElement} */ (h("progress", { max: "1", value: "0", "aria-label": `Upload progress of ${file.name}` }));
  const text = h("span", { class: "upload-text" }, `Uploading… 0 % of ${formatBytes(file.size)}`);
  const action = h("button", { type: "button", class: "btn btn-ghost btn-small" }, "Cancel");
  const item = h(
    "li",
    { class: "upload" },
    h("div", { class: "doc-top" }, h("span", { class: "doc-name", dir: "auto", title: file.name }, file.name)),
    bar,
    h("div", { class: "upload-foot" }, text, action),
  );
  $("uploads").append(item);
  updateDocsChrome();

  const job = api.upload(
    file,
    (fraction, loaded) => {
      if (fraction == null) {
        bar.removeAttribute("value");
        text.textContent = `Uploading… ${formatBytes(loaded)}`;
      } else if (fraction >= 1) {
        bar.value = 1;
        text.textContent = "Uploaded, waiting for the server…";
      } else {
        bar.value = fraction;
        text.textContent = `Uploading… ${Math.round(fraction * 100)} % of ${formatBytes(file.size)}`;
      }
    },
    /** @type {HTMLSelectElement} */ ($("upload-target")).value || null,
  );
  docs.uploads.add(job);
  action.addEventListener("click", () => job.abort(), { once: true });

  job.done
    .then(
      ({ status, doc }) => {
        item.remove();
        upsertDoc(doc, { position: "start" });
        if (status === 200) toast(`${file.name} was uploaded before; showing that document.`, { kind: "info" });
      },
      (err) => {
        if (err instanceof ApiError && err.code === "aborted") return item.remove();
        item.classList.add("upload-failed");
        bar.remove();
        text.textContent = `Upload failed: ${describeError(err)}`;
        text.setAttribute("role", "alert");
        action.textContent = "Dismiss";
        action.addEventListener("click", () => (item.remove(), updateDocsChrome()), { once: true });
      },
    )
    .finally(() => {
      docs.uploads.delete(job);
      updateDocsChrome();
    });
}

/** The PDF as a blob: URL (fetched once per document with the bearer token). */
function pdfUrl(id) {
  let url = docs.blobUrls.get(id);
  if (!url) {
    url = api
      .get(`/v1/files/${id}/download`, { raw: true })
      .then((res) => res.blob())
      .then((blob) => URL.createObjectURL(blob.type === "application/pdf" ? blob : new Blob([blob], { type: "application/pdf" })));
    docs.blobUrls.set(id, url);
    url.catch(() => docs.blobUrls.delete(id));
  }
  return url;
}

async function downloadDoc(id) {
  const doc = docs.byId.get(id);
  if (!doc) return;
  try {
    saveBlob(await pdfUrl(id), doc.filename);
  } catch (err) {
    toast(`Could not download ${doc.filename}: ${describeError(err)}`);
  }
}

/** Opens a PDF in a new tab at a page. The tab is opened during the click so popup blockers allow it. */
async function openPdf(fileId, page, label) {
  const win = window.open("", "_blank");
  if (win) {
    try {
      win.document.title = label;
      win.document.body.textContent = `Opening ${label}…`;
    } catch {
      // cross-origin placeholder: nothing to write
    }
  }
  try {
    const target = `${await pdfUrl(fileId)}#page=${page}`;
    if (win && !win.closed) win.location.href = target;
    else {
      const a = h("a", { href: target, target: "_blank", rel: "noopener", hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
    }
  } catch (err) {
    win?.close();
    const gone = err instanceof ApiError && err.status === 404;
    toast(gone ? `${label}: that document has been deleted.` : `Could not open ${label}: ${describeError(err)}`);
  }
}

async function deleteDoc(id) {
  const doc = docs.byId.get(id);
  if (!doc) return;
  if (!(await confirmDialog(`Delete “${doc.filename}”? Its pages will no longer be searched or cited. This cannot be undone.`))) return;
  try {
    await api.del(`/v1/files/${id}`);
    removeDoc(id);
    toast(`Deleted ${doc.filename}.`, { kind: "info" });
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) removeDoc(id);
    else toast(`Could not delete ${doc.filename}: ${describeError(err)}`);
  }
}

function updateScope() {
  const n = docs.selected.size;
  $("scope").hidden = n === 0;
  if (n === 1) {
    const doc = docs.byId.get([...docs.selected][0]);
    $("scope-text").textContent = `Asking only about ${doc?.filename ?? "1 document"}.`;
  } else $("scope-text").textContent = `Asking only about ${n} checked documents.`;
}

// ---------------------------------------------------------------------------------------------------------------
// Chat

const chat = {
  /** @type {string | null} */ sessionId: null,
  /** @type {any[]} */ sessions: [],
  /** the open socket: { ws, ready, resolve, reject, sessionId, ping } */ conn: null,
  streaming: false,
  /** the assistant message being written */ current: null,
  /** @type {string | null} */ lastQuestion: null,
  cancelTimer: 0,
};

function setStreaming(on) {
  chat.streaming = on;
  $("send").hidden = on;
  $("cancel").hidden = !on;
  const cancel = /** @type {HTMLButtonElement} */ ($("cancel"));
  cancel.disabled = false;
  cancel.textContent = "Cancel";
  $("messages").setAttribute("aria-busy", String(on));
  clearTimeout(chat.cancelTimer);
}

function wsUrl(sessionId) {
  let url = `${location.origin.replace(/^http/, "ws")}/ws/chat?tenant=${encodeURIComponent(auth.tenant)}`;
  if (sessionId) url += `&session_id=${encodeURIComponent(sessionId)}`;
  return url;
}

function connect(sessionId) {
  const ws = new WebSocket(wsUrl(sessionId), ["docuchat", `bearer.${auth.token}`]);
  const conn = { ws, sessionId: null, ping: 0, resolve: (_id) => {}, reject: (_err) => {}, ready: Promise.resolve("") };
  conn.ready = new Promise((resolve, reject) => Object.assign(conn, { resolve, reject }));
  conn.ready.catch(() => {});
  ws.addEventListener("message", (e) => {
    if (chat.conn !== conn) return;
    let frame;
    try {
      frame = JSON.parse(e.data);
    } catch {
      return;
    }
    onFrame(conn, frame);
  });
  ws.addEventListener("close", (e) => onSocketClose(conn, e));
  conn.ping = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('{"type":"ping"}'), PING_MS);
  chat.conn = conn;
  return conn;
}

function closeSocket() {
  const conn = chat.conn;
  chat.conn = null;
  if (!conn) return;
  clearInterval(conn.ping);
  conn.reject(new Error("closed"));
  // Closing while still connecting makes the browser log an error; wait for the handshake instead.
  if (conn.ws.readyState === WebSocket.CONNECTING) conn.ws.addEventListener("open", () => conn.ws.close(1000), { once: true });
  else if (conn.ws.readyState === WebSocket.OPEN) conn.ws.close(1000);
}

function onSocketClose(conn, event) {
  clearInterval(conn.ping);
  conn.reject(new Error("The chat connection closed"));
  if (chat.conn !== conn) return;
  chat.conn = null;
  // 4001: the token expired; 4003: the account or organisation was disabled (src/chat/protocol.ts CloseCode).
  if (event.code === 4001 || event.code === 4003) {
    signOut(
      event.code === 4001 ? "Your session has expired. Please sign in again." : "Your account can no longer use this chat. Please sign in again.",
    );
    return;
  }
  if (event.code === 4004) {
    toast("This chat was deleted.", { kind: "info" });
    void loadSessions();
    newChat();
    return;
  }
  // Before the handshake finished, ask() reports the failure itself.
  if (conn.sessionId && chat.streaming && chat.current)
    failAnswer(chat.current, { code: "connection_lost", message: "The connection was lost before the answer was finished.", retryable: true });
}

function ensureConnected() {
  if (!chat.conn) connect(chat.sessionId);
  return chat.conn.ready;
}

function onFrame(conn, f) {
  switch (f.type) {
    case "session":
      conn.sessionId = f.session_id;
      chat.sessionId = f.session_id;
      conn.resolve(f.session_id);
      markActiveSession();
      break;
    case "citations": {
      const m = chat.current ?? startAnswer(null);
      m.citations = new Map(f.citations.map((c) => [c.n, c]));
      renderCitations(m);
      if (m.text) renderAnswer(m);
      else
        m.body.replaceChildren(h("span", { class: "thinking" }, f.citations.length ? "Writing the answer…" : "No matching pages found; answering…"));
      break;
    }
    case "delta": {
      const m = chat.current ?? startAnswer(null);
      m.text += f.content;
      scheduleRender(m);
      break;
    }
    case "done": {
      const m = chat.current;
      if (m) {
        finishAnswer(m, f.status === "cancelled" ? "cancelled" : "complete", f.usage?.total_tokens);
        chat.current = null;
      }
      setStreaming(false);
      refreshUsage();
      void loadSessions();
      break;
    }
    case "error":
      if (chat.current) failAnswer(chat.current, f);
      else
        toast(`${f.message} (${f.code})`, {
          action: f.retryable && chat.lastQuestion ? { label: "Retry", run: () => ask(chat.lastQuestion) } : undefined,
        });
      break;
    default:
      break; // pong and anything newer
  }
}

function hideEmptyChat() {
  $("empty-chat").hidden = true;
}

function scrollToEnd(force = false) {
  const box = $("messages");
  const nearEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 120;
  if (force || nearEnd) box.scrollTop = box.scrollHeight;
}

function addUserMessage(text) {
  hideEmptyChat();
  const el = h(
    "article",
    { class: "msg msg-user", dir: "auto", lang: langOf(text), "aria-label": "You asked" },
    h("div", { class: "msg-body" }, text),
  );
  $("messages").append(el);
  scrollToEnd(true);
  return el;
}

/** Creates the assistant message that the next frames fill in. */
function startAnswer(question) {
  hideEmptyChat();
  const body = h("div", { class: "msg-body streaming" }, h("span", { class: "thinking" }, "Searching your documents…"));
  const chips = h("ul", { class: "citations", "aria-label": "Sources" });
  const meta = h("div", { class: "msg-meta" });
  const el = h("article", { class: "msg msg-assistant", dir: "auto", "aria-label": "Answer" }, body, chips, meta);
  $("messages").append(el);
  const m = { el, body, chips, meta, text: "", citations: new Map(), question, renderTimer: 0, preview: null };
  chat.current = m;
  setStreaming(true);
  scrollToEnd(true);
  return m;
}

/** Re-renders the streaming answer at most every RENDER_MS: the whole Markdown is parsed again each time. */
const RENDER_MS = 80;
function scheduleRender(m) {
  if (m.renderTimer) return;
  m.renderTimer = setTimeout(() => {
    m.renderTimer = 0;
    renderAnswer(m);
  }, RENDER_MS);
}

function stopRendering(m) {
  clearTimeout(m.renderTimer);
  m.renderTimer = 0;
}

/** The answer's Markdown, with its [n] markers turned into buttons that open the cited page. */
function renderAnswer(m) {
  if (!m.text) return;
  const { fragment, cited } = renderMarkdown(m.text, (n) => (m.citations.has(n) ? citeRef(m, m.citations.get(n)) : null));
  m.body.replaceChildren(fragment);
  m.body.lang = langOf(m.text);
  // Each block has its own dir="auto", which the message's dir="auto" does not look into: the answer as a whole
  // (its bubble, its sources) takes the direction its text starts in.
  m.el.dir = m.body.lang === "fa" ? "rtl" : "ltr";
  for (const chip of m.chips.querySelectorAll(".chip")) chip.classList.toggle("cited", cited.has(Number(chip.dataset.n)));
  scrollToEnd();
}

const citationLabel = (c) => `${c.filename} p. ${pageRange(c)}${c.collection ? ` (${c.collection.name})` : ""}`;

function citeRef(m, c) {
  return h(
    "button",
    {
      type: "button",
      class: "cite-ref",
      "data-n": c.n,
      title: citationLabel(c),
      "aria-label": `Source ${c.n}: ${c.filename}, page ${pageRange(c)}`,
      onclick: () => showCitation(m, c),
    },
    `[${c.n}]`,
  );
}

function renderCitations(m) {
  const items = [...m.citations.values()].sort((a, b) => a.n - b.n);
  m.chips.replaceChildren(
    ...items.map((c) =>
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            class: "chip",
            dir: "ltr",
            "data-n": c.n,
            "aria-expanded": "false",
            title: `Show the text of ${c.filename} p. ${pageRange(c)}`,
            onclick: () => showCitation(m, c),
          },
          h("span", { class: "chip-n" }, `[${c.n}]`),
          " ",
          h("bdi", { class: "chip-file" }, c.filename),
          ` p. ${pageRange(c)}`,
          c.collection && [" · ", h("bdi", { class: "chip-collection" }, c.collection.name)],
        ),
      ),
    ),
  );
}

const SOURCE_LABELS = { text_layer: "text layer", ocr: "OCR" };
let citationRequests = 0;

/** The cited pages' text (GET /v1/files/{id}/pages), fetched once per document and range. */
function pageTexts(fileId, from, to) {
  const key = `${fileId}:${from}-${to}`;
  let answer = docs.pageTexts.get(key);
  if (!answer) {
    answer = api.get(`/v1/files/${fileId}/pages?from=${from}&to=${to}`);
    docs.pageTexts.set(key, answer);
    answer.catch(() => docs.pageTexts.delete(key));
  }
  return answer;
}

/** Shows a citation's pages under the answer: their text (in its own direction), how it was read, and a link to the PDF. */
async function showCitation(m, c) {
  if (!m.preview) {
    m.preview = h("section", { class: "cite-preview", dir: "ltr", "aria-live": "polite" });
    m.chips.after(m.preview);
  }
  const box = m.preview;
  const request = String(++citationRequests);
  box.dataset.request = request;
  box.dataset.n = String(c.n);
  box.setAttribute("aria-label", `Source ${c.n}: ${c.filename}, page ${pageRange(c)}`);
  for (const chip of m.chips.querySelectorAll(".chip")) chip.setAttribute("aria-expanded", String(Number(chip.dataset.n) === c.n));
  const close = () => {
    box.remove();
    m.preview = null;
    for (const chip of m.chips.querySelectorAll(".chip")) chip.setAttribute("aria-expanded", "false");
  };
  const pages = h("div", { class: "cite-pages" }, h("p", { class: "muted" }, "Loading the page…"));
  box.replaceChildren(
    h(
      "div",
      { class: "cite-preview-head" },
      h("span", {}, h("span", { class: "chip-n" }, `[${c.n}]`), " ", h("bdi", { class: "chip-file" }, c.filename), ` p. ${pageRange(c)}`),
      h("button", { type: "button", class: "toast-close", "aria-label": "Close the source", title: "Close", onclick: close }, "×"),
    ),
    pages,
    h(
      "div",
      { class: "row end" },
      h(
        "button",
        { type: "button", class: "btn btn-ghost btn-small cite-open", onclick: () => openPdf(c.file_id, c.page_start, citationLabel(c)) },
        `Open the PDF at page ${c.page_start}`,
      ),
    ),
  );
  const from = c.page_start;
  const to = Math.min(c.page_end, from + 49);
  try {
    const res = await pageTexts(c.file_id, from, to);
    if (box.dataset.request !== request) return;
    const items = [];
    for (let n = from; n <= to; n++) {
      const pg = res.pages.find((p) => p.page === n);
      items.push(
        h(
          "article",
          { class: "cite-page" },
          h(
            "div",
            { class: "cite-page-head" },
            `Page ${n}`,
            pg && h("span", { class: `badge cite-source${pg.source === "ocr" ? " badge-warn" : ""}` }, SOURCE_LABELS[pg.source] ?? pg.source),
          ),
          pg
            ? h("div", { class: "cite-page-text", dir: "auto", lang: langOf(pg.text) }, pg.text)
            : h("p", { class: "muted" }, "No text was read from this page."),
          ...res.warnings.filter((w) => w.page === n).map((w) => h("p", { class: "cite-warning" }, w.message)),
        ),
      );
    }
    pages.replaceChildren(...items);
  } catch (err) {
    if (box.dataset.request !== request) return;
    const gone = err instanceof ApiError && err.status === 404;
    pages.replaceChildren(
      h("p", { class: "cite-warning", role: "alert" }, gone ? "That document has been deleted." : `Could not load the page: ${describeError(err)}`),
    );
  }
}

function finishAnswer(m, status, tokens, model) {
  stopRendering(m);
  m.body.classList.remove("streaming");
  if (m.text) renderAnswer(m);
  else m.body.replaceChildren(h("span", { class: "muted" }, status === "complete" ? "(no answer)" : "(stopped before any text)"));
  const bits = [];
  if (status === "cancelled") bits.push(h("bdi", { class: "badge badge-warn", dir: "ltr" }, "Cancelled"));
  if (status === "incomplete") bits.push(h("bdi", { class: "badge badge-warn", dir: "ltr" }, "Incomplete"));
  const info = [model, tokens ? `${numberFmt.format(tokens)} tokens` : null].filter(Boolean).join(" · ");
  if (info) bits.push(h("bdi", { dir: "ltr" }, info));
  m.meta.replaceChildren(...bits);
}

function failAnswer(m, f) {
  stopRendering(m);
  m.body.classList.remove("streaming");
  if (m.text) renderAnswer(m);
  else m.body.remove();
  const retry =
    f.retryable && m.question
      ? h(
          "button",
          {
            type: "button",
            class: "btn btn-small btn-ghost",
            onclick: (e) => {
              e.currentTarget.disabled = true;
              ask(m.question);
            },
          },
          "Retry",
        )
      : null;
  m.el.append(
    h(
      "div",
      { class: "msg-error", role: "alert", dir: "ltr" },
      h("span", {}, h("strong", {}, "Error: "), `${f.message} `, h("code", {}, f.code)),
      retry,
    ),
  );
  if (chat.current === m) {
    chat.current = null;
    setStreaming(false);
  }
  scrollToEnd();
}

async function ask(content) {
  if (chat.streaming || !auth.token) return;
  chat.lastQuestion = content;
  addUserMessage(content);
  const m = startAnswer(content);
  const frame = { type: "message", content };
  if (docs.selected.size) frame.file_ids = [...docs.selected];
  const collectionId = /** @type {HTMLSelectElement} */ ($("chat-collection")).value;
  if (collectionId) frame.collection_ids = [collectionId];
  try {
    await ensureConnected();
    if (chat.current !== m) return;
    chat.conn.ws.send(JSON.stringify(frame));
  } catch {
    if (chat.current === m) failAnswer(m, { code: "connection_failed", message: "Could not connect to the chat service.", retryable: true });
    // A refused upgrade says nothing to the page; an expired token shows up here.
    api.get("/v1/me").catch(() => {});
  }
}

function cancelAnswer() {
  const conn = chat.conn;
  if (!chat.streaming) return;
  const button = /** @type {HTMLButtonElement} */ ($("cancel"));
  button.disabled = true;
  button.textContent = "Cancelling…";
  if (conn?.ws.readyState === WebSocket.OPEN) conn.ws.send('{"type":"cancel"}');
  // The server answers with done/cancelled; do not leave the page stuck if it never does.
  chat.cancelTimer = setTimeout(() => {
    if (chat.current) finishAnswer(chat.current, "cancelled");
    chat.current = null;
    setStreaming(false);
  }, 5000);
}

function newChat() {
  closeSocket();
  chat.sessionId = null;
  chat.current = null;
  setStreaming(false);
  $("messages").replaceChildren();
  $("empty-chat").hidden = false;
  markActiveSession();
}

async function loadSessions() {
  if (!auth.token) return;
  try {
    const { sessions } = await api.get("/v1/chat/sessions?limit=50");
    chat.sessions = sessions;
    renderSessions();
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) toast(`Could not load your chats: ${describeError(err)}`);
  }
}

function renderSessions() {
  const list = $("session-list");
  list.replaceChildren(
    ...chat.sessions.map((s) => {
      const title = s.title || "Untitled chat";
      return h(
        "li",
        { class: "session", "data-id": s.id },
        h(
          "button",
          { type: "button", class: "session-open", onclick: () => openSession(s.id) },
          h("span", { class: "session-title", dir: "auto" }, title),
          h("small", { class: "muted" }, relativeTime(s.updated_at)),
        ),
        h(
          "button",
          {
            type: "button",
            class: "session-delete",
            "aria-label": `Delete chat “${title}”`,
            title: "Delete chat",
            onclick: () => deleteSession(s.id, title),
          },
          "×",
        ),
      );
    }),
  );
  $("sessions-empty").hidden = chat.sessions.length > 0;
  markActiveSession();
}

function markActiveSession() {
  for (const li of $("session-list").children) {
    const active = /** @type {HTMLElement} */ (li).dataset.id === chat.sessionId;
    li.classList.toggle("active", active);
    const button = li.querySelector(".session-open");
    if (active) button?.setAttribute("aria-current", "page");
    else button?.removeAttribute("aria-current");
  }
}

async function openSession(id) {
  closeSocket();
  chat.sessionId = id;
  chat.current = null;
  setStreaming(false);
  markActiveSession();
  hideEmptyChat();
  $("messages").replaceChildren(h("p", { class: "muted loading" }, "Loading the conversation…"));
  try {
    const { messages } = await api.get(`/v1/chat/sessions/${id}/messages`);
    if (chat.sessionId !== id) return;
    $("messages").replaceChildren();
    let question = null;
    for (const msg of messages) {
      if (msg.role === "user") {
        question = msg.content;
        addUserMessage(msg.content);
        continue;
      }
      const m = startAnswer(question);
      m.text = msg.content;
      m.citations = new Map(msg.citations.map((c) => [c.n, c]));
      renderCitations(m);
      finishAnswer(m, msg.status, msg.usage.prompt_tokens + msg.usage.completion_tokens, msg.model);
    }
    chat.current = null;
    setStreaming(false);
    if (!messages.length) $("empty-chat").hidden = false;
    scrollToEnd(true);
    connect(id);
  } catch (err) {
    if (chat.sessionId !== id) return;
    if (err instanceof ApiError && err.status === 401) return;
    toast(err instanceof ApiError && err.status === 404 ? "That chat no longer exists." : `Could not open the chat: ${describeError(err)}`);
    newChat();
    void loadSessions();
  }
}

async function deleteSession(id, title) {
  if (!(await confirmDialog(`Delete the chat “${title}” and all its messages?`))) return;
  if (chat.sessionId === id) newChat();
  try {
    await api.del(`/v1/chat/sessions/${id}`);
    chat.sessions = chat.sessions.filter((s) => s.id !== id);
    renderSessions();
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) void loadSessions();
    else toast(`Could not delete the chat: ${describeError(err)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Wiring

function autosize() {
  const q = $("question");
  q.style.height = "auto";
  q.style.height = `${Math.min(q.scrollHeight, 200)}px`;
}

function wire() {
  $("request-form").addEventListener("submit", (e) => (e.preventDefault(), requestCode()));
  $("verify-form").addEventListener("submit", (e) => (e.preventDefault(), verifyCode()));
  $("change-email").addEventListener("click", () => showLogin());
  $("resend").addEventListener("click", () => requestCode());
  $("code").addEventListener("input", (e) => {
    const input = /** @type {HTMLInputElement} */ (e.target);
    input.value = input.value.replace(/\D/g, "").slice(0, 6);
  });
  $("logout").addEventListener("click", () => signOut());
  $("admin-toggle").addEventListener("click", () => {
    const opening = $("admin-view").hidden;
    showAdmin(opening);
    // Back in the workspace, show what changed meanwhile (new collections, their documents).
    if (!opening) void loadCollections().then(() => loadDocs());
  });

  $("chat-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = /** @type {HTMLTextAreaElement} */ ($("question"));
    const content = q.value.trim();
    if (!content || chat.streaming) return;
    q.value = "";
    autosize();
    void ask(content);
  });
  $("question").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      /** @type {HTMLFormElement} */ ($("chat-form")).requestSubmit();
    }
  });
  $("question").addEventListener("input", autosize);
  $("cancel").addEventListener("click", cancelAnswer);
  $("new-chat").addEventListener("click", () => (newChat(), $("question").focus()));
  $("scope-clear").addEventListener("click", () => {
    docs.selected.clear();
    for (const [id, row] of docs.rows) updateDocRow(row, docs.byId.get(id));
    updateScope();
  });

  const input = /** @type {HTMLInputElement} */ ($("file-input"));
  input.addEventListener("change", () => {
    uploadFiles([...(input.files ?? [])]);
    input.value = "";
  });
  $("load-more").addEventListener("click", () => loadDocs({ more: true }));
  $("doc-filter").addEventListener("change", (e) => {
    collections.filter = /** @type {HTMLSelectElement} */ (e.target).value;
    void loadDocs();
  });
  $("refresh-docs").addEventListener("click", () => loadDocs());

  // Drag and drop onto the documents panel; dropping elsewhere must not navigate away to the PDF.
  const zone = $("dropzone");
  const panel = /** @type {HTMLElement} */ (zone.closest(".docs"));
  let depth = 0;
  panel.addEventListener("dragenter", (e) => {
    if (!e.dataTransfer?.types.includes("Files")) return;
    depth += 1;
    zone.classList.add("dragover");
  });
  panel.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) zone.classList.remove("dragover");
  });
  panel.addEventListener("dragover", (e) => {
    if (!e.dataTransfer?.types.includes("Files")) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
  });
  panel.addEventListener("drop", (e) => {
    e.preventDefault();
    depth = 0;
    zone.classList.remove("dragover");
    if (!auth.token) return;
    uploadFiles([...(e.dataTransfer?.files ?? [])]);
  });
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", (e) => e.preventDefault());

  // Relative times in the lists stay roughly right.
  setInterval(() => {
    if (!auth.token) return;
    for (const [id, row] of docs.rows) updateDocRow(row, docs.byId.get(id));
    renderSessions();
  }, 60_000);
}

wire();
if (auth.token && auth.user) showApp();
else showLogin();
