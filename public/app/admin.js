// The admin view of the demo page (owners and admins): users and roles, collections and their members, the
// organisation's settings, usage, API keys and webhooks — one tab each, all over the /v1/admin routes.
// Every failure is shown where it happened, from the API's one error shape (message, code, request id).
import { ApiError, describeErrorFully } from "./api.js";
import { $, confirmDialog, h, numberFmt, relativeTime, saveBlob, setBusy, toast } from "./ui.js";

const ROLES = ["member", "admin", "owner"];
const WEBHOOK_EVENTS = ["document.ready", "document.failed", "document.deleted"];
const PAGE = 50;

/** The date `days` ago as YYYY-MM-DD (what the usage routes take). */
const isoDay = (days = 0) => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
const when = (iso) => (iso ? h("time", { datetime: iso, title: new Date(iso).toLocaleString() }, relativeTime(iso)) : "–");
const lines = (text) =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** A labelled control: field("Email", input). */
function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hint && h("small", { class: "muted" }, hint));
}

function select(options, value, attrs = {}) {
  const el = /** @type {HTMLSelectElement} */ (h("select", attrs, ...options.map(([v, label]) => h("option", { value: v }, label))));
  if (value != null) el.value = value;
  return el;
}

/** The line under a form or list that says what went wrong (empty: nothing did). */
const errorLine = () => h("p", { class: "form-error", role: "alert" });
function showError(line, err) {
  line.textContent = err ? describeErrorFully(err) : "";
}

/**
 * Saves a row's control when it changes: PATCHes `path` with `body()`, merges the answer into `row`, and on
 * failure puts the control back (`revert`) and shows the error on the panel's error line.
 */
function saveOnChange(control, { api, path, body, row, revert, errors, saved }) {
  control.addEventListener("change", async () => {
    try {
      Object.assign(row, await api.patch(path, body()));
      showError(errors, null);
      saved?.();
    } catch (err) {
      revert();
      showError(errors, err);
    }
  });
}

/**
 * A table filled page by page from a paged list route ({ <key>: [...], next_cursor }).
 * @param {{ api: any, key: string, columns: { label: string, cell: (row: any) => any }[], empty: string, label: string }} spec
 */
function pagedTable({ api, key, columns, empty, label }) {
  const body = h("tbody");
  const more = h("button", { type: "button", class: "btn btn-ghost btn-small", hidden: true }, "Load more");
  const error = errorLine();
  const none = h("p", { class: "muted empty", hidden: true }, empty);
  let path = "";
  let cursor = null;
  /** @type {any[]} */
  let rows = [];
  const render = (items) =>
    body.append(...items.map((r) => h("tr", { "data-id": r.id ?? r.user_id ?? "" }, ...columns.map((c) => h("td", {}, c.cell(r))))));
  async function load(next = false) {
    const url = new URL(path, location.origin);
    url.searchParams.set("limit", String(PAGE));
    if (next && cursor) url.searchParams.set("cursor", cursor);
    setBusy(more, true, "Loading…");
    try {
      const res = await api.get(url.pathname + url.search);
      if (!next) {
        body.replaceChildren();
        rows = [];
      }
      rows = rows.concat(res[key]);
      render(res[key]);
      cursor = res.next_cursor ?? null;
      showError(error, null);
    } catch (err) {
      showError(error, err);
    } finally {
      setBusy(more, false);
      more.hidden = !cursor;
      none.hidden = rows.length > 0;
    }
  }
  more.addEventListener("click", () => load(true));
  const el = h(
    "div",
    { class: "admin-table-wrap" },
    h(
      "table",
      { class: "admin-table", "aria-label": label },
      h("thead", {}, h("tr", {}, ...columns.map((c) => h("th", { scope: "col" }, c.label)))),
      body,
    ),
    none,
    error,
    more,
  );
  return {
    el,
    rows: () => rows,
    /** Loads the first page of `newPath` (or of the same path again). */
    reload(newPath = path) {
      path = newPath;
      return load();
    },
  };
}

/** Runs an action from a button: busy while it runs, its error in `line` (or a toast), true when it worked. */
async function act(button, busyLabel, line, fn) {
  setBusy(button, true, busyLabel);
  try {
    await fn();
    if (line) showError(line, null);
    return true;
  } catch (err) {
    if (line) showError(line, err);
    else toast(describeErrorFully(err));
    return false;
  } finally {
    setBusy(button, false);
  }
}

