// GET /v1/admin/webhooks/{id}/deliveries — the endpoint's delivery log, newest first, cursor-paginated.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../../env.ts";
import { decodeCursor, pageQuery, paginate } from "../../../lib/cursor.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { type DeliveryRow, findEndpoint, listDeliveries } from "../../../webhooks/endpoints.ts";
import { adminErrors, bearerSecurity } from "../../schemas.ts";
import { notFoundResponse, WebhookIdParams, webhookNotFound } from "./schemas.ts";

const DeliverySchema = z
  .object({
    id: z.uuid(),
    event_id: z.string().openapi({ description: "The webhook-id header the receiver got: the same on every attempt" }),
    event_type: z.string(),
    status: z.enum(["pending", "delivered", "failed"]).openapi({ description: "pending: attempts (or the first) still to come" }),
    attempts: z.number().int(),
    response_status: z.number().int().nullable().openapi({ description: "The HTTP status of the last attempt; null: no answer" }),
    last_error: z.string().nullable().openapi({ description: "Why the last attempt failed; null once delivered" }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    delivered_at: z.iso.datetime().nullable(),
  })
  .openapi("WebhookDelivery");

const presentDelivery = (d: DeliveryRow): z.infer<typeof DeliverySchema> => ({
  id: d.id,
  event_id: d.eventId,
  event_type: d.eventType,
  status: d.status,
  attempts: d.attempts,
  response_status: d.responseStatus,
  last_error: d.lastError,
  created_at: d.createdAt.toISOString(),
  updated_at: d.updatedAt.toISOString(),
  delivered_at: d.deliveredAt?.toISOString() ?? null,
});

export const route = createRoute({
  method: "get",
  path: "/v1/admin/webhooks/{id}/deliveries",
  operationId: "listWebhookDeliveries",
  tags: ["Admin: webhooks"],
  summary: "The delivery log of a webhook endpoint",
  description: "One row per event sent to the endpoint, with its attempts and the last outcome; newest first. Admins and owners only.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: {
    params: WebhookIdParams,
    query: pageQuery(),
  },
  responses: {
    200: {
      description: "One page of deliveries",
      content: {
        "application/json": {
          schema: z.object({ deliveries: z.array(DeliverySchema), next_cursor: z.string().nullable() }).openapi("WebhookDeliveryList"),
        },
      },
    },
    ...adminErrors,
    ...notFoundResponse,
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { db } = c.var.services;
  const { id } = c.req.valid("param");
  const { limit, cursor } = c.req.valid("query");
  const after = cursor ? decodeCursor(cursor) : undefined;
  if (!(await findEndpoint(db, c.var.tenant.id, id))) throw webhookNotFound();
  const rows = await listDeliveries(db, c.var.tenant.id, id, limit + 1, after);
  const { page, nextCursor } = paginate(rows, limit, (d) => ({ at: d.createdAt, id: d.id }));
  return c.json({ deliveries: page.map(presentDelivery), next_cursor: nextCursor }, 200);
};
