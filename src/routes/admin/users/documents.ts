// GET /v1/admin/documents — every document of the organisation with its status, error and uploader; no content.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { DocumentSchema, presentDocument } from "../../../documents/present.ts";
import { listTenantDocuments, type OverseenDocument } from "../../../documents/tenant-documents.ts";
import type { AppEnv } from "../../../env.ts";
import { decodeCursor, pageQuery, paginate } from "../../../lib/cursor.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { adminErrors, bearerSecurity } from "../../schemas.ts";

const AdminDocumentSchema = DocumentSchema.extend({
  uploader: z
    .object({ id: z.uuid(), email: z.string() })
    .nullable()
    .openapi({ description: "Null: the uploader was erased (the document stayed in its collection)" }),
}).openapi("AdminDocument");

const presentOverseen = (doc: OverseenDocument): z.infer<typeof AdminDocumentSchema> => ({
  ...presentDocument(doc),
  uploader: doc.userId && doc.uploaderEmail ? { id: doc.userId, email: doc.uploaderEmail } : null,
});

export const route = createRoute({
  method: "get",
  path: "/v1/admin/documents",
  operationId: "listTenantDocuments",
  tags: ["Admin: documents"],
  summary: "List every document of the organisation",
  description:
    "Private documents and collections' alike, newest first, with status, error and uploader: metadata only (reading or downloading a " +
    "document follows the usual access rules). limit: 1-100, default 20.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: {
    query: pageQuery().extend({
      status: z.enum(["queued", "processing", "ready", "failed"]).optional(),
    }),
  },
  responses: {
    200: {
      description: "One page of documents",
      content: {
        "application/json": {
          schema: z.object({ documents: z.array(AdminDocumentSchema), next_cursor: z.string().nullable() }).openapi("AdminDocumentList"),
        },
      },
    },
    ...adminErrors,
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { status, limit, cursor } = c.req.valid("query");
  const rows = await listTenantDocuments(c.var.services.db, c.var.tenant.id, status, limit + 1, cursor ? decodeCursor(cursor) : undefined);
  const { page, nextCursor } = paginate(rows, limit, (doc) => ({ at: doc.createdAt, id: doc.id }));
  return c.json({ documents: page.map(presentOverseen), next_cursor: nextCursor }, 200);
};
