// POST /v1/admin/api-keys — creates an API key for server-to-server calls; the secret is in this answer only.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { countTenantCollections, createApiKey } from "../../../api-keys/repository.ts";
import { audit } from "../../../audit/log.ts";
import type { AppEnv } from "../../../env.ts";
import { ApiError } from "../../../lib/errors.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { adminErrors, bearerSecurity, errorResponse } from "../../schemas.ts";
import { ApiKeySchema, presentApiKey } from "./present.ts";

/** A date further out is almost always a typo (20255 for 2025); a key meant to live for ever omits expires_at. */
const MAX_LIFETIME_MS = 2 * 365 * 24 * 60 * 60 * 1000;

const CreateBody = z
  .object({
    name: z.string().trim().min(1).max(100).openapi({ example: "ingestion backend" }),
    scope: z.enum(["read", "write"]),
    collection_ids: z
      .array(z.uuid())
      .min(1)
      .max(100)
      .optional()
      .openapi({ description: "Restrict the key to these collections of the tenant (and then no private documents)" }),
    expires_at: z.iso
      .datetime({ offset: true })
      .refine((at) => Date.parse(at) > Date.now(), "must be in the future")
      .refine((at) => Date.parse(at) <= Date.now() + MAX_LIFETIME_MS, "must be at most 2 years from now")
      .optional()
      .openapi({ description: "When the key stops working; omit for a key that works until revoked" }),
  })
  .openapi("ApiKeyCreate");

export const route = createRoute({
  method: "post",
  path: "/v1/admin/api-keys",
  operationId: "createApiKey",
  tags: ["Admin: API keys"],
  summary: "Create an API key",
  description:
    "Creates a key that calls every /v1 route a member could use (`Authorization: Bearer dc_live_…`) as its own identity: its " +
    "documents, chat sessions, rate limit and daily budget are its own. `key` is returned here once and stored only as a hash. " +
    "name: 1-100 characters; collection_ids: 1-100 collections of the tenant; expires_at: an ISO date-time in the future, at most 2 years away. " +
    "A read-only key may not upload, delete or retry documents (403 insufficient_scope); a key never uses the admin routes.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: { body: { required: true, content: { "application/json": { schema: CreateBody } } } },
  responses: {
    201: {
      description: "The key, with its secret (shown only now)",
      content: {
        "application/json": {
          schema: ApiKeySchema.extend({
            key: z.string().openapi({ description: "The secret: store it now, it cannot be shown again", example: "dc_live_4fGh7KqZ…" }),
          }).openapi("CreatedApiKey"),
        },
      },
    },
    ...adminErrors,
    404: errorResponse("A collection in collection_ids is not one of the tenant's (collection_not_found), or unknown tenant"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const { db } = c.var.services;
  const tenantId = c.var.tenant.id;
  const collectionIds = body.collection_ids ? [...new Set(body.collection_ids)] : null;
  if (collectionIds && (await countTenantCollections(db, tenantId, collectionIds)) !== collectionIds.length)
    throw new ApiError(404, "collection_not_found", "collection_ids: no such collection in this tenant");
  const { row, secret } = await createApiKey(db, {
    tenantId,
    createdBy: c.var.user.id,
    name: body.name,
    scope: body.scope,
    collectionIds,
    expiresAt: body.expires_at ? new Date(body.expires_at) : null,
  });
  const key = presentApiKey(row);
  await audit(c, {
    action: "api_key.create",
    targetType: "api_key",
    targetId: row.id,
    details: { name: key.name, prefix: key.prefix, scope: key.scope, collection_ids: key.collection_ids, expires_at: key.expires_at },
  });
  return c.json({ ...key, key: secret }, 201);
};
