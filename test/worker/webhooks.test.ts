// Webhooks end to end: documents' events reach a real HTTP receiver, signed as Standard Webhooks says (checked with
// the standardwebhooks library a receiver would use), retried with backoff, and logged in the admin API.
// WEBHOOK_RETRY_DELAYS is "1s,1s,1s" in the tests (test/global-setup.ts): at most 4 attempts.
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import { call, json, upload, waitForIngestion } from "../support/api.ts";
import { sql } from "../support/db.ts";
import { createOrg } from "../support/org.ts";
import { makeEncryptedPdf, makeTextPdf } from "../support/pdf-factory.ts";
import {
  type Admin,
  answerNext,
  createEndpoint,
  deliveriesOf,
  hookPath,
  receivedAt,
  waitForRequests,
  waitForSettledDelivery,
} from "../support/webhooks.ts";

const ALL_EVENTS = ["document.ready", "document.failed", "document.deleted"];
const verify = (secret: string, request: { body: string; headers: Record<string, string> }) =>
  new Webhook(secret).verify(request.body, request.headers);
const uniquePdf = (text: string) => makeTextPdf([`${text} ${crypto.randomUUID()}`]);

let admin: Admin;

beforeAll(async () => {
  const org = await createOrg();
  admin = { tenant: org.tenant, token: org.owner.token };
});

async function uploaded(bytes: Uint8Array, filename: string) {
  const created = await json(await upload(admin.token, bytes, filename, { tenant: admin.tenant }));
  return (await waitForIngestion(admin.token, created.id, { tenant: admin.tenant })).doc;
}

