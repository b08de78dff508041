// The OpenAPI document against what the Worker really answers: every route, its successes and the errors a client
// meets (validation, tenant, token, limits, media types, a broken configuration, a database outage), each response
// held by test/support/openapi-contract.ts (status, body schema, headers). Any mismatch fails, with what it was.
import { describe, expect, it } from "vitest";
import { call, expectErrorShape, fetchWithEnv, json, login, requestCode, uniqueEmail, upload } from "../support/api.ts";
import { checkContract, contractViolations, takeViolations } from "../support/openapi-contract.ts";
import { makeTextPdf } from "../support/pdf-factory.ts";

const NO_SUCH_ID = "00000000-0000-4000-8000-000000000000";

describe("the OpenAPI document matches every answer", () => {
  it("on the public routes", async () => {
    expect((await call("/", { tenant: null })).status).toBe(200);
    expect((await call("/healthz", { tenant: null })).status).toBe(200);
    expect((await fetchWithEnv("/healthz", { UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9" })).status).toBe(503);
    expect((await fetchWithEnv("/healthz", { JWT_SECRET: "short" })).status).toBe(500);
    expect((await call("/ws/chat", { tenant: null })).status).toBe(426);
    expect(contractViolations()).toEqual([]);
  });

  it("on login, including its errors", async () => {
    const email = uniqueEmail("contract");
    const code = await requestCode(email);
    expect((await call("/v1/auth/request-code", { body: { email } })).status).toBe(429); // resend cooldown
    expect((await call("/v1/auth/request-code", { body: { email: "not an address" } })).status).toBe(400);
    expect((await call("/v1/auth/request-code", { body: "email=a@example.com", headers: { "Content-Type": "text/plain" } })).status).toBe(400);
    expect((await call("/v1/auth/request-code", { body: { email, pad: "x".repeat(70 * 1024) } })).status).toBe(413);
    expect((await call("/v1/auth/request-code", { tenant: null, body: { email } })).status).toBe(400);
    expect((await call("/v1/auth/request-code", { tenant: "no-such-tenant", body: { email } })).status).toBe(404);
    expect((await call("/v1/auth/verify-code", { body: { email, code: code === "000000" ? "111111" : "000000" } })).status).toBe(401);
    expect((await call("/v1/auth/verify-code", { body: { email, code } })).status).toBe(200);
    expect(contractViolations()).toEqual([]);
  });

  it("on the authenticated routes, including their errors", async () => {
    const { token } = await login();
    const other = await login(undefined, "globex");
    expect((await call("/v1/me", { token })).status).toBe(200);
    expect((await call("/v1/me")).status).toBe(401);
    expect((await call("/v1/me", { token: other.token })).status).toBe(403);
    expect((await call("/v1/usage", { token })).status).toBe(200);

    const created = await upload(token, makeTextPdf(["The contract page."]), "contract.pdf");
    expect(created.status).toBe(202);
    const id = (await json(created)).id as string;
    expect((await upload(token, makeTextPdf(["The contract page."]), "again.pdf")).status).toBe(200);
    expect((await upload(token, "plain text, no PDF header")).status).toBe(415);
    expect((await upload(token, makeTextPdf(["x"]), "x.pdf", { field: "document" })).status).toBe(400);
    expect((await call("/v1/files", { token, body: { file: "x" } })).status).toBe(415);

    expect((await call("/v1/files?limit=2", { token })).status).toBe(200);
    expect((await call("/v1/files?limit=1000", { token })).status).toBe(400);
    expect((await call(`/v1/files/${id}`, { token })).status).toBe(200);
    expect((await call(`/v1/files/${NO_SUCH_ID}`, { token })).status).toBe(404);
    expect((await call(`/v1/files/${id}`, { token: other.token, tenant: "globex" })).status).toBe(404);
    expect((await call(`/v1/files/${id}/download`, { token })).status).toBe(200);
    expect((await call(`/v1/files/${id}/pages?from=1&to=1`, { token })).status).toBeLessThan(500);
    expect((await call(`/v1/files/${id}/retry`, { token, method: "POST" })).status).toBeLessThan(500);

    expect((await call("/v1/search", { token, body: { query: "contract" } })).status).toBe(200);
    expect((await call("/v1/search", { token, body: {} })).status).toBe(400);
    const notJson = await call("/v1/search", { token, body: JSON.stringify({ query: "contract" }), headers: { "Content-Type": "text/plain" } });
    expect(notJson.status).toBe(415);
    expectErrorShape(await json(notJson), "unsupported_media_type");

    expect((await call("/v1/chat/sessions", { token })).status).toBe(200);
    expect((await call(`/v1/chat/sessions/${NO_SUCH_ID}/messages`, { token })).status).toBe(404);
    expect((await call(`/v1/chat/sessions/${NO_SUCH_ID}`, { token, method: "DELETE" })).status).toBe(404);

    expect((await call(`/v1/files/${id}`, { token, method: "DELETE" })).status).toBe(204);
    expect(contractViolations()).toEqual([]);
  });

  it("when the database is down", async () => {
    const res = await fetchWithEnv("/v1/me", { NEON_LOCAL_PROXY: "127.0.0.1:9" }, { headers: { "X-Tenant-ID": "not-cached-contract" } });
    expect(res.status).toBe(503);
    expect(contractViolations()).toEqual([]);
  });

  it("and the check itself catches an undocumented status, body or header", async () => {
    const before = contractViolations().length;
    await checkContract("GET", "http://docuchat.test/v1/me", new Response("{}", { status: 418 }));
    await checkContract("GET", "http://docuchat.test/", Response.json({ name: "DocuChat" }));
    await checkContract("GET", "http://docuchat.test/", new Response("hi", { headers: { "Content-Type": "text/plain" } }));
    await checkContract("GET", "http://docuchat.test/healthz", new Response(null, { status: 200, headers: { "Retry-After": "5" } }));
    expect(takeViolations().slice(before)).toEqual([
      { request: "GET /v1/me", status: 418, problem: "status not documented" },
      { request: "GET /", status: 200, problem: expect.stringMatching(/^body .* does not match: .*must have required property 'version'/) },
      { request: "GET /", status: 200, problem: "body of type text/plain not documented" },
      { request: "GET /healthz", status: 200, problem: "header Retry-After not documented" },
    ]);
  });
});
