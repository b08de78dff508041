// Webhooks: who may manage them, tenant isolation of endpoints and events, the URL rules (SSRF), the endpoint limit,
// the secret shown once, and the audit trail.
import { beforeAll, describe, expect, it } from "vitest";
import { checkWebhookUrl } from "../../src/webhooks/url.ts";
import { call, expectErrorShape, json, upload, waitForIngestion } from "../support/api.ts";
import { sql } from "../support/db.ts";
import { createOrg, type LoggedIn } from "../support/org.ts";
import { makeTextPdf } from "../support/pdf-factory.ts";
import { type Admin, createEndpoint, deliveriesOf, hookPath, receivedAt, waitForRequests } from "../support/webhooks.ts";

let org: Awaited<ReturnType<typeof createOrg>>;
let admin: Admin;
let endpointId: string;

beforeAll(async () => {
  org = await createOrg();
  admin = { tenant: org.tenant, token: org.owner.token };
  endpointId = (await createEndpoint(admin, { url: hookPath().url, events: ["document.ready"] })).id;
});

const as = (who: LoggedIn, path: string, method = "GET", body?: unknown) => call(path, { tenant: org.tenant, token: who.token, method, body });

describe("roles", () => {
  const routes = (id: () => string): Array<[string, () => string, unknown?]> => [
    ["GET", () => "/v1/admin/webhooks"],
    ["POST", () => "/v1/admin/webhooks", { url: hookPath().url, events: ["document.ready"] }],
    ["GET", () => `/v1/admin/webhooks/${id()}`],
    ["PATCH", () => `/v1/admin/webhooks/${id()}`, { description: "changed" }],
    ["GET", () => `/v1/admin/webhooks/${id()}/deliveries`],
    ["DELETE", () => `/v1/admin/webhooks/${id()}`],
  ];

  it.each(["owner", "admin"] as const)("an %s may use every webhook route", async (role) => {
    const who = role === "owner" ? org.owner : await org.user("admin");
    let id = "";
    const expected = { GET: 200, POST: 201, PATCH: 200, DELETE: 204 } as Record<string, number>;
    for (const [method, path, body] of routes(() => id)) {
      const res = await as(who, path(), method, body);
      expect(res.status, `${method} ${path()}`).toBe(expected[method]);
      if (method === "POST") id = (await json(res)).id;
    }
  });

  it("a member is refused every webhook route with 403 forbidden", async () => {
    const member = await org.user("member");
    for (const [method, path, body] of routes(() => endpointId)) {
      const res = await as(member, path(), method, body);
      expect(res.status, `${method} ${path()}`).toBe(403);
      expectErrorShape(await json(res), "forbidden");
    }
    expect((await json(await call(`/v1/admin/webhooks/${endpointId}`, { tenant: org.tenant, token: org.owner.token }))).description).toBe("");
  });
});

describe("another tenant", () => {
  let other: Admin;
  beforeAll(async () => {
    const otherOrg = await createOrg();
    other = { tenant: otherOrg.tenant, token: otherOrg.owner.token };
  });

  it.each([
    ["GET", ""],
    ["PATCH", ""],
    ["GET", "/deliveries"],
    ["DELETE", ""],
  ])("gets 404 webhook_not_found for %s of an endpoint%s", async (method, suffix) => {
    const res = await call(`/v1/admin/webhooks/${endpointId}${suffix}`, {
      method,
      tenant: other.tenant,
      token: other.token,
      body: method === "PATCH" ? { enabled: false } : undefined,
    });
    expect(res.status).toBe(404);
    expectErrorShape(await json(res), "webhook_not_found");
  });

  it("does not list the endpoint", async () => {
    const list = await json(await call("/v1/admin/webhooks", { tenant: other.tenant, token: other.token }));
    expect(list.webhooks.map((w: { id: string }) => w.id)).not.toContain(endpointId);
  });

  it("never sends its events to this tenant's endpoints", async () => {
    const mine = hookPath();
    const theirs = hookPath();
    const myEndpoint = await createEndpoint(admin, { url: mine.url, events: ["document.ready"] });
    await createEndpoint(other, { url: theirs.url, events: ["document.ready"] });
    const created = await json(
      await upload(other.token, makeTextPdf([`Globex only ${crypto.randomUUID()}`]), "theirs.pdf", { tenant: other.tenant }),
    );
    expect((await waitForIngestion(other.token, created.id, { tenant: other.tenant })).doc.status).toBe("ready");

    await waitForRequests(theirs.path, 1);
    expect(await receivedAt(mine.path)).toEqual([]);
    expect(await deliveriesOf(admin, myEndpoint.id)).toEqual([]);
  });
});

