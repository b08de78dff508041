// Happy path: email-code login, token, /v1/me.
import { decodeJwt, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import { call, json, login, requestCode, uniqueEmail } from "../support/api.ts";

describe("email-code login", () => {
  it("requests a code: 202, 10-minute expiry, a 6-digit dev code in development", async () => {
    const res = await call("/v1/auth/request-code", { body: { email: uniqueEmail() } });
    expect(res.status).toBe(202);
    const body = await json(res);
    expect(body).toMatchObject({ status: "sent", expires_in: 600 });
    expect(body.dev_code).toMatch(/^\d{6}$/);
  });

  it("answers the same for a user that exists and one that does not", async () => {
    const existing = await login();
    await new Promise((r) => setTimeout(r, 2100)); // test resend cooldown is 2 s
    const a = await call("/v1/auth/request-code", { body: { email: existing.email } });
    const b = await call("/v1/auth/request-code", { body: { email: uniqueEmail() } });
    expect([a.status, b.status]).toEqual([202, 202]);
    const [ja, jb] = [await json(a), await json(b)];
    expect(Object.keys(ja).sort()).toEqual(Object.keys(jb).sort());
    expect({ ...ja, dev_code: 0 }).toEqual({ ...jb, dev_code: 0 });
  });

  it("verifies the code, creates the user and issues a 7-day HS256 token with the right claims", async () => {
    const email = uniqueEmail("Alice");
    const code = await requestCode(email);
    const res = await call("/v1/auth/verify-code", { body: { email, code } });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 604800, user: { email: email.toLowerCase(), tenant_id: "acme" } });
    expect(body.user.id).toMatch(/^[0-9a-f-]{36}$/);

    expect(decodeProtectedHeader(body.access_token).alg).toBe("HS256");
    const claims = decodeJwt(body.access_token);
    expect(claims).toMatchObject({ sub: body.user.id, tid: "acme", email: email.toLowerCase(), iss: "docuchat" });
    expect(claims.aud).toBe("docuchat-api");
    expect(claims.exp! - claims.iat!).toBe(604800);
  });

  it("treats the email case-insensitively and keeps one user per email", async () => {
    const email = uniqueEmail("bob");
    const first = await login(email);
    await new Promise((r) => setTimeout(r, 2100));
    const second = await login(email.toUpperCase());
    expect(second.user.id).toBe(first.user.id);
  });

  it("returns the current user from /v1/me", async () => {
    const { token, user } = await login();
    const res = await call("/v1/me", { token });
    expect(res.status).toBe(200);
    const me = await json(res);
    expect(me).toMatchObject({ id: user.id, email: user.email, tenant_id: "acme" });
    expect(Date.parse(me.created_at)).toBeGreaterThan(Date.now() - 60_000);
    expect(res.headers.get("RateLimit-Limit")).toBe("300");
  });

  it("keeps the same email in two tenants as two different users", async () => {
    const email = uniqueEmail("twin");
    const a = await login(email, "acme");
    const b = await login(email, "globex");
    expect(a.user.id).not.toBe(b.user.id);
    expect(b.user.tenant_id).toBe("globex");
  });
});
