// The workerd side of the test webhook receiver (test/support/webhook-receiver.ts), and the webhook admin calls.
import { inject } from "vitest";
import { call, json } from "./api.ts";
import type { ReceivedRequest } from "./webhook-receiver.ts";

const receiver = (path: string) => `${inject("webhookReceiverUrl")}${path}`;

/** A receiver path of the test's own, and its full URL. */
export function hookPath() {
  const path = `/hooks/${crypto.randomUUID()}`;
  return { path, url: receiver(path) };
}

export async function receivedAt(path: string): Promise<ReceivedRequest[]> {
  const res = await fetch(receiver(`/__requests?path=${encodeURIComponent(path)}`));
  return (await res.json<{ requests: ReceivedRequest[] }>()).requests;
}

/** The next `times` requests to `path` are answered `status` (then 204 again). */
export async function answerNext(path: string, status: number, times: number, location?: string): Promise<void> {
  await fetch(receiver("/__answers"), { method: "POST", body: JSON.stringify({ path, status, times, location }) });
}

/** Waits until `path` has received at least `n` requests. */
export async function waitForRequests(path: string, n: number, timeoutMs = 20_000): Promise<ReceivedRequest[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await receivedAt(path);
    if (got.length >= n) return got;
    if (Date.now() > deadline) throw new Error(`${path} received ${got.length} of ${n} requests within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Admin {
  tenant: string;
  token: string;
}

export async function createEndpoint(admin: Admin, body: Record<string, unknown>) {
  const res = await call("/v1/admin/webhooks", { tenant: admin.tenant, token: admin.token, body });
  if (res.status !== 201) throw new Error(`create webhook answered ${res.status}: ${await res.text()}`);
  return json<{ id: string; secret: string; url: string; events: string[] }>(res);
}

export async function deliveriesOf(admin: Admin, endpointId: string): Promise<any[]> {
  const res = await call(`/v1/admin/webhooks/${endpointId}/deliveries`, { tenant: admin.tenant, token: admin.token });
  if (res.status !== 200) throw new Error(`deliveries answered ${res.status}: ${await res.text()}`);
  return (await json(res)).deliveries;
}

/** Waits until the endpoint's newest delivery is no longer pending, and returns it. */
export async function waitForSettledDelivery(admin: Admin, endpointId: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [newest] = await deliveriesOf(admin, endpointId);
    if (newest && newest.status !== "pending") return newest;
    if (Date.now() > deadline) throw new Error(`delivery still ${JSON.stringify(newest)} after ${timeoutMs} ms`);
    // Slower than the receiver's poll: these calls count against the admin's API rate limit.
    await new Promise((r) => setTimeout(r, 250));
  }
}
