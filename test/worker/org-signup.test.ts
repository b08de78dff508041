// Who may log in, by sign-up policy: a code is only sent, and a user only created, when the policy allows the email;
// the answer to request-code is the same either way (no enumeration). Roles travel in the token and in /v1/me.
import { describe, expect, it } from "vitest";
import { call, json, uniqueEmail } from "../support/api.ts";
import { count, sql } from "../support/db.ts";
import { createOrg } from "../support/org.ts";

/** Asks for a code: always 202 with the same body; the dev-only dev_code tells whether one was really sent. */
async function requestCode(tenant: string, email: string): Promise<string | undefined> {
  const res = await call("/v1/auth/request-code", { tenant, body: { email } });
  expect(res.status).toBe(202);
  const { dev_code, ...rest } = await json(res);
  expect(rest).toEqual({ status: "sent", expires_in: 600 });
  return dev_code;
}

const verify = (tenant: string, email: string, code: string) => call("/v1/auth/verify-code", { tenant, body: { email, code } });

const addUser = (tenant: string, email: string, status: "invited" | "active" | "disabled", role = "member", kind = "person") =>
  sql().query("insert into users (tenant_id, email, role, status, kind) values ($1, $2, $3, $4, $5)", [tenant, email, role, status, kind]);

const userRows = (tenant: string, email: string) => count("select 1 from users where tenant_id = $1 and email = $2", [tenant, email]);

/** Users created by createOrg() have just logged in: their next code waits for the resend cooldown (2 s in tests). */
const pastResendCooldown = () => new Promise((resolve) => setTimeout(resolve, 2_100));

