// Tenant resolution, tenant isolation and attacks on the access token.
import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { call, expectErrorShape, json, login } from "../support/api.ts";

const secret = new TextEncoder().encode(env.JWT_SECRET);
const b64url = (v: unknown) => btoa(JSON.stringify(v)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");

function forge(claims: Record<string, unknown>, opts: { exp?: number; aud?: string; iss?: string; key?: Uint8Array; alg?: string } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ tid: "acme", email: "mallory@example.com", ...claims })
    .setProtectedHeader({ alg: opts.alg ?? "HS256" })
    .setSubject(String(claims.sub ?? crypto.randomUUID()))
    .setIssuer(opts.iss ?? "docuchat")
    .setAudience(opts.aud ?? "docuchat-api")
    .setIssuedAt(now - 10)
    .setExpirationTime(opts.exp ?? now + 3600)
    .sign(opts.key ?? secret);
}

describe("X-Tenant-ID", () => {
  it("is required on /v1 routes (400 tenant_required)", async () => {
    const res = await call("/v1/auth/request-code", { tenant: null, body: { email: "a@example.com" } });
    expect(res.status).toBe(400);
    expectErrorShape(await json(res), "tenant_required");
  });

  it("must be a well-formed id (400 invalid_tenant_id)", async () => {
    const res = await call("/v1/me", { tenant: "../Acme" });
    expect(res.status).toBe(400);
    expectErrorShape(await json(res), "invalid_tenant_id");
  });

  it.each(["nosuchtenant", "frozen"])("answers 404 tenant_not_found for unknown or disabled tenant '%s'", async (tenant) => {
    const res = await call("/v1/auth/request-code", { tenant, body: { email: "a@example.com" } });
    expect(res.status).toBe(404);
    expectErrorShape(await json(res), "tenant_not_found");
  });
});

describe("tenant isolation", () => {
  it("refuses a token from another tenant with 403 tenant_mismatch", async () => {
    const { token } = await login(undefined, "acme");
    const res = await call("/v1/me", { tenant: "globex", token });
    expect(res.status).toBe(403);
    expectErrorShape(await json(res), "tenant_mismatch");
  });

  it("does not find a user of another tenant even with a validly signed token naming that tenant", async () => {
    const { user } = await login(undefined, "acme");
    const token = await forge({ sub: user.id, tid: "globex" });
    const res = await call("/v1/me", { tenant: "globex", token });
    expect(res.status).toBe(401);
  });
});

describe("access token attacks", () => {
  it("requires a bearer token (401 with WWW-Authenticate)", async () => {
    const res = await call("/v1/me");
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toContain("Bearer");
    expectErrorShape(await json(res), "unauthorized");
  });

  it("accepts a correctly signed token (control)", async () => {
    const { user } = await login();
    expect((await call("/v1/me", { token: await forge({ sub: user.id }) })).status).toBe(200);
  });

  it("refuses an expired token", async () => {
    const { user } = await login();
    const token = await forge({ sub: user.id }, { exp: Math.floor(Date.now() / 1000) - 5 });
    expect((await call("/v1/me", { token })).status).toBe(401);
  });

  it("refuses a tampered payload", async () => {
    const { token, user } = await login();
    const [h, , s] = token.split(".");
    const evil = b64url({ sub: user.id, tid: "acme", email: "admin@example.com", iss: "docuchat", aud: "docuchat-api", exp: 9999999999 });
    expect((await call("/v1/me", { token: `${h}.${evil}.${s}` })).status).toBe(401);
  });

  it("refuses alg: none", async () => {
    const { user } = await login();
    const payload = { sub: user.id, tid: "acme", email: "x@example.com", iss: "docuchat", aud: "docuchat-api", exp: 9999999999 };
    const token = `${b64url({ alg: "none", typ: "JWT" })}.${b64url(payload)}.`;
    expect((await call("/v1/me", { token })).status).toBe(401);
  });

  it("refuses another HMAC algorithm with the same secret (HS512)", async () => {
    const { user } = await login();
    expect((await call("/v1/me", { token: await forge({ sub: user.id }, { alg: "HS512" }) })).status).toBe(401);
  });

  it("refuses a wrong audience, a wrong issuer and a wrong key", async () => {
    const { user } = await login();
    for (const token of [
      await forge({ sub: user.id }, { aud: "someone-else" }),
      await forge({ sub: user.id }, { iss: "evil" }),
      await forge({ sub: user.id }, { key: new TextEncoder().encode("x".repeat(40)) }),
    ])
      expect((await call("/v1/me", { token })).status).toBe(401);
  });

  it("refuses garbage", async () => {
    for (const token of ["abc", "a.b.c", "Bearer"]) expect((await call("/v1/me", { token })).status).toBe(401);
  });
});
