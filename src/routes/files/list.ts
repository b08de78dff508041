// GET /v1/files — the caller's documents, newest first, cursor-paginated.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { DocumentSchema, presentDocument } from "../../documents/present.ts";
import { listDocuments } from "../../documents/repository.ts";
import type { AppEnv } from "../../env.ts";
import { CursorQuery, decodeCursor, paginate } from "../../lib/cursor.ts";
import { requireUser } from "../../middleware/auth.ts";
import { apiRateLimit } from "../../middleware/rate-limit.ts";
import { requireTenant } from "../../middleware/tenant.ts";
import { authErrors, bearerSecurity } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/files",
  operationId: "listFiles",
  tags: ["Files"],
  summary: "List your documents",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, apiRateLimit] as const,
  request: {
    query: z.object({
      limit: z.coerce.number().int().min(1).max(100).default(20),
      cursor: CursorQuery,
    }),
  },
  responses: {
    200: {
      description: "One page of documents",
      content: {
        "application/json": {
          schema: z.object({ files: z.array(DocumentSchema), next_cursor: z.string().nullable() }).openapi("FileList"),
        },
      },
    },
    ...authErrors,
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const after = cursor ? decodeCursor(cursor) : undefined;
  const rows = await listDocuments(c.var.services.db, c.var.user, limit + 1, after && { createdAt: after.at, id: after.id });
  const { page, nextCursor } = paginate(rows, limit, (doc) => ({ at: doc.createdAt, id: doc.id }));
  return c.json({ files: page.map(presentDocument), next_cursor: nextCursor }, 200);
};
