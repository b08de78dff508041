// Every way a login can go wrong, and what the client is told.
import { env } from "cloudflare:workers";
import { Redis } from "@upstash/redis/cloudflare";
import { describe, expect, it } from "vitest";
import { call, expectErrorShape, json, requestCode, uniqueEmail } from "../support/api.ts";

const redis = new Redis({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN });
const verify = (email: string, code: string, tenant = "acme") => call("/v1/auth/verify-code", { tenant, body: { email, code } });
const wrongCodeFor = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

describe("request-code errors", () => {
  it.each([
    ["a missing email", {}],
    ["a malformed email", { email: "not-an-email" }],
    ["a non-string email", { email: 42 }],
  ])("refuses %s with 400 validation_failed", async (_label, body) => {
    const res = await call("/v1/auth/request-code", { body });
    expect(res.status).toBe(400);
    const err = await json(res);
    expectErrorShape(err, "validation_failed");
    expect(err.error.message).toContain("email");
  });

  it("refuses malformed JSON with 400 in the error shape", async () => {
    const res = await call("/v1/auth/request-code", { body: '{"email": ' });
    expect(res.status).toBe(400);
    expect((await json(res)).error.code).toMatch(/bad_request|validation_failed/);
  });

  it("applies the resend cooldown with Retry-After", async () => {
    const email = uniqueEmail();
    await requestCode(email);
    const res = await call("/v1/auth/request-code", { body: { email } });
    expect(res.status).toBe(429);
    expectErrorShape(await json(res), "resend_cooldown");
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
  });

  it("replaces the old code with a new one after the cooldown", async () => {
    const email = uniqueEmail();
    const first = await requestCode(email);
    await new Promise((r) => setTimeout(r, 2100)); // test cooldown is 2 s
    const second = await requestCode(email);
    if (first !== second) expect((await verify(email, first)).status).toBe(401);
    expect((await verify(email, second)).status).toBe(200);
  });
});

describe("verify-code errors", () => {
  it("refuses a wrong code with 401 invalid_code", async () => {
    const email = uniqueEmail();
    const code = await requestCode(email);
    const res = await verify(email, wrongCodeFor(code));
    expect(res.status).toBe(401);
    expectErrorShape(await json(res), "invalid_code");
  });

  it("refuses a code that was never requested", async () => {
    expect((await verify(uniqueEmail(), "123456")).status).toBe(401);
  });

  it("refuses a code that is not 6 digits with 400", async () => {
    const res = await verify(uniqueEmail(), "12ab56");
    expect(res.status).toBe(400);
    expectErrorShape(await json(res), "validation_failed");
  });

  it("accepts a code only once", async () => {
    const email = uniqueEmail();
    const code = await requestCode(email);
    expect((await verify(email, code)).status).toBe(200);
    expect((await verify(email, code)).status).toBe(401);
  });

  it("lets only one of two concurrent correct attempts win", async () => {
    const email = uniqueEmail();
    const code = await requestCode(email);
    const statuses = (await Promise.all([verify(email, code), verify(email, code), verify(email, code)])).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 401, 401]);
  });

  it("burns the code after 5 wrong attempts, even for the right code afterwards", async () => {
    const email = uniqueEmail();
    const code = await requestCode(email);
    for (let i = 0; i < 5; i++) expect((await verify(email, wrongCodeFor(code))).status).toBe(401);
    expect((await verify(email, code)).status).toBe(401);
  });

  it("still accepts the right code after 4 wrong attempts", async () => {
    const email = uniqueEmail();
    const code = await requestCode(email);
    for (let i = 0; i < 4; i++) expect((await verify(email, wrongCodeFor(code))).status).toBe(401);
    expect((await verify(email, code)).status).toBe(200);
  });

  it("refuses an expired code (its Redis TTL ran out)", async () => {
    const email = uniqueEmail();
    const code = await requestCode(email);
    const ttl = await redis.ttl(`login:code:acme:${email}`);
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);
    await redis.pexpire(`login:code:acme:${email}`, 1);
    await new Promise((r) => setTimeout(r, 20));
    expect((await verify(email, code)).status).toBe(401);
  });

  it("stores only a hash of the code, never the code itself", async () => {
    const email = uniqueEmail();
    const code = await requestCode(email);
    const stored = await redis.hgetall<Record<string, string>>(`login:code:acme:${email}`);
    expect(stored).not.toBeNull();
    expect(JSON.stringify(stored)).not.toContain(code);
    expect(String(stored!.hash)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("binds the code to its tenant", async () => {
    const email = uniqueEmail();
    const code = await requestCode(email, "acme");
    expect((await verify(email, code, "globex")).status).toBe(401);
    expect((await verify(email, code, "acme")).status).toBe(200);
  });
});