/** A secret the API shows once: in a box with a copy button, until dismissed. */
function secretBox(title, secret) {
  const code = h("code", { class: "secret-value" }, secret);
  const copy = h("button", { type: "button", class: "btn btn-primary btn-small secret-copy" }, "Copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(secret);
      copy.textContent = "Copied";
    } catch {
      // No clipboard permission (e.g. plain http): select the text so Ctrl+C works.
      getSelection()?.selectAllChildren(code);
      copy.textContent = "Press Ctrl+C";
    }
  });
  const box = h(
    "div",
    { class: "secret", role: "status" },
    h("strong", {}, title),
    h("p", { class: "muted" }, "It is shown only now: store it somewhere safe. It cannot be shown again."),
    h("div", { class: "secret-row" }, code, copy),
    h("button", { type: "button", class: "btn btn-link", onclick: () => box.remove() }, "I have stored it"),
  );
  return box;
}

// ---------------------------------------------------------------------------------------------------------------
// Users

function usersPanel(api, ctx) {
  const search = h("input", { type: "search", placeholder: "Search by email", "aria-label": "Search users by email", class: "admin-search" });
  const email = h("input", { type: "email", required: true, placeholder: "colleague@example.com", autocomplete: "off" });
  const role = select(
    ROLES.map((r) => [r, r]),
    "member",
  );
  const invite = h("button", { type: "submit", class: "btn btn-primary" }, "Invite");
  const inviteError = errorLine();
  const form = h("form", { class: "admin-form", id: "invite-form", novalidate: true }, field("Email", email), field("Role", role), invite);

  const list = pagedTable({
    api,
    key: "users",
    label: "Users",
    empty: "No users match.",
    columns: [
      { label: "Email", cell: (u) => h("bdi", { class: "user-cell" }, u.email, u.id === ctx.me().id ? h("span", { class: "badge" }, "you") : null) },
      { label: "Role", cell: (u) => roleSelect(u) },
      { label: "Status", cell: (u) => h("span", { class: `badge badge-user-${u.status}` }, u.status) },
      { label: "Last login", cell: (u) => when(u.last_login_at) },
      { label: "", cell: (u) => userActions(u) },
    ],
  });
  const rowError = errorLine();

  function roleSelect(u) {
    const el = select(
      ROLES.map((r) => [r, r]),
      u.role,
      { "aria-label": `Role of ${u.email}`, class: "role-select" },
    );
    saveOnChange(el, {
      api,
      path: `/v1/admin/users/${u.id}`,
      body: () => ({ role: el.value }),
      row: u,
      revert: () => (el.value = u.role),
      errors: rowError,
      saved: () => toast(`${u.email} is now ${u.role}.`, { kind: "success" }),
    });
    return el;
  }

  function userActions(u) {
    const disabled = u.status === "disabled";
    const toggle = h(
      "button",
      { type: "button", class: "btn btn-ghost btn-small", "data-action": disabled ? "enable" : "disable" },
      disabled ? "Enable" : "Disable",
    );
    toggle.addEventListener("click", () =>
      act(toggle, "Saving…", rowError, async () => {
        await api.patch(`/v1/admin/users/${u.id}`, { status: disabled ? "active" : "disabled" });
        await list.reload();
      }),
    );
    const del = h("button", { type: "button", class: "btn btn-ghost btn-small btn-danger-text", "data-action": "delete" }, "Delete");
    del.addEventListener("click", async () => {
      const ok = await confirmDialog(
        `Delete ${u.email}? This erases their account, their private documents (with their stored PDFs and search index), ` +
          "and all their chats and messages. Documents they added to collections stay in those collections. This cannot be undone.",
        "Delete and erase",
      );
      if (ok)
        await act(del, "Deleting…", rowError, async () => {
          await api.del(`/v1/admin/users/${u.id}`);
          await list.reload();
        });
    });
    return h("div", { class: "row-actions" }, toggle, del);
  }

  const path = () => `/v1/admin/users${search.value.trim() ? `?email=${encodeURIComponent(search.value.trim())}` : ""}`;
  let typing = 0;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => list.reload(path()), 250);
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!email.checkValidity() || !email.value.trim()) return showError(inviteError, new Error("Enter a valid email address."));
    void act(invite, "Inviting…", inviteError, async () => {
      const user = await api.post("/v1/admin/users", { email: email.value.trim(), role: role.value });
      toast(`Invited ${user.email} as ${user.role}. They can sign in with their email now.`, { kind: "success" });
      email.value = "";
      await list.reload();
    });
  });

  return {
    title: "Users",
    nodes: [h("h3", {}, "Invite someone"), form, inviteError, h("div", { class: "row" }, h("h3", {}, "People"), search), rowError, list.el],
    load: () => list.reload(path()),
    users: () => list.rows(),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Collections

function collectionsPanel(api, ctx) {
  const name = h("input", { required: true, maxlength: 100, placeholder: "Handbook", dir: "auto" });
  const description = h("input", { maxlength: 1000, placeholder: "What is in it (optional)", dir: "auto" });
  const visibility = visibilitySelect("tenant");
  const create = h("button", { type: "submit", class: "btn btn-primary" }, "Create");
  const createError = errorLine();
  const form = h(
    "form",
    { class: "admin-form", id: "collection-form", novalidate: true },
    field("Name", name),
    field("Description", description),
    field("Who can read it", visibility),
    create,
  );
  const rowError = errorLine();
  const list = pagedTable({
    api,
    key: "collections",
    label: "Collections",
    empty: "No collections yet.",
    columns: [
      {
        label: "Name",
        cell: (c) =>
          h(
            "div",
            {},
            h("bdi", { class: "collection-name" }, c.name),
            c.description ? h("small", { class: "muted block", dir: "auto" }, c.description) : null,
          ),
      },
      { label: "Who can read it", cell: (c) => visibilityCell(c) },
      { label: "Documents", cell: (c) => (c.document_count == null ? "–" : numberFmt.format(c.document_count)) },
      { label: "", cell: (c) => collectionActions(c) },
    ],
  });

  function visibilitySelect(value, attrs = {}) {
    return select(
      [
        ["tenant", "Everyone in the organisation"],
        ["members", "Only its members"],
      ],
      value,
      attrs,
    );
  }

  function visibilityCell(c) {
    const el = visibilitySelect(c.visibility, { "aria-label": `Who can read ${c.name}`, class: "visibility-select" });
    saveOnChange(el, {
      api,
      path: `/v1/admin/collections/${c.id}`,
      body: () => ({ visibility: el.value }),
      row: c,
      revert: () => (el.value = c.visibility),
      errors: rowError,
      saved: () => ctx.collectionsChanged(),
    });
    return el;
  }

  function collectionActions(c) {
    const members = h("button", { type: "button", class: "btn btn-ghost btn-small", "data-action": "members", "aria-expanded": "false" }, "Members");
    members.addEventListener("click", () => toggleMembers(c, members));
    const del = h("button", { type: "button", class: "btn btn-ghost btn-small btn-danger-text", "data-action": "delete" }, "Delete");
    del.addEventListener("click", async () => {
      const ok = await confirmDialog(
        `Delete the collection “${c.name}”? Its documents, their stored PDFs and search index are deleted with it, for everyone. This cannot be undone.`,
      );
      if (ok)
        await act(del, "Deleting…", rowError, async () => {
          await api.del(`/v1/admin/collections/${c.id}`);
          await list.reload();
          ctx.collectionsChanged();
        });
    });
    return h("div", { class: "row-actions" }, members, del);
  }

  /** The members editor, in a row under the collection's. */
  async function toggleMembers(c, button) {
    const row = /** @type {HTMLTableRowElement} */ (button.closest("tr"));
    const open = row.nextElementSibling?.classList.contains("members-row");
    if (open) {
      row.nextElementSibling?.remove();
      button.setAttribute("aria-expanded", "false");
      return;
    }
    button.setAttribute("aria-expanded", "true");
    const cell = h("td", { colspan: "4" });
    row.after(h("tr", { class: "members-row" }, cell));
    const error = errorLine();
    const listEl = h("ul", { class: "members", "aria-label": `Members of ${c.name}` });
    const people = await ctx.people();
    const who = select([["", "Choose a user…"], ...people.map((u) => [u.id, u.email])], "", {
      "aria-label": `User to add to ${c.name}`,
      class: "member-user",
    });
    const access = select(
      [
        ["read", "can read"],
        ["write", "can add documents"],
      ],
      "read",
      { "aria-label": "Access", class: "member-access" },
    );
    const add = h("button", { type: "submit", class: "btn btn-primary btn-small" }, "Add");
    const form = h("form", { class: "admin-form compact member-form" }, who, access, add);

    async function refresh() {
      try {
        const res = await api.get(`/v1/admin/collections/${c.id}/members?limit=100`);
        listEl.replaceChildren(
          ...res.members.map((m) =>
            h(
              "li",
              { "data-user-id": m.user_id },
              h("bdi", {}, m.email ?? m.user_id),
              h("span", { class: "badge" }, m.access === "write" ? "can add documents" : "can read"),
              h("button", { type: "button", class: "btn btn-ghost btn-small btn-danger-text", onclick: (e) => remove(m, e.currentTarget) }, "Remove"),
            ),
          ),
        );
        if (!res.members.length)
          listEl.append(h("li", { class: "muted" }, c.visibility === "tenant" ? "No members listed: everyone can read it." : "No members yet."));
        showError(error, null);
      } catch (err) {
        showError(error, err);
      }
    }
    async function remove(m, b) {
      await act(b, "Removing…", error, () => api.del(`/v1/admin/collections/${c.id}/members/${m.user_id}`));
      await refresh();
    }
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (!who.value) return showError(error, new Error("Choose a user to add."));
      void act(add, "Adding…", error, async () => {
        await api.put(`/v1/admin/collections/${c.id}/members/${who.value}`, { access: access.value });
        await refresh();
      });
    });
    cell.append(
      h(
        "p",
        { class: "muted" },
        c.visibility === "tenant"
          ? "Everyone reads this collection; members listed with “can add documents” may also upload to it."
          : "Only these users (and admins) can read it.",
      ),
      listEl,
      form,
      error,
    );
    await refresh();
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!name.value.trim()) return showError(createError, new Error("Give the collection a name."));
    void act(create, "Creating…", createError, async () => {
      await api.post("/v1/admin/collections", { name: name.value.trim(), description: description.value.trim(), visibility: visibility.value });
      name.value = "";
      description.value = "";
      await list.reload();
      ctx.collectionsChanged();
    });
  });

  return {
    title: "Collections",
    nodes: [h("h3", {}, "New collection"), form, createError, h("h3", {}, "Collections"), rowError, list.el],
    load: () => list.reload("/v1/admin/collections"),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Settings

function settingsPanel(api) {
  const form = h("form", { class: "settings-form stack", id: "settings-form", novalidate: true });
  const error = errorLine();

  async function load() {
    form.replaceChildren(h("p", { class: "muted" }, "Loading…"));
    try {
      render(await api.get("/v1/admin/settings"));
      showError(error, null);
    } catch (err) {
      form.replaceChildren();
      showError(error, err);
    }
  }

  const limitHint = (max, unit) => (max > 0 ? `At most ${numberFmt.format(max)} ${unit} (the deployment's limit).` : "0: no limit.");

  /** @param {any} res GET/PATCH /v1/admin/settings: the settings in effect and what the deployment offers */
  function render(res) {
    const s = res.settings;
    const d = res.deployment;
    const name = h("input", { value: s.name, maxlength: 100, dir: "auto" });
    const policy = select(
      [
        ["open", "Anyone with an email address"],
        ["domains", "Only emails of these domains"],
        ["invite", "Only invited people"],
      ],
      s.signup_policy,
    );
    const domains = h("textarea", { rows: 2, placeholder: "example.com", spellcheck: "false" });
    domains.value = s.allowed_domains.join("\n");
    const domainsField = field("Allowed email domains", domains, "One per line; a subdomain must be listed itself.");
    const showDomains = () => {
      domainsField.hidden = policy.value !== "domains";
    };
    policy.addEventListener("change", showDomains);
    showDomains();

    const models = d.chat_models.map((m) => h("input", { type: "checkbox", value: m, checked: s.chat_models.includes(m) }));
    const defaultModel = select(
      d.chat_models.map((m) => [m, m]),
      s.default_model,
    );
    const budgetUser = h("input", { type: "number", min: 0, max: d.daily_token_budget_per_user || null, value: s.daily_token_budget_per_user });
    const budgetTenant = h("input", { type: "number", min: 0, max: d.daily_token_budget_per_tenant || null, value: s.daily_token_budget_per_tenant });
    const ocr = h("input", { type: "checkbox", checked: s.ocr_enabled, disabled: !d.ocr_available && !s.ocr_enabled });
    const ocrPages = h("input", { type: "number", min: 0, max: d.ocr_max_pages_per_document, value: s.ocr_max_pages_per_document });
    const origins = h("textarea", { rows: 2, placeholder: "https://app.example.com", spellcheck: "false" });
    origins.value = s.allowed_origins.join("\n");
    const save = h("button", { type: "submit", class: "btn btn-primary" }, "Save settings");

    form.replaceChildren(
      h("fieldset", {}, h("legend", {}, "Organisation"), field("Display name", name)),
      h("fieldset", {}, h("legend", {}, "Who may join"), field("Sign-up policy", policy), domainsField),
      h(
        "fieldset",
        {},
        h("legend", {}, "Chat models"),
        h("div", { class: "checks" }, ...models.map((box) => h("label", { class: "check" }, box, h("code", {}, box.value)))),
        field("Default model", defaultModel),
      ),
      h(
        "fieldset",
        {},
        h("legend", {}, "Daily token budgets"),
        field("Per user", budgetUser, limitHint(d.daily_token_budget_per_user, "tokens")),
        field("For the whole organisation", budgetTenant, limitHint(d.daily_token_budget_per_tenant, "tokens")),
      ),
      h(
        "fieldset",
        {},
        h("legend", {}, "OCR of scanned pages"),
        h("label", { class: "check" }, ocr, d.ocr_available ? "Read scanned pages with OCR" : "Read scanned pages with OCR (off in this deployment)"),
        field("Most pages OCRed per document", ocrPages, limitHint(d.ocr_max_pages_per_document, "pages")),
      ),
      h(
        "fieldset",
        {},
        h("legend", {}, "Browser origins"),
        field("Allowed origins", origins, "One per line; pages on these origins may call the API."),
      ),
      h(
        "div",
        { class: "row end" },
        h("span", { class: "muted" }, `Set here: ${res.customised.join(", ") || "nothing (all deployment defaults)"}`),
        save,
      ),
    );

    form.onsubmit = (e) => {
      e.preventDefault();
      const wanted = {
        name: name.value.trim(),
        signup_policy: policy.value,
        allowed_domains: lines(domains.value),
        chat_models: models.filter((b) => b.checked).map((b) => b.value),
        default_model: defaultModel.value,
        daily_token_budget_per_user: Number(budgetUser.value),
        daily_token_budget_per_tenant: Number(budgetTenant.value),
        ocr_enabled: ocr.checked,
        ocr_max_pages_per_document: Number(ocrPages.value),
        allowed_origins: lines(origins.value),
      };
      // Only what changed: a key left alone keeps following the deployment's default.
      const patch = Object.fromEntries(Object.entries(wanted).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(s[k])));
      if (!Object.keys(patch).length) return toast("Nothing changed.", { kind: "info" });
      void act(save, "Saving…", error, async () => {
        render(await api.patch("/v1/admin/settings", patch));
        toast("Settings saved.", { kind: "success" });
      });
    };
  }

  return { title: "Settings", nodes: [form, error], load };
}

