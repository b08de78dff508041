// Test helpers that drive the real Worker (inside workerd) through its public HTTP API.
import { exports } from "cloudflare:workers";

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
export const uniqueIp = () => `10.${(counter >> 8) & 255}.${++counter & 255}.${Math.floor(Math.random() * 254) + 1}`;

export function call(path: string, options: CallOptions = {}): Promise<Response> {
  const headers = new Headers(options.headers);
  if (options.tenant !== null) headers.set("X-Tenant-ID", options.tenant ?? "acme");
  if (options.token) headers.set("Authorization", `Bearer ${options.token}`);
  if (!headers.has("CF-Connecting-IP")) headers.set("CF-Connecting-IP", uniqueIp());
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  }
  return exports.default.fetch(new Request(`http://docuchat.test${path}`, { method: options.method ?? (body ? "POST" : "GET"), headers, body }));
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
