// PATCH /v1/admin/webhooks/{id} — changes an endpoint's URL, events, description, or turns it off and on.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { audit } from "../../../audit/log.ts";
import type { AppEnv } from "../../../env.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { type EndpointChanges, findEndpoint, updateEndpoint } from "../../../webhooks/endpoints.ts";
import { adminErrors, bearerSecurity } from "../../schemas.ts";
import {
  acceptedUrl,
  notFoundResponse,
  presentEndpoint,
  WebhookDescription,
  WebhookEndpointSchema,
  WebhookEvents,
  WebhookIdParams,
  WebhookUrl,
  webhookNotFound,
} from "./schemas.ts";

export const route = createRoute({
  method: "patch",
  path: "/v1/admin/webhooks/{id}",
  operationId: "updateWebhook",
  tags: ["Admin: webhooks"],
  summary: "Change a webhook endpoint",
  description:
    "Send at least one field. Pending deliveries go to the URL as it is when they are attempted; disabling an endpoint " +
    "fails its pending deliveries and stops new ones. The URL and description follow the rules of POST /v1/admin/webhooks. Admins and owners only.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: {
    params: WebhookIdParams,
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z
            .object({ url: WebhookUrl, events: WebhookEvents, description: WebhookDescription, enabled: z.boolean() })
            .partial()
            .refine((b) => Object.keys(b).length > 0, "send at least one of url, events, description, enabled"),
        },
      },
    },
  },
  responses: {
    200: { description: "The endpoint as it now is", content: { "application/json": { schema: WebhookEndpointSchema } } },
    ...adminErrors,
    ...notFoundResponse,
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { db } = c.var.services;
  const { id } = c.req.valid("param");
  const body = c.req.valid("json");
  const changes: EndpointChanges = { ...body, ...(body.url === undefined ? {} : { url: acceptedUrl(body.url, c.var.config) }) };
  const before = await findEndpoint(db, c.var.tenant.id, id);
  const after = before && (await updateEndpoint(db, c.var.tenant.id, id, changes));
  if (!before || !after) throw webhookNotFound();
  const changed = (Object.keys(changes) as Array<keyof EndpointChanges>).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  await audit(c, {
    action: "webhook.update",
    targetType: "webhook",
    targetId: id,
    details: Object.fromEntries(changed.map((k) => [k, { from: before[k], to: after[k] }])),
  });
  return c.json(presentEndpoint(after), 200);
};
