// The OpenAPI 3.1 document, generated from the route schemas, and two renderers for it. The renderers' scripts are
// copies of pinned npm packages in public/docs-assets/ (scripts/docs-assets.mjs), served as static assets: the
// reference works offline and loads nothing from a CDN.
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../env.ts";
import { APP_NAME, APP_VERSION } from "../lib/version.ts";
import { TENANT_SCHEME } from "./schemas.ts";
import { addStandardResponses } from "./standard-responses.ts";

const DESCRIPTION = `Multi-tenant "chat with your documents" API.

Every \`/v1\` request names its tenant in the \`X-Tenant-ID\` header (the \`tenant\` security scheme: set it once in
a generated client). Log in by asking for an emailed 6-digit code (\`POST /v1/auth/request-code\`) and exchanging it
for a 7-day bearer token (\`POST /v1/auth/verify-code\`). Servers use an API key (\`dc_live_…\`, created by an admin with
\`POST /v1/admin/api-keys\`) as the bearer token instead. \`/v1/admin/…\` routes need the owner or admin role.

Errors always have the shape \`{"error":{"code","message","request_id"}}\`. Every response carries \`X-Request-Id\`;
rate-limited routes add \`RateLimit-Limit\`, \`RateLimit-Remaining\` and \`RateLimit-Reset\`, and a 429 or 503 adds
\`Retry-After\`. A path with no route, and a method a path does not have, answer 404 \`not_found\`.

The chat WebSocket (\`GET /ws/chat\`) is described in AsyncAPI 3.0 at \`/asyncapi.json\`.`;

const TITLE = `${APP_NAME} API reference`;

const page = (head: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${TITLE}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">${head}</head>
<body>${body}</body></html>`;

// validatorUrl: "none" — Swagger UI would otherwise send the document to validator.swagger.io for a badge.
const SWAGGER_HTML = page(
  `<link rel="stylesheet" href="/docs-assets/swagger-ui/swagger-ui.css">`,
  `<div id="swagger-ui"></div>
<script src="/docs-assets/swagger-ui/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, validatorUrl: "none" });</script>`,
);

const REDOC_HTML = page(
  "",
  `<redoc spec-url="/openapi.json"></redoc>
<script src="/docs-assets/redoc/redoc.standalone.js"></script>`,
);

// The server is "/": wherever the document is served from, which also keeps the document the same everywhere.
const CONFIG = {
  openapi: "3.1.0",
  info: { title: `${APP_NAME} API`, version: APP_VERSION, description: DESCRIPTION },
  servers: [{ url: "/", description: "The origin this document is served from" }],
};

/** The document GET /openapi.json serves. */
export const openApiDocument = (app: OpenAPIHono<AppEnv>) => addStandardResponses(app.getOpenAPI31Document(CONFIG));

export function registerDocs(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "An access token from POST /v1/auth/verify-code (a JWT), or an API key (dc_live_…) from POST /v1/admin/api-keys",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", TENANT_SCHEME, {
    type: "apiKey",
    in: "header",
    name: "X-Tenant-ID",
    description: "The tenant every /v1 request acts in (1-63 lowercase letters, digits, '-' or '_'), e.g. demo",
  });
  app.get("/openapi.json", (c) => c.json(openApiDocument(app)));
  app.get("/docs", (c) => c.html(SWAGGER_HTML));
  app.get("/redoc", (c) => c.html(REDOC_HTML));
}
