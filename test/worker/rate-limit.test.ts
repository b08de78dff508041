// Rate limits (test config: 10/10m per email and 30/10m per IP on auth, 300/1m per user on the API).
import { describe, expect, it } from "vitest";
import { call, earlyInRateWindow, expectErrorShape, json, login, uniqueEmail, uniqueIp } from "../support/api.ts";

async function expectRateLimited(res: Response) {
  expect(res.status).toBe(429);
  expectErrorShape(await json(res), "rate_limited");
  expect(Number(res.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
  expect(res.headers.get("RateLimit-Remaining")).toBe("0");
  expect(res.headers.get("RateLimit-Limit")).toMatch(/^\d+$/);
}

describe("rate limits", () => {
  it("limits auth requests per email across IPs (10 per window)", async () => {
    const email = uniqueEmail();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++)
      statuses.push((await call("/v1/auth/verify-code", { body: { email, code: "000000" }, headers: { "CF-Connecting-IP": uniqueIp() } })).status);
    expect(statuses).toEqual(Array(10).fill(401));
    await expectRateLimited(await call("/v1/auth/verify-code", { body: { email, code: "000000" }, headers: { "CF-Connecting-IP": uniqueIp() } }));
  });

  it("limits auth requests per IP across emails (30 per window)", async () => {
    const ip = uniqueIp();
    for (let i = 0; i < 30; i++) {
      const res = await call("/v1/auth/verify-code", { body: { email: uniqueEmail(), code: "000000" }, headers: { "CF-Connecting-IP": ip } });
      expect(res.status).toBe(401);
      // The headers report the tightest rule: the fresh email's (9 left) until the IP has fewer left.
      expect(Number(res.headers.get("RateLimit-Remaining"))).toBe(Math.min(9, 29 - i));
    }
    await expectRateLimited(await call("/v1/auth/request-code", { body: { email: uniqueEmail() }, headers: { "CF-Connecting-IP": ip } }));
  });

  it("limits the API per user (300 per minute), independently of IP", { timeout: 90_000 }, async () => {
    const { token } = await login();
    await earlyInRateWindow(60_000, 40_000);
    // 300 requests in batches of 30, well within one window even on a loaded machine.
    for (let i = 0; i < 300; i += 30) {
      const statuses = await Promise.all(Array.from({ length: 30 }, async () => (await call("/v1/me", { token })).status));
      expect(statuses).toEqual(Array(30).fill(200));
    }
    await expectRateLimited(await call("/v1/me", { token }));
    // Another user is unaffected.
    const other = await login();
    expect((await call("/v1/me", { token: other.token })).status).toBe(200);
  });
});
