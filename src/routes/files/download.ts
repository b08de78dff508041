// GET /v1/files/{id}/download — the original PDF, streamed from R2.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { findDocument } from "../../documents/repository.ts";
import type { AppEnv } from "../../env.ts";
import { ApiError } from "../../lib/errors.ts";
import { requireUser } from "../../middleware/auth.ts";
import { apiRateLimit } from "../../middleware/rate-limit.ts";
import { requireTenant } from "../../middleware/tenant.ts";
import { authErrors, bearerSecurity, errorResponse } from "../schemas.ts";
import { FileIdParams, found } from "./params.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/files/{id}/download",
  operationId: "downloadFile",
  tags: ["Files"],
  summary: "Download the original PDF",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, apiRateLimit] as const,
  request: { params: FileIdParams },
  responses: {
    200: { description: "The PDF", content: { "application/pdf": { schema: z.any().openapi({ type: "string", format: "binary" }) } } },
    ...authErrors,
    404: errorResponse("No such document for this user (file_not_found)"),
  },
});

/** RFC 6266 filename*, so non-ASCII (Persian) names survive. */
const contentDisposition = (name: string) =>
  `attachment; filename="${name.replace(/[^\x20-\x7e]|["\\]/g, "_")}"; filename*=UTF-8''${encodeURIComponent(name)}`;

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const doc = found(await findDocument(c.var.services.db, c.var.user, c.req.valid("param").id));
  const object = await c.env.DOCUMENTS.get(doc.r2Key);
  if (!object) throw new ApiError(404, "file_not_found", "No such file");
  return new Response(object.body, {
    headers: {
      "Content-Type": "application/pdf",
      "Content-Length": String(object.size),
      "Content-Disposition": contentDisposition(doc.filename),
      ETag: object.httpEtag,
    },
  }) as never;
};
