// GET /v1/admin/webhooks/{id} — one endpoint, without its secret.
import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../../env.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { findEndpoint } from "../../../webhooks/endpoints.ts";
import { adminErrors, bearerSecurity } from "../../schemas.ts";
import { notFoundResponse, presentEndpoint, WebhookEndpointSchema, WebhookIdParams, webhookNotFound } from "./schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/admin/webhooks/{id}",
  operationId: "getWebhook",
  tags: ["Admin: webhooks"],
  summary: "One webhook endpoint",
  description: "Admins and owners only.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: { params: WebhookIdParams },
  responses: {
    200: { description: "The endpoint", content: { "application/json": { schema: WebhookEndpointSchema } } },
    ...adminErrors,
    ...notFoundResponse,
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const endpoint = await findEndpoint(c.var.services.db, c.var.tenant.id, c.req.valid("param").id);
  if (!endpoint) throw webhookNotFound();
  return c.json(presentEndpoint(endpoint), 200);
};
