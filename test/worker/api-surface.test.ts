// The service's outer surface: index, health, OpenAPI docs, CORS, headers, request ids, error shape, limits.
import { describe, expect, it } from "vitest";
import { call, expectErrorShape, fetchWithEnv, json, login } from "../support/api.ts";

describe("GET /", () => {
  it("names the service, its version and links", async () => {
    const res = await call("/", { tenant: null });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      name: "DocuChat",
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      links: { docs: "/docs", openapi: "/openapi.json" },
    });
  });
});

describe("GET /healthz", () => {
  it("reports database and Redis as ok with latencies", async () => {
    const res = await call("/healthz", { tenant: null });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.status).toBe("ok");
    for (const dep of ["database", "redis"]) {
      expect(body.checks[dep].status).toBe("ok");
      expect(body.checks[dep].latency_ms).toBeGreaterThanOrEqual(0);
    }
  });

  it("answers 503 naming Redis when Redis is unreachable", async () => {
    const res = await fetchWithEnv("/healthz", { UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9" });
    expect(res.status).toBe(503);
    const body = await json(res);
    expect(body.status).toBe("unavailable");
    expect(body.checks.redis.status).toBe("error");
    expect(body.checks.database.status).toBe("ok");
  });

  it("answers 503 naming the database when it is unreachable", async () => {
    const res = await fetchWithEnv("/healthz", { NEON_LOCAL_PROXY: "127.0.0.1:9" });
    expect(res.status).toBe(503);
    const body = await json(res);
    expect(body.checks.database.status).toBe("error");
    expect(body.checks.redis.status).toBe("ok");
  });
});

describe("OpenAPI", () => {
  it("serves a valid OpenAPI 3.1 document describing every route", async () => {
    const res = await call("/openapi.json", { tenant: null });
    expect(res.status).toBe(200);
    const doc = await json(res);
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toMatchObject({ title: "DocuChat API", version: expect.any(String) });
    for (const [path, method] of [
      ["/", "get"],
      ["/healthz", "get"],
      ["/v1/auth/request-code", "post"],
      ["/v1/auth/verify-code", "post"],
      ["/v1/me", "get"],
    ] as const)
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.paths["/v1/me"].get.security).toEqual([{ tenant: [], bearerAuth: [] }]);
    expect(doc.paths["/v1/auth/verify-code"].post.requestBody.content["application/json"].schema).toBeDefined();

    // Every $ref resolves, and every operation has responses.
    const refs = JSON.stringify(doc).match(/"\$ref":"#\/components\/schemas\/[^"]+"/g) ?? [];
    for (const ref of refs) expect(doc.components.schemas[ref.split("/").pop()!.slice(0, -1)], ref).toBeDefined();
    for (const ops of Object.values<any>(doc.paths))
      for (const op of Object.values<any>(ops)) expect(Object.keys(op.responses).length).toBeGreaterThan(0);
  });

  it("gives every operation a unique operationId, and declares the tenant header once, as a security scheme", async () => {
    const doc = await json(await call("/openapi.json", { tenant: null }));
    const operations = Object.values<any>(doc.paths).flatMap((ops) => Object.values<any>(ops));
    const ids = operations.map((op) => op.operationId);
    expect(
      ids.every((id) => typeof id === "string" && /^[a-z][A-Za-z]+$/.test(id)),
      ids.join(", "),
    ).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.paths["/v1/files"].post.operationId).toBe("uploadFile");
    expect(doc.components.securitySchemes.tenant).toEqual(expect.objectContaining({ type: "apiKey", in: "header", name: "X-Tenant-ID" }));
    expect(operations.flatMap((op) => op.parameters ?? []).filter((p: any) => p.in === "header")).toEqual([]);
    expect(doc.paths["/v1/auth/request-code"].post.security).toEqual([{ tenant: [] }]);
    expect(doc.paths["/healthz"].get.security).toEqual([]);
  });

  it("types the upload as a required binary part, and documents the headers and the 500 of every operation", async () => {
    const doc = await json(await call("/openapi.json", { tenant: null }));
    const form = doc.paths["/v1/files"].post.requestBody.content["multipart/form-data"];
    expect(form.schema).toMatchObject({ required: ["file"], properties: { file: { type: "string", format: "binary" } } });
    for (const [path, ops] of Object.entries<any>(doc.paths))
      for (const [method, op] of Object.entries<any>(ops)) {
        expect(op.responses["500"], `${method} ${path}`).toBeDefined();
        for (const response of Object.values<any>(op.responses)) expect(response.headers["X-Request-Id"], `${method} ${path}`).toBeDefined();
      }
    expect(Object.keys(doc.paths["/v1/files"].get.responses["200"].headers)).toEqual([
      "X-Request-Id",
      "RateLimit-Limit",
      "RateLimit-Remaining",
      "RateLimit-Reset",
    ]);
    expect(doc.paths["/v1/files"].get.responses["429"].headers["Retry-After"]).toBeDefined();
    expect(doc.paths["/v1/search"].post.responses["415"]).toBeDefined();
    expect(doc.paths["/v1/search"].post.responses["413"]).toBeDefined();
  });

  it("serves Swagger UI at /docs and ReDoc at /redoc from the Worker's own assets, not a CDN", async () => {
    const swagger = await call("/docs", { tenant: null });
    expect(swagger.status).toBe(200);
    const swaggerHtml = await swagger.text();
    expect(swaggerHtml).toContain('url: "/openapi.json"');
    expect(swaggerHtml).toContain('src="/docs-assets/swagger-ui/swagger-ui-bundle.js"');
    const redoc = await call("/redoc", { tenant: null });
    expect(redoc.status).toBe(200);
    const redocHtml = await redoc.text();
    expect(redocHtml).toContain('spec-url="/openapi.json"');
    expect(redocHtml).toContain('src="/docs-assets/redoc/redoc.standalone.js"');
    expect(swaggerHtml + redocHtml).not.toMatch(/https?:\/\//);
  });
});

