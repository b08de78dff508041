// DELETE /v1/admin/webhooks/{id} — removes an endpoint and its delivery log; pending deliveries are not sent.
import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { audit } from "../../../audit/log.ts";
import type { AppEnv } from "../../../env.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { deleteEndpoint } from "../../../webhooks/endpoints.ts";
import { adminErrors, bearerSecurity } from "../../schemas.ts";
import { notFoundResponse, WebhookIdParams, webhookNotFound } from "./schemas.ts";

export const route = createRoute({
  method: "delete",
  path: "/v1/admin/webhooks/{id}",
  operationId: "deleteWebhook",
  tags: ["Admin: webhooks"],
  summary: "Delete a webhook endpoint",
  description: "Its delivery log goes with it, and deliveries still pending are never sent. Admins and owners only.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: { params: WebhookIdParams },
  responses: {
    204: { description: "Deleted" },
    ...adminErrors,
    ...notFoundResponse,
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { id } = c.req.valid("param");
  const endpoint = await deleteEndpoint(c.var.services.db, c.var.tenant.id, id);
  if (!endpoint) throw webhookNotFound();
  await audit(c, { action: "webhook.delete", targetType: "webhook", targetId: id, details: { url: endpoint.url } });
  return c.body(null, 204);
};
