// GET /v1/files/{id} — status, ingestion progress and error of one document.
import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { DocumentSchema, presentDocument } from "../../documents/present.ts";
import { findDocument } from "../../documents/repository.ts";
import type { AppEnv } from "../../env.ts";
import { requireUser } from "../../middleware/auth.ts";
import { apiRateLimit } from "../../middleware/rate-limit.ts";
import { requireTenant } from "../../middleware/tenant.ts";
import { authErrors, bearerSecurity, errorResponse } from "../schemas.ts";
import { FileIdParams, found } from "./params.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/files/{id}",
  operationId: "getFile",
  tags: ["Files"],
  summary: "One document: status, progress, error",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, apiRateLimit] as const,
  request: { params: FileIdParams },
  responses: {
    200: { description: "The document", content: { "application/json": { schema: DocumentSchema } } },
    ...authErrors,
    404: errorResponse("No such document for this user (file_not_found) or unknown tenant"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const doc = found(await findDocument(c.var.services.db, c.var.user, c.req.valid("param").id));
  return c.json(presentDocument(doc), 200);
};
