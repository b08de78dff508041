// The audit log through GET /v1/admin/audit-log: every admin action with who, what, when and the request id, newest
// first, paged, filtered by action; readable by owners and admins of the tenant only.
import { beforeAll, describe, expect, it } from "vitest";
import { call, json } from "../support/api.ts";
import { createOrg } from "../support/org.ts";

type Org = Awaited<ReturnType<typeof createOrg>>;
let org: Org;
const requestIds: string[] = [];

const auditLog = (query = "", token = org.owner.token, tenant = org.tenant) => call(`/v1/admin/audit-log${query}`, { tenant, token });

beforeAll(async () => {
  org = await createOrg();
  // Five admin actions, one after the other: each answer's X-Request-Id is the entry's request_id.
  for (const name of ["One", "Two", "Three", "Four"]) {
    const res = await call("/v1/admin/settings", { method: "PATCH", tenant: org.tenant, token: org.owner.token, body: { name } });
    requestIds.push(res.headers.get("X-Request-Id")!);
  }
  const res = await call("/v1/admin/settings", { method: "PATCH", tenant: org.tenant, token: org.owner.token, body: { signup_policy: "invite" } });
  requestIds.push(res.headers.get("X-Request-Id")!);
});

describe("reading the audit log", () => {
  it("says who did what to which object, with what changed and the request id", async () => {
    const { entries } = await json(await auditLog());
    expect(entries[0]).toEqual({
      id: expect.stringMatching(/^\d+$/),
      actor: { id: org.owner.user.id, email: org.owner.email },
      action: "settings.update",
      target_type: "tenant",
      target_id: org.tenant,
      details: { signup_policy: { from: "open", to: "invite" } },
      request_id: requestIds[4],
      created_at: expect.any(String),
    });
    expect(entries[1].details).toEqual({ name: { from: "Three", to: "Four" } });
  });

  it("pages newest first with a cursor, every entry once", async () => {
    const seen: any[] = [];
    let cursor: string | null = "";
    let pages = 0;
    while (cursor !== null) {
      const page: any = await json(await auditLog(`?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`));
      expect(page.entries.length).toBeLessThanOrEqual(2);
      seen.push(...page.entries);
      cursor = page.next_cursor;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen.map((e) => e.request_id)).toEqual([...requestIds].reverse());
    const ids = seen.map((e) => BigInt(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a > b ? -1 : 1)));
  });

  it("filters by action", async () => {
    expect((await json(await auditLog("?action=settings.update"))).entries).toHaveLength(5);
    expect(await json(await auditLog("?action=user.update"))).toEqual({ entries: [], next_cursor: null });
  });

  it.each([
    ["?limit=0", "validation_failed"],
    ["?limit=101", "validation_failed"],
    ["?action=DROP%20TABLE", "validation_failed"],
    ["?cursor=not-a-cursor", "invalid_cursor"],
    // A cursor of a list whose ids are uuids is not one of this list's.
    [`?cursor=${btoa(JSON.stringify([new Date().toISOString(), crypto.randomUUID()]))}`, "invalid_cursor"],
    [`?cursor=${btoa(JSON.stringify(["0001-01-01T00:00:00.000Z", "1"]))}`, "invalid_cursor"],
  ])("refuses %s with 400 %s", async (query, code) => {
    const res = await auditLog(query);
    expect(res.status).toBe(400);
    expect((await json(res)).error.code).toBe(code);
  });
});

describe("who may read the audit log", () => {
  it("an admin may", async () => {
    const admin = await org.user("admin");
    expect((await json(await auditLog("", admin.token))).entries.length).toBeGreaterThanOrEqual(5);
  });

  it("a member gets 403 forbidden", async () => {
    const member = await org.user("member");
    const res = await auditLog("", member.token);
    expect(res.status).toBe(403);
    expect((await json(res)).error.code).toBe("forbidden");
  });

  it("another tenant's owner sees only their own tenant's entries, and cannot ask for this one's", async () => {
    const other = await createOrg();
    expect(await json(await auditLog("", other.owner.token, other.tenant))).toEqual({ entries: [], next_cursor: null });
    const res = await auditLog("", other.owner.token, org.tenant);
    expect(res.status).toBe(403);
    expect((await json(res)).error.code).toBe("tenant_mismatch");
  });
});
