// The OpenAPI 3.1 document, generated from the route schemas, and two renderers for it.
import type { OpenAPIHono } from "@hono/zod-openapi";
import { swaggerUI } from "@hono/swagger-ui";
import type { AppEnv } from "../env.ts";
import { APP_NAME, APP_VERSION } from "../lib/version.ts";

const DESCRIPTION = `Multi-tenant "chat with your documents" API.

Every \`/v1\` request names its tenant in the \`X-Tenant-ID\` header. Log in by asking for an emailed
6-digit code (\`POST /v1/auth/request-code\`) and exchanging it for a 7-day bearer token
(\`POST /v1/auth/verify-code\`). Errors always have the shape \`{"error":{"code","message","request_id"}}\`.`;

const REDOC_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>${APP_NAME} API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><redoc spec-url="/openapi.json"></redoc>
<script src="https://cdn.redoc.ly/redoc/latest/bundles/redoc.standalone.js"></script></body></html>`;

export function registerDocs(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", { type: "http", scheme: "bearer", bearerFormat: "JWT" });
  app.doc31("/openapi.json", (c) => ({
    openapi: "3.1.0",
    info: { title: `${APP_NAME} API`, version: APP_VERSION, description: DESCRIPTION },
    servers: [{ url: new URL(c.req.url).origin }],
  }));
  app.get("/docs", swaggerUI({ url: "/openapi.json", title: `${APP_NAME} API` }));
  app.get("/redoc", (c) => c.html(REDOC_HTML));
}