describe("URL rules", () => {
  it.each([
    ["not a URL", "example.com/hook"],
    ["another scheme", "ftp://example.com/hook"],
    ["plain http to a public host", "http://example.com/hook"],
    ["credentials", "https://user:pass@example.com/hook"],
    ["a private address", "https://10.1.2.3/hook"],
    ["a private address spelled as one number", "https://167772161/hook"],
    ["the cloud metadata address", "https://169.254.169.254/latest/meta-data"],
    ["a 192.168 address", "https://192.168.0.10/hook"],
    ["an IPv6 unique-local address", "https://[fd00::1]/hook"],
    ["an IPv4-mapped private address", "https://[::ffff:10.0.0.1]/hook"],
    ["a URL over 2048 characters", `https://example.com/${"a".repeat(2048)}`],
  ])("refuses %s with 400 validation_failed naming url", async (_label, url) => {
    const res = await call("/v1/admin/webhooks", { tenant: admin.tenant, token: admin.token, body: { url, events: ["document.ready"] } });
    expect(res.status).toBe(400);
    const body = await json(res);
    expectErrorShape(body, "validation_failed");
    expect(body.error.message).toMatch(/^url/);
  });

  it("refuses a URL change to a private address", async () => {
    const res = await call(`/v1/admin/webhooks/${endpointId}`, {
      method: "PATCH",
      tenant: admin.tenant,
      token: admin.token,
      body: { url: "https://10.0.0.1/" },
    });
    expect(res.status).toBe(400);
    expect((await json(res)).error.message).toMatch(/^url/);
  });

  it("allows http to localhost in development, where the tests run", async () => {
    for (const url of [hookPath().url, "http://localhost:9/hook", "https://hooks.example.com/docuchat"]) {
      const created = await createEndpoint(admin, { url, events: ["document.deleted"] });
      await call(`/v1/admin/webhooks/${created.id}`, { method: "DELETE", tenant: admin.tenant, token: admin.token });
    }
  });

  it("in production allows only https to public hosts", () => {
    expect(checkWebhookUrl("https://hooks.example.com/x", "production")).toBe("https://hooks.example.com/x");
    expect(checkWebhookUrl("https://93.184.216.34/x", "production")).toBe("https://93.184.216.34/x");
    for (const url of [
      "http://hooks.example.com/x",
      "https://localhost/x",
      "https://api.localhost/x",
      "https://127.0.0.1/x",
      "https://0x7f.1/x",
      "https://[::1]/x",
      "https://[fe80::1]/x",
      "https://0.0.0.0/x",
      "https://100.64.0.1/x",
      "https://172.16.0.1/x",
      "https://224.0.0.1/x",
    ])
      expect(() => checkWebhookUrl(url, "production"), url).toThrow();
  });
});