// ---------------------------------------------------------------------------------------------------------------
// Usage

function usagePanel(api) {
  const from = h("input", { type: "date", value: isoDay(29), "aria-label": "From" });
  const to = h("input", { type: "date", value: isoDay(0), "aria-label": "To" });
  const show = h("button", { type: "submit", class: "btn btn-primary" }, "Show");
  const csv = h("button", { type: "button", class: "btn btn-ghost", id: "usage-csv" }, "Download CSV");
  const error = errorLine();
  const byUser = h("div");
  const byModel = h("div");
  const query = () => `from=${from.value}&to=${to.value}`;
  const tokens = ["requests", "prompt_tokens", "completion_tokens", "embedding_tokens", "total_tokens"];
  const heads = ["Requests", "Prompt tokens", "Completion", "Embeddings", "Total"];
  const totals = h("p", { class: "usage-totals" });

  const table = (label, first, rows, key) =>
    rows.length
      ? h(
          "table",
          { class: "admin-table", "aria-label": label },
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, first), ...heads.map((t) => h("th", { scope: "col", class: "num" }, t)))),
          h(
            "tbody",
            {},
            ...rows.map((r) =>
              h("tr", {}, h("td", {}, h("bdi", {}, key(r))), ...tokens.map((t) => h("td", { class: "num" }, numberFmt.format(r[t] ?? 0)))),
            ),
          ),
        )
      : h("p", { class: "muted" }, "No usage in this range.");

  async function load() {
    try {
      const res = await api.get(`/v1/admin/usage?${query()}`);
      totals.textContent = `${numberFmt.format(res.totals.total_tokens)} tokens in ${numberFmt.format(res.totals.requests)} requests.`;
      const person = (r) => (r.id === null ? "(deleted users)" : r.kind === "api_key" ? `API key ${r.email}` : r.email);
      byUser.replaceChildren(table("Usage per user", "User", res.by_user, person));
      const models = Object.entries(res.by_model).map(([model, t]) => ({ model, ...t }));
      byModel.replaceChildren(table("Usage per model", "Model", models, (r) => r.model));
      showError(error, null);
    } catch (err) {
      showError(error, err);
    }
  }
  const form = h("form", { class: "admin-form", id: "usage-form" }, field("From", from), field("To", to), show, csv);
  form.addEventListener("submit", (e) => (e.preventDefault(), load()));
  // The CSV needs the bearer token, so it is fetched and saved rather than linked.
  csv.addEventListener("click", () =>
    act(csv, "Preparing…", error, async () => {
      const res = await api.get(`/v1/admin/usage.csv?${query()}`, { raw: true });
      const url = URL.createObjectURL(await res.blob());
      saveBlob(url, `usage-${from.value}-${to.value}.csv`);
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    }),
  );
  return { title: "Usage", nodes: [form, error, totals, h("h3", {}, "Per user"), byUser, h("h3", {}, "Per model"), byModel], load };
}

