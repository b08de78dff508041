// POST /v1/admin/collections — creates a shared knowledge base.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { audit } from "../../../audit/log.ts";
import { CollectionSchema, presentCollection } from "../../../collections/present.ts";
import { insertCollection } from "../../../collections/repository.ts";
import type { AppEnv } from "../../../env.ts";
import { ApiError } from "../../../lib/errors.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { adminErrors, bearerSecurity, errorResponse } from "../../schemas.ts";
import { collectionExists, DescriptionField, NameField, VisibilityField } from "./body.ts";

const CreateCollectionBody = z
  .object({ name: NameField, description: DescriptionField.default(""), visibility: VisibilityField })
  .strict()
  .openapi("CreateCollection");

export const route = createRoute({
  method: "post",
  path: "/v1/admin/collections",
  operationId: "adminCreateCollection",
  tags: ["Admin: collections"],
  summary: "Create a collection",
  description:
    "A shared knowledge base. `visibility` `tenant`: every user of the tenant reads it; `members`: only the users you list " +
    "(PUT /v1/admin/collections/{id}/members/{user_id}). Admins, and members with `write` access, add documents to it " +
    "(POST /v1/files with `collection_id`). Written to the audit log as `collection.create`.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: { body: { required: true, content: { "application/json": { schema: CreateCollectionBody } } } },
  responses: {
    201: { description: "Created", content: { "application/json": { schema: CollectionSchema } } },
    ...adminErrors,
    409: errorResponse("The tenant already has a collection of that name (collection_exists)"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const row = await insertCollection(c.var.services.db, c.var.tenant.id, body);
  if (!row) throw new ApiError(409, "collection_exists", collectionExists(body.name));
  await audit(c, {
    action: "collection.create",
    targetType: "collection",
    targetId: row.id,
    details: { name: row.name, visibility: row.visibility },
  });
  return c.json(presentCollection({ ...row, access: "write", documentCount: 0, memberCount: 0 }), 201);
};
