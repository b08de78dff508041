// What the webhook admin routes share: the endpoint's JSON shape, the {id} parameter, URL checks and errors.
import { z } from "@hono/zod-openapi";
import type { Config } from "../../../config.ts";
import { WEBHOOK_EVENTS } from "../../../db/schema.ts";
import { ApiError } from "../../../lib/errors.ts";
import type { EndpointRow } from "../../../webhooks/endpoints.ts";
import { checkWebhookUrl, MAX_WEBHOOK_URL_LENGTH, WebhookUrlError } from "../../../webhooks/url.ts";
import { errorResponse } from "../../schemas.ts";

export const MAX_DESCRIPTION_LENGTH = 500;

export const WebhookIdParams = z.object({ id: z.uuid().openapi({ param: { name: "id", in: "path" } }) });

export const WebhookUrl = z
  .string()
  .max(MAX_WEBHOOK_URL_LENGTH)
  .openapi({
    description: `At most ${MAX_WEBHOOK_URL_LENGTH} characters; https only (http to localhost is allowed when ENVIRONMENT=development); no credentials, localhost, or private, loopback or link-local IP address`,
    example: "https://example.com/hooks/docuchat",
  });

export const WebhookEvents = z
  .array(z.enum(WEBHOOK_EVENTS))
  .min(1)
  .refine((events) => new Set(events).size === events.length, "must not repeat an event")
  .openapi({ description: "The events to receive, at least one" });

export const WebhookDescription = z.string().max(MAX_DESCRIPTION_LENGTH);

export const WebhookEndpointSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    description: z.string(),
    events: z.array(z.enum(WEBHOOK_EVENTS)),
    enabled: z.boolean().openapi({ description: "A disabled endpoint receives nothing; its pending deliveries fail" }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi("WebhookEndpoint");

export const presentEndpoint = (e: EndpointRow): z.infer<typeof WebhookEndpointSchema> => ({
  id: e.id,
  url: e.url,
  description: e.description,
  events: e.events,
  enabled: e.enabled,
  created_at: e.createdAt.toISOString(),
  updated_at: e.updatedAt.toISOString(),
});

/** The URL as stored, or 400 validation_failed naming the field. */
export function acceptedUrl(raw: string, config: Config): string {
  try {
    return checkWebhookUrl(raw, config.ENVIRONMENT);
  } catch (err) {
    if (err instanceof WebhookUrlError) throw new ApiError(400, "validation_failed", `url: ${err.message}`);
    throw err;
  }
}

export const webhookNotFound = () => new ApiError(404, "webhook_not_found", "No such webhook endpoint");

export const notFoundResponse = {
  404: errorResponse("No such webhook endpoint in this tenant (webhook_not_found), or unknown tenant"),
} as const;
