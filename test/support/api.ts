// Test helpers that drive the real Worker (inside workerd) through its public HTTP API.

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { inject } from "vitest";
import worker from "../../src/index.ts";
import { checkContract } from "./openapi-contract.ts";

export interface CallOptions {
  method?: string;
  tenant?: string | null;
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

let counter = 0;
/** A fresh identity per test, so rate limits and cooldowns never leak between tests. */
export const uniqueEmail = (label = "user") => `${label}.${Date.now().toString(36)}.${++counter}.${crypto.randomUUID().slice(0, 8)}@example.com`;
/** A random client IP in 10.0.0.0/8: every test file counts from 0, so a counter alone would repeat across files. */
export const uniqueIp = () => {
  const [a, b, c] = crypto.getRandomValues(new Uint8Array(3));
  return `10.${a}.${b}.${Math.max(1, c!)}`;
};

/** Sends `request` to the Worker and holds the response against the OpenAPI document (see openapi-contract.ts). */
async function fetchChecked(request: Request, send: (request: Request) => Promise<Response>): Promise<Response> {
  const { method, url } = request;
  const res = await send(request);
  await checkContract(method, url, res);
  return res;
}

const fetchWorker = (request: Request) => fetchChecked(request, (r) => exports.default.fetch(r));

export function call(path: string, options: CallOptions = {}): Promise<Response> {
  const headers = new Headers(options.headers);
  if (options.tenant !== null) headers.set("X-Tenant-ID", options.tenant ?? "acme");
  if (options.token) headers.set("Authorization", `Bearer ${options.token}`);
  if (!headers.has("CF-Connecting-IP")) headers.set("CF-Connecting-IP", uniqueIp());
  let body: string | FormData | undefined;
  if (options.body instanceof FormData) body = options.body;
  else if (options.body !== undefined) {
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  }
  return fetchWorker(new Request(`http://docuchat.test${path}`, { method: options.method ?? (body ? "POST" : "GET"), headers, body }));
}

export async function json<T = any>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

export async function requestCode(email: string, tenant = "acme", ip = uniqueIp()): Promise<string> {
  const res = await call("/v1/auth/request-code", { tenant, body: { email }, headers: { "CF-Connecting-IP": ip } });
  if (res.status !== 202) throw new Error(`request-code answered ${res.status}: ${await res.text()}`);
  return (await json<{ dev_code: string }>(res)).dev_code;
}

/** Logs in through the API as a user would; returns the token and user. */
export async function login(email = uniqueEmail(), tenant = "acme") {
  const code = await requestCode(email, tenant);
  const res = await call("/v1/auth/verify-code", { tenant, body: { email, code } });
  if (res.status !== 200) throw new Error(`verify-code answered ${res.status}: ${await res.text()}`);
  const body = await json<{ access_token: string; user: { id: string; email: string; tenant_id: string } }>(res);
  return { token: body.access_token, user: body.user, email };
}

export function expectErrorShape(body: any, code: string) {
  if (!body?.error || body.error.code !== code || typeof body.error.message !== "string" || typeof body.error.request_id !== "string")
    throw new Error(`expected error ${code}, got ${JSON.stringify(body)}`);
}

export function fixturePdf(name: string): Uint8Array {
  const b64 = inject("fixturePdfs")[name];
  if (!b64) throw new Error(`fixture ${name} missing from test/fixtures/pdf`);
  return Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
}

/** A file of test/fixtures/source. */
export function fixtureSource(name: string): string {
  const text = inject("fixtureSources")[name];
  if (text === undefined) throw new Error(`fixture source ${name} missing from test/fixtures/source`);
  return text;
}

/** POST /v1/files; `collectionId` adds the document to that collection (the multipart collection_id field). */
export function upload(
  token: string,
  bytes: Uint8Array | string,
  filename = "doc.pdf",
  options: { tenant?: string; field?: string; collectionId?: string } = {},
) {
  const form = new FormData();
  if (options.collectionId) form.append("collection_id", options.collectionId);
  form.append(options.field ?? "file", new File([bytes], filename, { type: "application/pdf" }));
  return fetchWorker(
    new Request("http://docuchat.test/v1/files", {
      method: "POST",
      headers: { "X-Tenant-ID": options.tenant ?? "acme", Authorization: `Bearer ${token}`, "CF-Connecting-IP": uniqueIp() },
      body: form,
    }),
  );
}

/** Polls the document until it leaves queued/processing; returns it and every progress value seen. */
export async function waitForIngestion(token: string, id: string, { tenant = "acme", timeoutMs = 60_000 } = {}) {
  const seen: Array<{ status: string; pages_done: number }> = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const doc = await json(await call(`/v1/files/${id}`, { tenant, token }));
    seen.push({ status: doc.status, pages_done: doc.progress?.pages_done });
    if (doc.status === "ready" || doc.status === "failed") return { doc, seen };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`document ${id} still not ingested after ${timeoutMs} ms: ${JSON.stringify(seen.at(-1))}`);
}

/** Uploads a PDF and waits until it is ready, failing the test if it ends otherwise; the upload's answer. */
export async function uploadReady(token: string, bytes: Uint8Array, filename: string) {
  const doc = await json(await upload(token, bytes, filename));
  const { doc: done } = await waitForIngestion(token, doc.id);
  if (done.status !== "ready") throw new Error(`${filename} ended ${done.status}, not ready: ${JSON.stringify(done.error)}`);
  return doc;
}

export async function search(token: string, body: Record<string, unknown>, tenant = "acme") {
  const res = await call("/v1/search", { tenant, token, body });
  if (res.status !== 200) throw new Error(`search answered ${res.status}: ${await res.text()}`);
  return (
    await json<{
      results: Array<{ chunk_id: string; file_id: string; filename: string; page_start: number; page_end: number; score: number; text: string }>;
    }>(res)
  ).results;
}

/** Runs the real Worker with some bindings changed, as a differently configured or degraded deployment would. */
export async function fetchWithEnv(path: string, overrides: Record<string, unknown>, init: RequestInit = {}): Promise<Response> {
  return fetchChecked(new Request(`http://docuchat.test${path}`, init), async (request) => {
    const ctx = createExecutionContext();
    const res = await worker.fetch!(request as never, { ...env, ...overrides } as never, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  });
}

/**
 * The rate limits' sliding window weighs the previous window's count down as the current one goes on: a test that
 * counts exactly starts early in a window (windows start at multiples of their length), so that it ends in the same one.
 */
export async function earlyInRateWindow(windowMs = 60_000, needMs = 15_000): Promise<void> {
  const left = windowMs - (Date.now() % windowMs);
  if (left < needMs) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

/** Two fresh users, one with the English manual (lshort-en.pdf) and one with the Persian one (lshort-fa.pdf), both ready. */
export async function manualReaders() {
  const [a, b] = await Promise.all([login(), login()]);
  const [docEn, docFa] = await Promise.all([
    upload(a.token, fixturePdf("lshort-en.pdf"), "lshort-en.pdf").then((r) => json(r)),
    upload(b.token, fixturePdf("lshort-fa.pdf"), "lshort-fa.pdf").then((r) => json(r)),
  ]);
  await Promise.all([waitForIngestion(a.token, docEn.id, { timeoutMs: 120_000 }), waitForIngestion(b.token, docFa.id, { timeoutMs: 120_000 })]);
  return {
    en: { token: a.token, userId: a.user.id, lshort: docEn.id as string },
    fa: { token: b.token, userId: b.user.id, lshort: docFa.id as string },
  };
}
