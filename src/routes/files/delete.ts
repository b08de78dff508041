// DELETE /v1/files/{id} — removes the document, its chunks and embeddings (cascade) and the R2 object.
import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { deleteDocument } from "../../documents/repository.ts";
import type { AppEnv } from "../../env.ts";
import { requireUser } from "../../middleware/auth.ts";
import { apiRateLimit } from "../../middleware/rate-limit.ts";
import { requireTenant } from "../../middleware/tenant.ts";
import { authErrors, bearerSecurity, errorResponse } from "../schemas.ts";
import { FileIdParams, found } from "./params.ts";

export const route = createRoute({
  method: "delete",
  path: "/v1/files/{id}",
  operationId: "deleteFile",
  tags: ["Files"],
  summary: "Delete a document and everything derived from it",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, apiRateLimit] as const,
  request: { params: FileIdParams },
  responses: {
    204: { description: "Deleted" },
    ...authErrors,
    404: errorResponse("No such document for this user (file_not_found)"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  // The row goes first: once it is gone the document is invisible, and an ingestion still running for it stops.
  const doc = found(await deleteDocument(c.var.services.db, { tenantId: c.var.tenant.id, userId: c.var.user.id }, c.req.valid("param").id));
  await c.env.DOCUMENTS.delete(doc.r2Key);
  return c.body(null, 204);
};