describe("cross-cutting behaviour", () => {
  it("puts a request id on every response, and in error bodies", async () => {
    const ok = await call("/", { tenant: null });
    expect(ok.headers.get("X-Request-Id")).toMatch(/.{8,}/);
    const err = await call("/v1/me");
    const body = await json(err);
    expect(body.error.request_id).toBe(err.headers.get("X-Request-Id"));
  });

  it("answers unknown routes with 404 in the error shape", async () => {
    const res = await call("/v1/nope", { tenant: null });
    expect(res.status).toBe(404);
    expectErrorShape(await json(res), "not_found");
  });

  it("sets secure headers", async () => {
    const res = await call("/", { tenant: null });
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(res.headers.get("X-Frame-Options")).toBe("SAMEORIGIN");
    expect(res.headers.get("Strict-Transport-Security")).toContain("max-age");
  });

  it("allows configured CORS origins only", async () => {
    const preflight = await call("/v1/me", {
      method: "OPTIONS",
      tenant: null,
      headers: {
        Origin: "https://app.example.com",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization,x-tenant-id",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example.com");
    expect(preflight.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("x-tenant-id");

    const foreign = await call("/", { tenant: null, headers: { Origin: "https://evil.example.net" } });
    expect(foreign.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("refuses bodies over the size limit with 413 in the error shape", async () => {
    const res = await call("/v1/auth/request-code", { body: { email: "a@example.com", pad: "x".repeat(70 * 1024) } });
    expect(res.status).toBe(413);
    expectErrorShape(await json(res), "payload_too_large");
  });

  it("hides internal errors: an unreachable database is a 503 with no stack trace, driver message or address", async () => {
    // The lookup of a tenant not yet cached fails deep inside the driver.
    const res = await fetchWithEnv(
      "/v1/auth/request-code",
      { NEON_LOCAL_PROXY: "127.0.0.1:9" },
      {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Tenant-ID": "not-cached-anywhere" },
        body: JSON.stringify({ email: "a@example.com" }),
      },
    );
    expect(res.status).toBe(503);
    expect(res.headers.get("Retry-After")).toBe("5");
    const body = await json(res);
    expectErrorShape(body, "database_unavailable");
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts|stack|ECONNREFUSED|fetch failed|127\.0\.0\.1/i);
  });

  it("fails closed on the auth routes when the rate limiter is down (503), instead of allowing unlimited guesses", async () => {
    const res = await fetchWithEnv(
      "/v1/auth/verify-code",
      { UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9" },
      {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Tenant-ID": "acme", "CF-Connecting-IP": "10.9.9.9" },
        body: JSON.stringify({ email: "a@example.com", code: "123456" }),
      },
    );
    expect(res.status).toBe(503);
    expectErrorShape(await json(res), "rate_limiter_unavailable");
  });
});

describe("configuration", () => {
  it("names every missing or wrong variable", async () => {
    const res = await fetchWithEnv("/healthz", {
      JWT_SECRET: "short",
      UPSTASH_REDIS_REST_URL: undefined,
      RATE_LIMIT_API_PER_USER: "lots",
      CHAT_TIMEOUT_MS: "fast",
      SEARCH_HNSW_EF_SEARCH: "5000",
    });
    expect(res.status).toBe(500);
    const body = await json(res);
    expectErrorShape(body, "misconfigured");
    expect(body.error.message).toContain("JWT_SECRET");
    expect(body.error.message).toContain("UPSTASH_REDIS_REST_URL is required");
    expect(body.error.message).toContain("RATE_LIMIT_API_PER_USER");
    expect(body.error.message).toContain("SEARCH_HNSW_EF_SEARCH");
    // A value that is set but not a number is called that, not "not set".
    expect(body.error.message).toContain("CHAT_TIMEOUT_MS is not a valid number");
  });

  it("refuses the dev login shortcut in a production configuration", async () => {
    const res = await fetchWithEnv("/healthz", {
      ENVIRONMENT: "production",
      MAIL_PROVIDER: "resend",
      RESEND_API_KEY: "re_x",
      NEON_LOCAL_PROXY: undefined,
    });
    const body = await json(res);
    expect(res.status).toBe(500);
    expect(body.error.message).toContain("DEV_RETURN_LOGIN_CODE is only allowed when ENVIRONMENT=development");
  });

  it("does not return the code when the dev shortcut is off", async () => {
    const { user } = await login();
    const res = await fetchWithEnv(
      "/v1/auth/request-code",
      { DEV_RETURN_LOGIN_CODE: "false" },
      {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Tenant-ID": "acme", "CF-Connecting-IP": "10.8.8.8" },
        body: JSON.stringify({ email: `fresh.${user.id}@example.com` }),
      },
    );
    expect(res.status).toBe(202);
    expect(await json(res)).toEqual({ status: "sent", expires_in: 600 });
  });
});