/** The claims of a JWT, unverified: what a client reads. */
const claims = (token: string) => JSON.parse(atob(token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")));

async function logsIn(tenant: string, email: string) {
  const code = await requestCode(tenant, email);
  expect(code).toMatch(/^\d{6}$/);
  const res = await verify(tenant, email, code!);
  expect(res.status).toBe(200);
  return json(res);
}

async function isRefused(tenant: string, email: string) {
  expect(await requestCode(tenant, email)).toBeUndefined();
  // Even a guess at the code that was never sent cannot create the user.
  const res = await verify(tenant, email, "123456");
  expect(res.status).toBe(401);
  expect((await json(res)).error.code).toBe("invalid_code");
}

describe("open policy", () => {
  it("admits any new email as a member; the token and /v1/me carry the role", async () => {
    const org = await createOrg();
    const email = uniqueEmail("new");
    const body = await logsIn(org.tenant, email);
    expect(body.user).toMatchObject({ email, tenant_id: org.tenant, role: "member" });
    expect(claims(body.access_token)).toMatchObject({ role: "member", tid: org.tenant, email });
    const me = await json(await call("/v1/me", { tenant: org.tenant, token: body.access_token }));
    expect(me).toMatchObject({ id: body.user.id, role: "member", status: "active" });
    expect(claims(org.owner.token).role).toBe("owner");
  });

  it("never lets a disabled user log in, even with a code issued before they were disabled", async () => {
    const org = await createOrg();
    const email = uniqueEmail("gone");
    await addUser(org.tenant, email, "disabled");
    await isRefused(org.tenant, email);

    const later = uniqueEmail("later");
    await addUser(org.tenant, later, "active");
    const code = await requestCode(org.tenant, later);
    await sql().query("update users set status = 'disabled' where tenant_id = $1 and email = $2", [org.tenant, later]);
    expect((await verify(org.tenant, later, code!)).status).toBe(401);
  });

  it("never logs in as an API key's identity", async () => {
    const org = await createOrg();
    const email = `key-${crypto.randomUUID()}@api-keys.invalid`;
    await addUser(org.tenant, email, "active", "member", "api_key");
    await isRefused(org.tenant, email);
  });
});

describe("domains policy", () => {
  const settings = { signup_policy: "domains", allowed_domains: ["corp.example"] };

  it("admits new emails of an allowed domain, exactly", async () => {
    const org = await createOrg(settings);
    const email = `${crypto.randomUUID().slice(0, 8)}@Corp.Example`;
    expect((await logsIn(org.tenant, email)).user.email).toBe(email.toLowerCase());
    for (const refused of [`x-${crypto.randomUUID().slice(0, 8)}@mail.corp.example`, uniqueEmail("outsider"), `y@corp.example.evil.example`]) {
      await isRefused(org.tenant, refused);
      expect(await userRows(org.tenant, refused)).toBe(0);
    }
  });

  it("lets existing and invited users of other domains log in", async () => {
    const org = await createOrg(settings);
    const invited = uniqueEmail("guest");
    await addUser(org.tenant, invited, "invited");
    await logsIn(org.tenant, invited);
    // The owner's email (example.com) is not an allowed domain either.
    await pastResendCooldown();
    await logsIn(org.tenant, org.owner.email);
  });
});

describe("invite policy", () => {
  it("admits nobody new: no code, no user", async () => {
    const org = await createOrg({ signup_policy: "invite" });
    const email = uniqueEmail("stranger");
    await isRefused(org.tenant, email);
    expect(await userRows(org.tenant, email)).toBe(0);
  });

  it("lets an invited user in, with the role they were invited with, and makes them active", async () => {
    const org = await createOrg({ signup_policy: "invite" });
    const email = uniqueEmail("invited");
    await addUser(org.tenant, email, "invited", "admin");
    const body = await logsIn(org.tenant, email);
    expect(body.user.role).toBe("admin");
    expect(claims(body.access_token).role).toBe("admin");
    const [row] = await sql().query("select status, last_login_at from users where id = $1", [body.user.id]);
    expect(row).toMatchObject({ status: "active", last_login_at: expect.anything() });
    expect((await json(await call("/v1/me", { tenant: org.tenant, token: body.access_token }))).status).toBe("active");
  });

  it("lets existing active users log in, and refuses disabled ones", async () => {
    const org = await createOrg({ signup_policy: "invite" });
    await pastResendCooldown();
    await logsIn(org.tenant, org.owner.email);
    const disabled = uniqueEmail("disabled");
    await addUser(org.tenant, disabled, "disabled");
    await isRefused(org.tenant, disabled);
  });

  it("takes effect as soon as an admin switches to it", async () => {
    const org = await createOrg();
    const before = uniqueEmail("early");
    expect(await requestCode(org.tenant, before)).toBeDefined();
    await call("/v1/admin/settings", { method: "PATCH", tenant: org.tenant, token: org.owner.token, body: { signup_policy: "invite" } });
    await isRefused(org.tenant, uniqueEmail("late"));
  });
});

describe("no enumeration", () => {
  it("answers admitted and refused emails alike, the resend cooldown included", async () => {
    const org = await createOrg({ signup_policy: "invite" });
    const member = await org.user("member");
    const stranger = uniqueEmail("stranger");
    const disabled = uniqueEmail("disabled");
    await addUser(org.tenant, disabled, "disabled");
    await pastResendCooldown();
    for (const email of [member.email, stranger, disabled]) {
      await requestCode(org.tenant, email);
      const again = await call("/v1/auth/request-code", { tenant: org.tenant, body: { email } });
      expect(again.status).toBe(429);
      expect((await json(again)).error.code).toBe("resend_cooldown");
    }
  });

  it("takes about as long for a refused email as for an admitted one", async () => {
    const org = await createOrg({ signup_policy: "invite" });
    const time = async (email: string) => {
      const started = performance.now();
      await requestCode(org.tenant, email);
      return performance.now() - started;
    };
    const admitted: number[] = [];
    const refused: number[] = [];
    for (let i = 0; i < 8; i++) {
      const invited = uniqueEmail("t");
      await addUser(org.tenant, invited, "invited");
      admitted.push(await time(invited));
      refused.push(await time(uniqueEmail("u")));
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(`request-code median: admitted ${median(admitted).toFixed(1)} ms, refused ${median(refused).toFixed(1)} ms`);
    // The console mailer costs nothing here; the database and Redis work is the same for both.
    expect(Math.abs(median(admitted) - median(refused))).toBeLessThan(Math.max(15, median(admitted) * 0.5));
  });
});
