// POST /v1/admin/webhooks — registers an endpoint; its signing secret is in this answer only.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { audit } from "../../../audit/log.ts";
import type { AppEnv } from "../../../env.ts";
import { ApiError } from "../../../lib/errors.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { insertEndpoint, MAX_ENDPOINTS_PER_TENANT } from "../../../webhooks/endpoints.ts";
import { generateWebhookSecret } from "../../../webhooks/secret.ts";
import { adminErrors, bearerSecurity, errorResponse } from "../../schemas.ts";
import {
  acceptedUrl,
  MAX_DESCRIPTION_LENGTH,
  presentEndpoint,
  WebhookDescription,
  WebhookEndpointSchema,
  WebhookEvents,
  WebhookUrl,
} from "./schemas.ts";

export const route = createRoute({
  method: "post",
  path: "/v1/admin/webhooks",
  operationId: "createWebhook",
  tags: ["Admin: webhooks"],
  summary: "Register a webhook endpoint",
  description:
    `Events are POSTed to the URL signed as Standard Webhooks says (webhook-id, webhook-timestamp, webhook-signature; ` +
    `verify them with the secret in this answer, which is never shown again). At most ${MAX_ENDPOINTS_PER_TENANT} endpoints ` +
    `per tenant; the description is at most ${MAX_DESCRIPTION_LENGTH} characters. Admins and owners only.`,
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.object({ url: WebhookUrl, events: WebhookEvents, description: WebhookDescription.default("") }),
        },
      },
    },
  },
  responses: {
    201: {
      description: "Registered; keep the secret",
      content: {
        "application/json": {
          schema: WebhookEndpointSchema.extend({
            secret: z
              .string()
              .openapi({ description: "whsec_… signing secret, shown only in this answer", example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }),
          }).openapi("CreatedWebhookEndpoint"),
        },
      },
    },
    ...adminErrors,
    409: errorResponse(`The tenant already has ${MAX_ENDPOINTS_PER_TENANT} endpoints (webhook_limit_reached)`),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const url = acceptedUrl(body.url, c.var.config);
  const endpoint = await insertEndpoint(c.var.services.db, c.var.tenant.id, { ...body, url, secret: generateWebhookSecret() });
  if (!endpoint)
    throw new ApiError(409, "webhook_limit_reached", `A tenant has at most ${MAX_ENDPOINTS_PER_TENANT} webhook endpoints; delete one first`);
  await audit(c, {
    action: "webhook.create",
    targetType: "webhook",
    targetId: endpoint.id,
    details: { url, events: endpoint.events, description: endpoint.description },
  });
  return c.json({ ...presentEndpoint(endpoint), secret: endpoint.secret }, 201);
};
