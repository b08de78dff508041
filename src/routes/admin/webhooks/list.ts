// GET /v1/admin/webhooks — the tenant's endpoints (at most MAX_ENDPOINTS_PER_TENANT, so one page).
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../../env.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { listEndpoints, MAX_ENDPOINTS_PER_TENANT } from "../../../webhooks/endpoints.ts";
import { adminErrors, bearerSecurity } from "../../schemas.ts";
import { presentEndpoint, WebhookEndpointSchema } from "./schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/admin/webhooks",
  operationId: "listWebhooks",
  tags: ["Admin: webhooks"],
  summary: "List the tenant's webhook endpoints",
  description: `All of them, oldest first (a tenant has at most ${MAX_ENDPOINTS_PER_TENANT}); secrets are never listed. Admins and owners only.`,
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  responses: {
    200: {
      description: "The endpoints",
      content: { "application/json": { schema: z.object({ webhooks: z.array(WebhookEndpointSchema) }).openapi("WebhookEndpointList") } },
    },
    ...adminErrors,
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const rows = await listEndpoints(c.var.services.db, c.var.tenant.id);
  return c.json({ webhooks: rows.map(presentEndpoint) }, 200);
};
