// DELETE /v1/admin/collections/{id} — deletes a collection with its documents, chunks, pages and stored PDFs.
import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { audit } from "../../../audit/log.ts";
import { deleteCollection } from "../../../collections/delete.ts";
import type { AppEnv } from "../../../env.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { adminErrors, bearerSecurity, errorResponse } from "../../schemas.ts";
import { CollectionIdParams, found } from "../params.ts";

export const route = createRoute({
  method: "delete",
  path: "/v1/admin/collections/{id}",
  operationId: "adminDeleteCollection",
  tags: ["Admin: collections"],
  summary: "Delete a collection and everything in it",
  description:
    "Deletes its documents with their chunks, pages and stored PDFs, and its member list; nothing is left behind. " +
    "Safe to retry: a DELETE interrupted after the rows went removes the remaining PDFs when repeated (and then answers 404). " +
    "Written to the audit log as `collection.delete` with the name and the number of documents deleted.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: { params: CollectionIdParams },
  responses: {
    204: { description: "Deleted" },
    ...adminErrors,
    404: errorResponse("No such collection in this tenant (collection_not_found), or unknown tenant"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { id } = c.req.valid("param");
  const deleted = await deleteCollection(c.var.services.db, c.env.DOCUMENTS, c.var.tenant.id, id);
  const collection = found(deleted.collection);
  await audit(c, {
    action: "collection.delete",
    targetType: "collection",
    targetId: id,
    details: { name: collection.name, documents: deleted.documents, objects: deleted.objects },
  });
  return c.body(null, 204);
};
