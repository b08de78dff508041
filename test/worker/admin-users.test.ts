// The people of an organisation as its admins manage them: list, invite, change role and status, under the owner rules.
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { call, expectErrorShape, json, login, uniqueEmail } from "../support/api.ts";
import { ChatClient } from "../support/chat.ts";
import { sql } from "../support/db.ts";
import { createOrg, type LoggedIn } from "../support/org.ts";

type Org = Awaited<ReturnType<typeof createOrg>>;

let org: Org;
let admin: LoggedIn;
let member: LoggedIn;

beforeAll(async () => {
  org = await createOrg();
  admin = await org.user("admin");
  member = await org.user("member");
});

afterEach(() => vi.restoreAllMocks());

const patch = (tenant: string, token: string, id: string, body: unknown) => call(`/v1/admin/users/${id}`, { method: "PATCH", tenant, token, body });
const standing = async (tenant: string, id: string) =>
  (await sql().query("select role, status from users where tenant_id = $1 and id = $2", [tenant, id]))[0] as
    | { role: string; status: string }
    | undefined;
const auditEntries = async (tenant: string, action: string, targetId: string) =>
  (await sql().query(
    "select actor_user_id, actor_email, details, request_id from audit_log where tenant_id = $1 and action = $2 and target_id = $3 order by id",
    [tenant, action, targetId],
  )) as Array<{ actor_user_id: string; actor_email: string; details: Record<string, unknown>; request_id: string | null }>;

async function listAll(tenant: string, token: string, query = "") {
  const res = await call(`/v1/admin/users${query}`, { tenant, token });
  expect(res.status, await res.clone().text()).toBe(200);
  return json<{
    users: Array<{ id: string; email: string; role: string; status: string; last_login_at: string | null }>;
    next_cursor: string | null;
  }>(res);
}

