// PATCH /v1/admin/collections/{id} — renames a collection, or changes its description or visibility.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { audit } from "../../../audit/log.ts";
import { CollectionSchema, presentCollection } from "../../../collections/present.ts";
import { CollectionNameTaken, findCollection, updateCollection } from "../../../collections/repository.ts";
import type { AppEnv } from "../../../env.ts";
import { ApiError } from "../../../lib/errors.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { adminErrors, bearerSecurity, errorResponse } from "../../schemas.ts";
import { CollectionIdParams, found } from "../params.ts";
import { collectionExists, DescriptionField, NameField, VisibilityField } from "./body.ts";

const UpdateCollectionBody = z
  .object({ name: NameField.optional(), description: DescriptionField.optional(), visibility: VisibilityField.optional() })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: "Send at least one of name, description, visibility" })
  .openapi("UpdateCollection");

export const route = createRoute({
  method: "patch",
  path: "/v1/admin/collections/{id}",
  operationId: "adminUpdateCollection",
  tags: ["Admin: collections"],
  summary: "Change a collection",
  description:
    "Only the fields sent change. Making a collection `members`-only takes it away at once from every user not listed as a member. " +
    "Written to the audit log as `collection.update` with each changed field's `from` and `to`.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: {
    params: CollectionIdParams,
    body: { required: true, content: { "application/json": { schema: UpdateCollectionBody } } },
  },
  responses: {
    200: { description: "The collection after the change", content: { "application/json": { schema: CollectionSchema } } },
    ...adminErrors,
    404: errorResponse("No such collection in this tenant (collection_not_found), or unknown tenant"),
    409: errorResponse("Another collection of the tenant has that name (collection_exists)"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { db } = c.var.services;
  const { id } = c.req.valid("param");
  const patch = c.req.valid("json");
  const before = found(await findCollection(db, c.var.user, id));
  await updateCollection(db, c.var.tenant.id, id, patch).catch((err: unknown) => {
    if (err instanceof CollectionNameTaken) throw new ApiError(409, "collection_exists", collectionExists(patch.name ?? ""));
    throw err;
  });
  const after = found(await findCollection(db, c.var.user, id));
  const changes = Object.fromEntries(
    (Object.keys(patch) as Array<keyof typeof patch>).filter((k) => before[k] !== after[k]).map((k) => [k, { from: before[k], to: after[k] }]),
  );
  await audit(c, { action: "collection.update", targetType: "collection", targetId: id, details: changes });
  return c.json(presentCollection(after), 200);
};