// ---------------------------------------------------------------------------------------------------------------
// API keys

function apiKeysPanel(api, ctx) {
  const name = h("input", { required: true, maxlength: 100, placeholder: "Ingestion server" });
  const scope = select(
    [
      ["read", "Read only (search, chat, download)"],
      ["write", "Read and write (also upload and delete)"],
    ],
    "read",
  );
  const expires = h("input", { type: "date", min: isoDay(-1) });
  const scopeCollections = h("select", { multiple: true, size: 3, class: "key-collections" });
  const create = h("button", { type: "submit", class: "btn btn-primary" }, "Create key");
  const error = errorLine();
  const secretSlot = h("div");
  const form = h(
    "form",
    { class: "admin-form", id: "api-key-form", novalidate: true },
    field("Name", name),
    field("Scope", scope),
    field("Expires (optional)", expires),
    field("Only these collections (optional)", scopeCollections, "None chosen: every collection, and the key's own documents."),
    create,
  );
  const rowError = errorLine();
  const list = pagedTable({
    api,
    key: "api_keys",
    label: "API keys",
    empty: "No API keys yet.",
    columns: [
      { label: "Name", cell: (k) => h("bdi", {}, k.name) },
      { label: "Key", cell: (k) => h("code", {}, `${k.prefix}…`) },
      { label: "Scope", cell: (k) => (k.collection_ids?.length ? `${k.scope}, ${k.collection_ids.length} collection(s)` : k.scope) },
      { label: "Last used", cell: (k) => when(k.last_used_at) },
      { label: "Expires", cell: (k) => (k.expires_at ? new Date(k.expires_at).toLocaleDateString() : "never") },
      { label: "", cell: (k) => (k.revoked_at ? h("span", { class: "badge badge-failed" }, "revoked") : revokeButton(k)) },
    ],
  });

  function revokeButton(k) {
    const b = h("button", { type: "button", class: "btn btn-ghost btn-small btn-danger-text", "data-action": "revoke" }, "Revoke");
    b.addEventListener("click", async () => {
      if (!(await confirmDialog(`Revoke the key “${k.name}”? Servers using it are refused within a minute.`, "Revoke"))) return;
      await act(b, "Revoking…", rowError, async () => {
        await api.del(`/v1/admin/api-keys/${k.id}`);
        await list.reload();
      });
    });
    return b;
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!name.value.trim()) return showError(error, new Error("Give the key a name."));
    const body = { name: name.value.trim(), scope: scope.value };
    // The end of the chosen day, in the browser's time zone.
    if (expires.value) body.expires_at = new Date(`${expires.value}T23:59:59`).toISOString();
    const chosen = [...scopeCollections.selectedOptions].map((o) => o.value);
    if (chosen.length) body.collection_ids = chosen;
    void act(create, "Creating…", error, async () => {
      const res = await api.post("/v1/admin/api-keys", body);
      secretSlot.replaceChildren(secretBox(`The key “${res.name}”`, res.key));
      name.value = "";
      await list.reload();
    });
  });

  return {
    title: "API keys",
    nodes: [h("h3", {}, "New API key"), form, error, secretSlot, h("h3", {}, "Keys"), rowError, list.el],
    load: async () => {
      const collections = await ctx.collections();
      scopeCollections.replaceChildren(...collections.map((c) => h("option", { value: c.id }, c.name)));
      await list.reload("/v1/admin/api-keys");
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Webhooks

function webhooksPanel(api) {
  const url = h("input", { type: "url", required: true, placeholder: "https://example.com/hooks/docuchat", spellcheck: "false" });
  const description = h("input", { maxlength: 200, placeholder: "(optional)" });
  const events = WEBHOOK_EVENTS.map((ev) => h("input", { type: "checkbox", value: ev, checked: true }));
  const create = h("button", { type: "submit", class: "btn btn-primary" }, "Add endpoint");
  const error = errorLine();
  const secretSlot = h("div");
  const form = h(
    "form",
    { class: "admin-form", id: "webhook-form", novalidate: true },
    field("HTTPS URL", url),
    field("Description", description),
    h(
      "fieldset",
      { class: "checks" },
      h("legend", {}, "Events"),
      ...events.map((box) => h("label", { class: "check" }, box, h("code", {}, box.value))),
    ),
    create,
  );
  const rowError = errorLine();
  const list = pagedTable({
    api,
    key: "webhooks",
    label: "Webhook endpoints",
    empty: "No webhook endpoints yet.",
    columns: [
      { label: "URL", cell: (w) => h("div", {}, h("code", {}, w.url), w.description ? h("small", { class: "muted block" }, w.description) : null) },
      { label: "Events", cell: (w) => w.events.join(", ") },
      { label: "Enabled", cell: (w) => enabledToggle(w) },
      { label: "", cell: (w) => webhookActions(w) },
    ],
  });

  function enabledToggle(w) {
    const box = h("input", { type: "checkbox", checked: w.enabled, "aria-label": `Deliver to ${w.url}` });
    saveOnChange(box, {
      api,
      path: `/v1/admin/webhooks/${w.id}`,
      body: () => ({ enabled: box.checked }),
      row: w,
      revert: () => (box.checked = w.enabled),
      errors: rowError,
    });
    return box;
  }

  function webhookActions(w) {
    const log = h("button", { type: "button", class: "btn btn-ghost btn-small", "aria-expanded": "false" }, "Deliveries");
    log.addEventListener("click", () => toggleDeliveries(w, log));
    const del = h("button", { type: "button", class: "btn btn-ghost btn-small btn-danger-text" }, "Delete");
    del.addEventListener("click", async () => {
      if (!(await confirmDialog(`Delete the endpoint ${w.url} and its delivery log?`))) return;
      await act(del, "Deleting…", rowError, async () => {
        await api.del(`/v1/admin/webhooks/${w.id}`);
        await list.reload();
      });
    });
    return h("div", { class: "row-actions" }, log, del);
  }

  async function toggleDeliveries(w, button) {
    const row = /** @type {HTMLTableRowElement} */ (button.closest("tr"));
    if (row.nextElementSibling?.classList.contains("members-row")) {
      row.nextElementSibling?.remove();
      button.setAttribute("aria-expanded", "false");
      return;
    }
    button.setAttribute("aria-expanded", "true");
    const cell = h("td", { colspan: "4" }, h("p", { class: "muted" }, "Loading…"));
    row.after(h("tr", { class: "members-row" }, cell));
    try {
      const { deliveries } = await api.get(`/v1/admin/webhooks/${w.id}/deliveries?limit=20`);
      cell.replaceChildren(
        deliveries.length
          ? h(
              "ul",
              { class: "members" },
              ...deliveries.map((d) =>
                h(
                  "li",
                  {},
                  h("code", {}, d.event_type),
                  h("span", { class: `badge ${d.status === "delivered" ? "badge-ready" : d.status === "failed" ? "badge-failed" : ""}` }, d.status),
                  `${d.attempts} attempt(s)${d.response_status ? `, HTTP ${d.response_status}` : ""}`,
                  d.last_error ? h("small", { class: "muted" }, d.last_error) : null,
                  when(d.created_at),
                ),
              ),
            )
          : h("p", { class: "muted" }, "Nothing delivered yet."),
      );
    } catch (err) {
      cell.replaceChildren(h("p", { class: "form-error", role: "alert" }, describeErrorFully(err)));
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!url.value.trim() || !url.checkValidity()) return showError(error, new Error("Enter the endpoint's https:// URL."));
    const chosen = events.filter((b) => b.checked).map((b) => b.value);
    if (!chosen.length) return showError(error, new Error("Choose at least one event."));
    void act(create, "Adding…", error, async () => {
      const res = await api.post("/v1/admin/webhooks", { url: url.value.trim(), description: description.value.trim(), events: chosen });
      secretSlot.replaceChildren(secretBox(`The signing secret of ${res.url}`, res.secret));
      url.value = "";
      description.value = "";
      await list.reload();
    });
  });

  return {
    title: "Webhooks",
    nodes: [h("h3", {}, "New endpoint"), form, error, secretSlot, h("h3", {}, "Endpoints"), rowError, list.el],
    load: () => list.reload("/v1/admin/webhooks"),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The view

/**
 * @param {{ api: any, me: () => any, collectionsChanged: () => void }} options
 */
export function createAdmin({ api, me, collectionsChanged }) {
  const ctx = {
    me,
    collectionsChanged,
    /** Users to add to a collection: people only (an API key's identity is not one). */
    people: async () => (await api.get(`/v1/admin/users?limit=100`)).users.filter((u) => u.status !== "disabled"),
    collections: async () => (await api.get(`/v1/admin/collections?limit=100`)).collections,
  };
  const panels = {
    users: usersPanel(api, ctx),
    collections: collectionsPanel(api, ctx),
    settings: settingsPanel(api),
    usage: usagePanel(api),
    "api-keys": apiKeysPanel(api, ctx),
    webhooks: webhooksPanel(api),
  };
  const tabs = $("admin-tabs");
  const body = $("admin-body");
  let current = "users";

  tabs.replaceChildren(
    ...Object.entries(panels).map(([id, p]) =>
      h(
        "button",
        {
          type: "button",
          role: "tab",
          id: `admin-tab-${id}`,
          "aria-controls": `admin-panel-${id}`,
          "aria-selected": "false",
          tabindex: "-1",
          onclick: () => select(id),
        },
        p.title,
      ),
    ),
  );
  body.replaceChildren(
    ...Object.entries(panels).map(([id, p]) =>
      h(
        "section",
        { class: "admin-panel stack", role: "tabpanel", id: `admin-panel-${id}`, "aria-labelledby": `admin-tab-${id}`, hidden: true },
        ...p.nodes,
      ),
    ),
  );
  // Arrow keys move between tabs (the WAI-ARIA tabs pattern).
  tabs.addEventListener("keydown", (e) => {
    const ids = Object.keys(panels);
    const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
    if (!step) return;
    const rtl = getComputedStyle(tabs).direction === "rtl";
    const next = ids[(ids.indexOf(current) + (rtl ? -step : step) + ids.length) % ids.length];
    select(next);
    $(`admin-tab-${next}`).focus();
  });

  function select(id) {
    current = id;
    for (const key of Object.keys(panels)) {
      const on = key === id;
      const tab = $(`admin-tab-${key}`);
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      $(`admin-panel-${key}`).hidden = !on;
    }
    void Promise.resolve(panels[id].load()).catch((err) => {
      if (!(err instanceof ApiError && err.status === 401)) toast(describeErrorFully(err));
    });
  }

  return { open: () => select(current) };
}