describe("listing", () => {
  it("pages through every person of the organisation exactly once, newest first", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await listAll(org.tenant, admin.token, `?limit=1${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.users.length).toBeLessThanOrEqual(1);
      seen.push(...page.users.map((u) => u.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining([org.owner.user.id, admin.user.id, member.user.id]));
    expect(seen.slice(-3)).toEqual([member.user.id, admin.user.id, org.owner.user.id]);
  });

  it("shows role, status and last login, and never another organisation's people or an API key's identity", async () => {
    const other = await createOrg();
    const keyIdentity = uniqueEmail("key");
    await sql().query("insert into users (tenant_id, email, kind) values ($1, $2, 'api_key')", [org.tenant, keyIdentity]);
    const { users } = await listAll(org.tenant, admin.token, "?limit=100");
    expect(users.find((u) => u.id === member.user.id)).toMatchObject({ email: member.email, role: "member", status: "active" });
    expect(users.find((u) => u.id === member.user.id)?.last_login_at).not.toBeNull();
    expect(users.some((u) => u.id === other.owner.user.id || u.email === keyIdentity)).toBe(false);
  });

  it("filters by a part of the email, case-insensitively, taking % and _ literally", async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    const underscore = await org.user("member", `pat_${tag}@example.com`);
    await org.user("member", `patx${tag}@example.com`);
    expect((await listAll(org.tenant, admin.token, `?email=PAT_${tag.toUpperCase()}`)).users.map((u) => u.id)).toEqual([underscore.user.id]);
    expect((await listAll(org.tenant, admin.token, `?email=${encodeURIComponent("%")}`)).users).toEqual([]);
    expect((await listAll(org.tenant, admin.token, `?email=${tag}`)).users).toHaveLength(2);
  });

  it("filters by role and status", async () => {
    const admins = (await listAll(org.tenant, admin.token, "?role=admin&limit=100")).users;
    expect(admins.length).toBeGreaterThan(0);
    expect(admins.every((u) => u.role === "admin")).toBe(true);
    const disabled = await org.user("member");
    await sql().query("update users set status = 'disabled' where id = $1", [disabled.user.id]);
    expect((await listAll(org.tenant, admin.token, "?status=disabled&limit=100")).users.map((u) => u.id)).toContain(disabled.user.id);
    expect((await listAll(org.tenant, admin.token, "?status=active&limit=100")).users.map((u) => u.id)).not.toContain(disabled.user.id);
  });

  it.each([
    ["an unknown role", "?role=king"],
    ["an unknown status", "?status=asleep"],
    ["an email over 254 characters", `?email=${"a".repeat(255)}`],
    ["a limit over 100", "?limit=101"],
  ])("refuses %s with 400 validation_failed", async (_label, query) => {
    const res = await call(`/v1/admin/users${query}`, { tenant: org.tenant, token: admin.token });
    expect(res.status).toBe(400);
    expectErrorShape(await json(res), "validation_failed");
  });
});

describe("inviting", () => {
  it("creates an invited user, emails them, audits it, and lets them log in", async () => {
    const logged = vi.spyOn(console, "log");
    const email = uniqueEmail("invitee");
    const res = await call("/v1/admin/users", { tenant: org.tenant, token: admin.token, body: { email: email.toUpperCase(), role: "admin" } });
    expect(res.status).toBe(201);
    const invited = await json(res);
    expect(invited).toMatchObject({ email, role: "admin", status: "invited", last_login_at: null });
    const mail = logged.mock.calls.map(([line]) => String(line)).find((line) => line.includes(email));
    expect(mail).toContain(`You are invited to Org ${org.tenant}`);

    const [entry] = await auditEntries(org.tenant, "user.invite", invited.id);
    expect(entry).toMatchObject({ actor_user_id: admin.user.id, actor_email: admin.email, details: { role: "admin" } });
    expect(entry!.request_id).toBeTruthy();

    const session = await login(email, org.tenant);
    expect(session.user.id).toBe(invited.id);
    expect((await call("/v1/admin/users", { tenant: org.tenant, token: session.token })).status).toBe(200);
  });

  it("refuses an email that already is a user, whatever its case, with 409 user_exists", async () => {
    const res = await call("/v1/admin/users", {
      tenant: org.tenant,
      token: admin.token,
      body: { email: member.email.toUpperCase(), role: "member" },
    });
    expect(res.status).toBe(409);
    expectErrorShape(await json(res), "user_exists");
  });

  it("lets only an owner invite an owner", async () => {
    const byAdmin = await call("/v1/admin/users", { tenant: org.tenant, token: admin.token, body: { email: uniqueEmail(), role: "owner" } });
    expect(byAdmin.status).toBe(403);
    expectErrorShape(await json(byAdmin), "forbidden");
    const byOwner = await call("/v1/admin/users", { tenant: org.tenant, token: org.owner.token, body: { email: uniqueEmail(), role: "owner" } });
    expect(byOwner.status).toBe(201);
  });

  it.each([
    ["no email", { role: "member" }],
    ["a malformed email", { email: "not-an-email", role: "member" }],
    ["an unknown role", { email: uniqueEmail(), role: "king" }],
  ])("refuses %s with 400 validation_failed", async (_label, body) => {
    const res = await call("/v1/admin/users", { tenant: org.tenant, token: admin.token, body });
    expect(res.status).toBe(400);
    expectErrorShape(await json(res), "validation_failed");
  });
});

describe("changing role and status", () => {
  it("promotes and demotes, effective on the user's next request, with the change in the audit log", async () => {
    const user = await org.user("member");
    expect((await call("/v1/admin/users", { tenant: org.tenant, token: user.token })).status).toBe(403);

    const promoted = await patch(org.tenant, admin.token, user.user.id, { role: "admin" });
    expect(promoted.status).toBe(200);
    expect(await json(promoted)).toMatchObject({ id: user.user.id, role: "admin", status: "active" });
    expect((await call("/v1/admin/users", { tenant: org.tenant, token: user.token })).status).toBe(200);

    expect((await patch(org.tenant, admin.token, user.user.id, { role: "member" })).status).toBe(200);
    expect((await call("/v1/admin/users", { tenant: org.tenant, token: user.token })).status).toBe(403);

    const entries = await auditEntries(org.tenant, "user.update", user.user.id);
    expect(entries.map((e) => e.details)).toEqual([{ role: { from: "member", to: "admin" } }, { role: { from: "admin", to: "member" } }]);
  });

  it("a disabled user's token gets 401 on their next request, and works again once enabled", async () => {
    const user = await org.user("member");
    expect((await call("/v1/me", { tenant: org.tenant, token: user.token })).status).toBe(200);
    expect((await patch(org.tenant, admin.token, user.user.id, { status: "disabled" })).status).toBe(200);
    const refused = await call("/v1/me", { tenant: org.tenant, token: user.token });
    expect(refused.status).toBe(401);
    expectErrorShape(await json(refused), "unauthorized");
    expect((await patch(org.tenant, admin.token, user.user.id, { status: "active" })).status).toBe(200);
    expect((await call("/v1/me", { tenant: org.tenant, token: user.token })).status).toBe(200);
    expect((await auditEntries(org.tenant, "user.update", user.user.id)).map((e) => e.details)).toEqual([
      { status: { from: "active", to: "disabled" } },
      { status: { from: "disabled", to: "active" } },
    ]);
  });

  it("a disabled user's open chat socket is closed with 4003 at their next message", async () => {
    const user = await org.user("member");
    const chat = await ChatClient.open({ tenant: org.tenant, token: user.token });
    try {
      expect((await patch(org.tenant, admin.token, user.user.id, { status: "disabled" })).status).toBe(200);
      chat.message("Are you still there?");
      const error = await chat.next("error");
      expect(error.code).toBe("unauthorized");
      expect((await chat.waitClosed()).code).toBe(4003);
    } finally {
      chat.close();
    }
  });

  it("lets only an owner change an owner or grant the owner role", async () => {
    const secondOwner = await org.user("owner");
    const user = await org.user("member");
    for (const [id, body] of [
      [secondOwner.user.id, { role: "admin" }],
      [secondOwner.user.id, { status: "disabled" }],
      [user.user.id, { role: "owner" }],
    ] as const) {
      const res = await patch(org.tenant, admin.token, id, body);
      expect(res.status).toBe(403);
      expectErrorShape(await json(res), "forbidden");
    }
    expect(await standing(org.tenant, secondOwner.user.id)).toEqual({ role: "owner", status: "active" });
    expect(await standing(org.tenant, user.user.id)).toEqual({ role: "member", status: "active" });

    expect((await patch(org.tenant, org.owner.token, user.user.id, { role: "owner" })).status).toBe(200);
    expect((await patch(org.tenant, org.owner.token, user.user.id, { role: "member" })).status).toBe(200);
    expect((await patch(org.tenant, org.owner.token, secondOwner.user.id, { role: "admin" })).status).toBe(200);
  });

  it("never leaves the organisation without an active owner (409 last_owner)", async () => {
    const solo = await createOrg();
    for (const body of [{ role: "admin" }, { status: "disabled" }, { role: "member", status: "active" }]) {
      const res = await patch(solo.tenant, solo.owner.token, solo.owner.user.id, body);
      expect(res.status).toBe(409);
      expectErrorShape(await json(res), "last_owner");
    }
    // A disabled owner does not count: the active one stays.
    const dormant = await solo.user("owner");
    expect((await patch(solo.tenant, solo.owner.token, dormant.user.id, { status: "disabled" })).status).toBe(200);
    expect((await patch(solo.tenant, solo.owner.token, solo.owner.user.id, { role: "admin" })).status).toBe(409);
    expect(await standing(solo.tenant, solo.owner.user.id)).toEqual({ role: "owner", status: "active" });
  });

  it("two owners demoting each other at the same moment leave one owner", async () => {
    for (let round = 0; round < 3; round++) {
      const pair = await createOrg();
      const second = await pair.user("owner");
      const answers = await Promise.all([
        patch(pair.tenant, pair.owner.token, second.user.id, { role: "member" }),
        patch(pair.tenant, second.token, pair.owner.user.id, { role: "member" }),
      ]);
      expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
      const [{ n }] = (await sql().query("select count(*)::int as n from users where tenant_id = $1 and role = 'owner' and status = 'active'", [
        pair.tenant,
      ])) as [{ n: number }];
      expect(n).toBe(1);
    }
  });

  it.each([
    ["an empty body", {}],
    ["an unknown role", { role: "king" }],
    ["status invited", { status: "invited" }],
  ])("refuses %s with 400 validation_failed", async (_label, body) => {
    const res = await patch(org.tenant, admin.token, member.user.id, body);
    expect(res.status).toBe(400);
    expectErrorShape(await json(res), "validation_failed");
  });
});

describe("security", () => {
  let other: Org;
  beforeAll(async () => {
    other = await createOrg();
  });

  // Each call acts on a fresh target, so that the routes that change people can run for every role.
  const routes: Array<[string, (token: string) => Promise<Response>]> = [
    ["GET /v1/admin/users", (token) => call("/v1/admin/users", { tenant: org.tenant, token })],
    ["POST /v1/admin/users", (token) => call("/v1/admin/users", { tenant: org.tenant, token, body: { email: uniqueEmail(), role: "member" } })],
    ["PATCH /v1/admin/users/{id}", async (token) => patch(org.tenant, token, (await org.user("member")).user.id, { role: "admin" })],
    [
      "DELETE /v1/admin/users/{id}",
      async (token) => call(`/v1/admin/users/${(await org.user("member")).user.id}`, { method: "DELETE", tenant: org.tenant, token }),
    ],
    ["GET /v1/admin/usage", (token) => call("/v1/admin/usage", { tenant: org.tenant, token })],
    ["GET /v1/admin/usage.csv", (token) => call("/v1/admin/usage.csv", { tenant: org.tenant, token })],
    ["GET /v1/admin/documents", (token) => call("/v1/admin/documents", { tenant: org.tenant, token })],
  ];

  describe.each(routes)("%s", (_route, send) => {
    it("refuses a member with 403 forbidden", async () => {
      const res = await send(member.token);
      expect(res.status).toBe(403);
      expectErrorShape(await json(res), "forbidden");
    });
    it.each(["admin", "owner"] as const)("allows an %s", async (role) => {
      const res = await send(role === "owner" ? org.owner.token : admin.token);
      expect(res.status, await res.clone().text()).toBeLessThan(300);
    });
    it("refuses a request without a token with 401", async () => {
      expect((await send("")).status).toBe(401);
    });
  });

  it.each(["PATCH", "DELETE"])("%s of another organisation's user is 404 user_not_found, and changes nothing", async (method) => {
    const res = await call(`/v1/admin/users/${other.owner.user.id}`, {
      method,
      tenant: org.tenant,
      token: org.owner.token,
      ...(method === "PATCH" ? { body: { status: "disabled" } } : {}),
    });
    expect(res.status).toBe(404);
    expectErrorShape(await json(res), "user_not_found");
    expect(await standing(other.tenant, other.owner.user.id)).toEqual({ role: "owner", status: "active" });
  });

  it.each(["PATCH", "DELETE"])("%s of an API key's identity is 404 user_not_found", async (method) => {
    const [row] = (await sql().query("insert into users (tenant_id, email, kind) values ($1, $2, 'api_key') returning id", [
      org.tenant,
      uniqueEmail("key"),
    ])) as [{ id: string }];
    const res = await call(`/v1/admin/users/${row.id}`, {
      method,
      tenant: org.tenant,
      token: org.owner.token,
      ...(method === "PATCH" ? { body: { status: "disabled" } } : {}),
    });
    expect(res.status).toBe(404);
  });

  it("a user id that is not a uuid is 400 validation_failed", async () => {
    const res = await patch(org.tenant, admin.token, "not-a-uuid", { role: "admin" });
    expect(res.status).toBe(400);
    expectErrorShape(await json(res), "validation_failed");
  });

  it("an admin of another organisation cannot list this one's people", async () => {
    const res = await call("/v1/admin/users", { tenant: org.tenant, token: other.owner.token });
    expect(res.status).toBe(403);
    expectErrorShape(await json(res), "tenant_mismatch");
  });
});