describe("events", () => {
  it("delivers document.ready with a valid signature and the documented payload", async () => {
    const { path, url } = hookPath();
    const endpoint = await createEndpoint(admin, { url, events: ALL_EVENTS, description: "ready test" });
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const doc = await uploaded(uniquePdf("Webhooks announce finished documents."), "ready.pdf");
    expect(doc.status).toBe("ready");

    const [request] = await waitForRequests(path, 1);
    expect(request!.method).toBe("POST");
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(request!.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(Math.abs(Number(request!.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
    expect(verify(endpoint.secret, request!)).toEqual({
      type: "document.ready",
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: { id: doc.id, tenant_id: admin.tenant, filename: "ready.pdf", status: "ready", collection_id: null },
    });
    // Another secret does not verify it.
    expect(() => verify(`whsec_${btoa("x".repeat(32))}`, request!)).toThrow("No matching signature");

    const delivered = await waitForSettledDelivery(admin, endpoint.id);
    expect(delivered).toMatchObject({
      event_type: "document.ready",
      event_id: request!.headers["webhook-id"],
      status: "delivered",
      attempts: 1,
      response_status: 204,
      last_error: null,
      delivered_at: expect.any(String),
    });
  });

  it("delivers document.failed, with the error, for a PDF that cannot be read", async () => {
    const { path, url } = hookPath();
    const endpoint = await createEndpoint(admin, { url, events: ["document.failed"] });
    const doc = await uploaded(makeEncryptedPdf(), "locked.pdf");
    expect(doc.status).toBe("failed");

    const [request] = await waitForRequests(path, 1);
    expect(verify(endpoint.secret, request!)).toMatchObject({
      type: "document.failed",
      data: { id: doc.id, filename: "locked.pdf", status: "failed", error: { code: "encrypted", message: expect.any(String) } },
    });
  });

  it("delivers document.deleted when a document is deleted", async () => {
    const { path, url } = hookPath();
    const endpoint = await createEndpoint(admin, { url, events: ["document.deleted"] });
    const doc = await uploaded(uniquePdf("This document will be deleted."), "gone.pdf");
    expect((await call(`/v1/files/${doc.id}`, { method: "DELETE", tenant: admin.tenant, token: admin.token })).status).toBe(204);

    const [request] = await waitForRequests(path, 1);
    expect(verify(endpoint.secret, request!)).toMatchObject({
      type: "document.deleted",
      data: { id: doc.id, tenant_id: admin.tenant, filename: "gone.pdf", status: "ready", collection_id: null },
    });
    // Only the subscribed event came: the document's ready event was not sent here.
    expect(await receivedAt(path)).toHaveLength(1);
  });
});

describe("retries", () => {
  it("retries a failing receiver with the same webhook-id, and logs 3 attempts when the third succeeds", async () => {
    const { path, url } = hookPath();
    await answerNext(path, 500, 2);
    const endpoint = await createEndpoint(admin, { url, events: ["document.ready"] });
    await uploaded(uniquePdf("Retries until the receiver recovers."), "retry.pdf");

    const requests = await waitForRequests(path, 3);
    expect(new Set(requests.map((r) => r.headers["webhook-id"])).size).toBe(1);
    for (const r of requests) expect(() => verify(endpoint.secret, r)).not.toThrow();
    // The waits between attempts are the configured ones (1 s each).
    const times = requests.map((r) => Date.parse(r.received_at));
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(900);

    expect(await waitForSettledDelivery(admin, endpoint.id)).toMatchObject({
      status: "delivered",
      attempts: 3,
      response_status: 204,
      last_error: null,
    });
  });

  it("gives up after the last attempt and logs the receiver's status", async () => {
    const { path, url } = hookPath();
    await answerNext(path, 503, 100);
    const endpoint = await createEndpoint(admin, { url, events: ["document.ready"] });
    await uploaded(uniquePdf("A receiver that never recovers."), "down.pdf");

    expect(await waitForSettledDelivery(admin, endpoint.id)).toMatchObject({
      status: "failed",
      attempts: 4,
      response_status: 503,
      last_error: "HTTP 503",
      delivered_at: null,
    });
    expect(await receivedAt(path)).toHaveLength(4);
  });

  it("never follows a redirect: it is a failed attempt", async () => {
    const { path, url } = hookPath();
    const { path: elsewhere, url: elsewhereUrl } = hookPath();
    await answerNext(path, 302, 100, elsewhereUrl);
    const endpoint = await createEndpoint(admin, { url, events: ["document.ready"] });
    await uploaded(uniquePdf("Redirects are refused."), "redirect.pdf");

    const settled = await waitForSettledDelivery(admin, endpoint.id);
    expect(settled).toMatchObject({ status: "failed", attempts: 4, response_status: 302 });
    expect(settled.last_error).toContain("redirects are not followed");
    expect(await receivedAt(elsewhere)).toEqual([]);
  });
});

describe("endpoint state", () => {
  it("sends nothing to a disabled endpoint, and again once it is enabled", async () => {
    const { path, url } = hookPath();
    const endpoint = await createEndpoint(admin, { url, events: ["document.ready"] });
    const patch = (enabled: boolean) =>
      call(`/v1/admin/webhooks/${endpoint.id}`, { method: "PATCH", tenant: admin.tenant, token: admin.token, body: { enabled } });
    expect((await json(await patch(false))).enabled).toBe(false);
    await uploaded(uniquePdf("Nobody is listening."), "quiet.pdf");
    expect(await deliveriesOf(admin, endpoint.id)).toEqual([]);

    await patch(true);
    await uploaded(uniquePdf("Someone listens again."), "loud.pdf");
    expect(await waitForRequests(path, 1)).toHaveLength(1);
  });

  it("stops retrying once the endpoint is disabled", async () => {
    const { path, url } = hookPath();
    await answerNext(path, 500, 100);
    const endpoint = await createEndpoint(admin, { url, events: ["document.ready"] });
    await uploaded(uniquePdf("Disabled mid-retry."), "stop.pdf");
    await waitForRequests(path, 1);
    await call(`/v1/admin/webhooks/${endpoint.id}`, { method: "PATCH", tenant: admin.tenant, token: admin.token, body: { enabled: false } });

    const settled = await waitForSettledDelivery(admin, endpoint.id);
    expect(settled).toMatchObject({ status: "failed", last_error: "The endpoint was disabled" });
    expect(settled.attempts).toBeLessThan(4);
  });

  it("sends nothing more, and keeps no log, once the endpoint is deleted", async () => {
    const { path, url } = hookPath();
    await answerNext(path, 500, 100);
    const endpoint = await createEndpoint(admin, { url, events: ["document.ready"] });
    await uploaded(uniquePdf("Deleted mid-retry."), "deleted.pdf");
    await waitForRequests(path, 1);
    expect((await call(`/v1/admin/webhooks/${endpoint.id}`, { method: "DELETE", tenant: admin.tenant, token: admin.token })).status).toBe(204);

    const seen = (await receivedAt(path)).length;
    await new Promise((r) => setTimeout(r, 3_000)); // longer than the remaining retry waits
    expect((await receivedAt(path)).length).toBe(seen);
    expect((await sql().query("select 1 from webhook_deliveries where endpoint_id = $1", [endpoint.id])).length).toBe(0);
  });
});

it("sends a delivery whose queue message was lost again, from the cron", async () => {
  const { path, url } = hookPath();
  const endpoint = await createEndpoint(admin, { url, events: ["document.ready"] });
  // As after a queue send that failed once the row was written: pending, untouched for an hour.
  const payload = { type: "document.ready", timestamp: new Date().toISOString(), data: { id: crypto.randomUUID() } };
  await sql().query(
    `insert into webhook_deliveries (tenant_id, endpoint_id, event_id, event_type, payload, updated_at)
     values ($1, $2, 'msg_lost', 'document.ready', $3::jsonb, now() - interval '1 hour')`,
    [admin.tenant, endpoint.id, JSON.stringify(payload)],
  );
  await worker.scheduled!({ cron: "*/5 * * * *", scheduledTime: Date.now(), noRetry() {} } as ScheduledController, env as never, {} as never);

  const [request] = await waitForRequests(path, 1);
  expect(request!.headers["webhook-id"]).toBe("msg_lost");
  expect(verify(endpoint.secret, request!)).toEqual(payload);
  expect(await waitForSettledDelivery(admin, endpoint.id)).toMatchObject({ status: "delivered", attempts: 1 });
});