describe("input limits", () => {
  const create = (body: unknown) => call("/v1/admin/webhooks", { tenant: admin.tenant, token: admin.token, body });

  it.each([
    ["no events", { url: "https://example.com/a", events: [] }, /^events/],
    ["an unknown event", { url: "https://example.com/a", events: ["document.read"] }, /^events/],
    ["a repeated event", { url: "https://example.com/a", events: ["document.ready", "document.ready"] }, /^events/],
    ["a description over 500 characters", { url: "https://example.com/a", events: ["document.ready"], description: "d".repeat(501) }, /^description/],
    ["no url", { events: ["document.ready"] }, /^url/],
  ])("refuses %s with 400 validation_failed naming the field", async (_label, body, field) => {
    const res = await create(body);
    expect(res.status).toBe(400);
    const error = (await json(res)).error;
    expect(error.code).toBe("validation_failed");
    expect(error.message).toMatch(field);
  });

  it("refuses an empty PATCH", async () => {
    const res = await call(`/v1/admin/webhooks/${endpointId}`, { method: "PATCH", tenant: admin.tenant, token: admin.token, body: {} });
    expect(res.status).toBe(400);
    expectErrorShape(await json(res), "validation_failed");
  });

  it("allows at most 10 endpoints per tenant (409 webhook_limit_reached)", async () => {
    const fresh = await createOrg();
    const owner = { tenant: fresh.tenant, token: fresh.owner.token };
    for (let i = 0; i < 10; i++) await createEndpoint(owner, { url: `https://example.com/${i}`, events: ["document.ready"] });
    const res = await call("/v1/admin/webhooks", {
      tenant: owner.tenant,
      token: owner.token,
      body: { url: "https://example.com/11", events: ["document.ready"] },
    });
    expect(res.status).toBe(409);
    expectErrorShape(await json(res), "webhook_limit_reached");
    expect((await json(await call("/v1/admin/webhooks", { tenant: owner.tenant, token: owner.token }))).webhooks).toHaveLength(10);
  });

  it("pages the delivery log with limit and cursor, and refuses a forged cursor", async () => {
    const res = await call(`/v1/admin/webhooks/${endpointId}/deliveries?limit=101`, { tenant: admin.tenant, token: admin.token });
    expect(res.status).toBe(400);
    const forged = await call(`/v1/admin/webhooks/${endpointId}/deliveries?cursor=nope`, { tenant: admin.tenant, token: admin.token });
    expect(forged.status).toBe(400);
    expectErrorShape(await json(forged), "invalid_cursor");
  });
});

describe("the secret", () => {
  it("is shown at creation only: never listed, read back or audited", async () => {
    const created = await createEndpoint(admin, { url: hookPath().url, events: ["document.ready"], description: "secret test" });
    const one = await json(await call(`/v1/admin/webhooks/${created.id}`, { tenant: admin.tenant, token: admin.token }));
    const list = await json(await call("/v1/admin/webhooks", { tenant: admin.tenant, token: admin.token }));
    expect(one).not.toHaveProperty("secret");
    expect(JSON.stringify(list)).not.toContain(created.secret);
    const audit = await sql().query("select details::text as d from audit_log where tenant_id = $1", [admin.tenant]);
    for (const row of audit) expect((row as { d: string }).d).not.toContain(created.secret.slice(6));
  });
});

it("audits create, update and delete with who did it and what changed", async () => {
  const { url } = hookPath();
  const created = await createEndpoint(admin, { url, events: ["document.ready"] });
  await call(`/v1/admin/webhooks/${created.id}`, {
    method: "PATCH",
    tenant: admin.tenant,
    token: admin.token,
    body: { events: ["document.ready", "document.failed"], enabled: false },
  });
  await call(`/v1/admin/webhooks/${created.id}`, { method: "DELETE", tenant: admin.tenant, token: admin.token });
  const rows = (await sql().query("select action, actor_user_id, details from audit_log where tenant_id = $1 and target_id = $2 order by id", [
    admin.tenant,
    created.id,
  ])) as Array<{ action: string; actor_user_id: string; details: Record<string, unknown> }>;
  expect(rows.map((r) => r.action)).toEqual(["webhook.create", "webhook.update", "webhook.delete"]);
  expect(rows.every((r) => r.actor_user_id === org.owner.user.id)).toBe(true);
  expect(rows[0]!.details).toMatchObject({ url, events: ["document.ready"] });
  expect(rows[1]!.details).toEqual({
    events: { from: ["document.ready"], to: ["document.ready", "document.failed"] },
    enabled: { from: true, to: false },
  });
  expect(rows[2]!.details).toEqual({ url });
});
