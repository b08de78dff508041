// DELETE /v1/files/{id} — removes the document, its chunks and embeddings (cascade) and the R2 object.
import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { deleteDocument, findDocument } from "../../documents/repository.ts";
import type { AppEnv } from "../../env.ts";
import { requireUser } from "../../middleware/auth.ts";
import { apiRateLimit } from "../../middleware/rate-limit.ts";
import { requireWriteScope } from "../../middleware/roles.ts";
import { requireTenant } from "../../middleware/tenant.ts";
import { emitDocumentDeleted } from "../../webhooks/emit.ts";
import { authErrors, bearerSecurity, errorResponse } from "../schemas.ts";
import { FileIdParams, found, readOnlyDocument } from "./params.ts";

export const route = createRoute({
  method: "delete",
  path: "/v1/files/{id}",
  operationId: "deleteFile",
  tags: ["Files"],
  summary: "Delete a document and everything derived from it",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireWriteScope, apiRateLimit] as const,
  request: { params: FileIdParams },
  responses: {
    204: { description: "Deleted" },
    ...authErrors,
    403: errorResponse(
      "Token of another tenant (tenant_mismatch), a read-only API key (insufficient_scope), or a collection's document you may only read (forbidden)",
    ),
    404: errorResponse("No such document you can read (file_not_found)"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  // The row goes first: once it is gone the document is invisible, and an ingestion still running for it stops.
  const { db } = c.var.services;
  const id = c.req.valid("param").id;
  const doc = await deleteDocument(db, c.var.user, id);
  if (!doc) {
    found(await findDocument(db, c.var.user, id));
    throw readOnlyDocument();
  }
  await c.env.DOCUMENTS.delete(doc.r2Key);
  await emitDocumentDeleted(c.env, db, doc);
  return c.body(null, 204);
};
