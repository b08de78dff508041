// npm run seed — loads the sample documents into the running local stack for demo@example.com (tenant demo) through
// the public API, waits until they are searchable and prints a token to use them with. Run it again: documents
// already there are kept, not uploaded twice.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { PROJECT_ROOT, STACK_STATE_FILE } from "./lib/db.ts";

const TENANT = "demo";
const EMAIL = "demo@example.com";
const SAMPLES = ["first-latex-doc-en.pdf", "lshort-en.pdf", "lshort-fa.pdf"].map((f) => join(PROJECT_ROOT, "test/fixtures/pdf", f));
const READY_WITHIN_MS = 5 * 60_000;
/** The last token (valid 7 days), so a second seed neither waits out the login-code cooldown nor spends a code. */
const TOKEN_FILE = join(PROJECT_ROOT, ".docuchat/demo-token");

function apiUrl(): string {
  if (process.env.API_URL) return process.env.API_URL;
  if (existsSync(STACK_STATE_FILE)) return (JSON.parse(readFileSync(STACK_STATE_FILE, "utf8")) as { apiUrl: string }).apiUrl;
  throw new Error("No API: start the local stack with `npm run dev` in another terminal (or set API_URL).");
}

const API = apiUrl();

async function api<T>(path: string, init: RequestInit & { token?: string } = {}): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set("X-Tenant-ID", TENANT);
  if (init.token) headers.set("Authorization", `Bearer ${init.token}`);
  const res = await fetch(`${API}${path}`, { ...init, headers });
  const body = (await res.json()) as T & { error?: { code: string; message: string } };
  if (!res.ok) throw Object.assign(new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${body.error?.code}: ${body.error?.message}`), { res });
  return body;
}

const post = (body: unknown) =>
  ({ method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }) satisfies RequestInit;

async function token(): Promise<string> {
  const saved = existsSync(TOKEN_FILE) ? readFileSync(TOKEN_FILE, "utf8") : "";
  if (
    saved &&
    (await api("/v1/me", { token: saved }).then(
      () => true,
      () => false,
    ))
  )
    return saved;
  const fresh = await login();
  writeFileSync(TOKEN_FILE, fresh, { mode: 0o600 });
  return fresh;
}

async function login(): Promise<string> {
  let sent: { dev_code?: string };
  try {
    sent = await api("/v1/auth/request-code", post({ email: EMAIL }));
  } catch (err) {
    // A second seed within the resend cooldown: wait it out once rather than fail.
    const retryAfter = Number((err as { res?: Response }).res?.headers.get("Retry-After"));
    if (!retryAfter) throw err;
    console.log(`waiting ${retryAfter} s for the login-code cooldown…`);
    await new Promise((r) => setTimeout(r, retryAfter * 1000));
    sent = await api("/v1/auth/request-code", post({ email: EMAIL }));
  }
  if (!sent.dev_code) throw new Error("The API did not return dev_code: seed needs the local stack (DEV_RETURN_LOGIN_CODE=true).");
  const verified = await api<{ access_token: string }>("/v1/auth/verify-code", post({ email: EMAIL, code: sent.dev_code }));
  return verified.access_token;
}

interface Doc {
  id: string;
  filename: string;
  status: string;
  progress?: { pages_done: number; pages_total: number | null };
  error?: { code: string } | null;
}

async function existing(token: string): Promise<Doc[]> {
  const docs: Doc[] = [];
  let cursor: string | null = null;
  do {
    const page: { files: Doc[]; next_cursor: string | null } = await api(`/v1/files${cursor ? `?cursor=${cursor}` : ""}`, { token });
    docs.push(...page.files);
    cursor = page.next_cursor;
  } while (cursor);
  return docs;
}

async function waitUntilDone(token: string, doc: Doc): Promise<Doc> {
  const deadline = Date.now() + READY_WITHIN_MS;
  for (;;) {
    const now = await api<Doc>(`/v1/files/${doc.id}`, { token });
    if (now.status !== "queued" && now.status !== "processing") return now;
    if (Date.now() > deadline) throw new Error(`${doc.filename} is still ${now.status} after ${READY_WITHIN_MS / 60_000} minutes`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

try {
  const started = performance.now();
  const bearer = await token();
  const have = await existing(bearer);
  const docs: Doc[] = [];
  for (const path of SAMPLES) {
    const filename = basename(path);
    const kept = have.find((d) => d.filename === filename && d.status !== "failed");
    if (kept) {
      docs.push(kept);
      continue;
    }
    const form = new FormData();
    form.set("file", new Blob([readFileSync(path)], { type: "application/pdf" }), filename);
    docs.push(await api<Doc>("/v1/files", { method: "POST", body: form, token: bearer }));
  }
  const done = await Promise.all(docs.map((d) => waitUntilDone(bearer, d)));
  for (const d of done)
    console.log(`${d.status.padEnd(6)} ${d.filename}  ${d.id}  ${d.progress?.pages_total ?? "?"} pages${d.error ? `  (${d.error.code})` : ""}`);
  console.log(`\nSeeded ${EMAIL} in tenant '${TENANT}' in ${((performance.now() - started) / 1000).toFixed(1)} s. In your shell:\n`);
  console.log(`API=${API}`);
  console.log(`TOKEN=${bearer}`);
  if (done.some((d) => d.status !== "ready")) process.exit(1);
} catch (err) {
  console.error(`seed failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
