// GET /v1/files — the caller's documents, newest first, cursor-paginated.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { DocumentSchema, presentDocument } from "../../documents/present.ts";
import { type Cursor, listDocuments } from "../../documents/repository.ts";
import type { AppEnv } from "../../env.ts";
import { ApiError } from "../../lib/errors.ts";
import { requireUser } from "../../middleware/auth.ts";
import { apiRateLimit } from "../../middleware/rate-limit.ts";
import { requireTenant } from "../../middleware/tenant.ts";
import { authErrors, bearerSecurity, TenantHeader } from "../schemas.ts";

const encodeCursor = (c: Cursor) => btoa(JSON.stringify([c.createdAt, c.id])).replace(/=+$/, "");

function decodeCursor(raw: string): Cursor {
  try {
    const [createdAt, id] = JSON.parse(atob(raw)) as [string, string];
    if (Number.isNaN(Date.parse(createdAt)) || !/^[0-9a-f-]{36}$/.test(id)) throw new Error();
    return { createdAt, id };
  } catch {
    throw new ApiError(400, "invalid_cursor", "The cursor is not one this API returned");
  }
}

export const route = createRoute({
  method: "get",
  path: "/v1/files",
  tags: ["Files"],
  summary: "List your documents",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, apiRateLimit] as const,
  request: {
    headers: TenantHeader,
    query: z.object({
      limit: z.coerce.number().int().min(1).max(100).default(20),
      cursor: z.string().max(200).optional().openapi({ description: "next_cursor from the previous page" }),
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
  const owner = { tenantId: c.var.tenant.id, userId: c.var.user.id };
  // One extra row tells whether another page exists.
  const rows = await listDocuments(c.var.services.db, owner, limit + 1, cursor ? decodeCursor(cursor) : undefined);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const next = rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt.toISOString(), id: last.id }) : null;
  return c.json({ files: page.map(presentDocument), next_cursor: next }, 200);
};
