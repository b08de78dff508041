// GET /v1/files — the documents the caller can read, newest first, cursor-paginated, optionally filtered.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { MAX_TAGS, TagFilterSchema } from "../../documents/metadata.ts";
import { DocumentSchema, presentDocument } from "../../documents/present.ts";
import { type DocumentFilter, listDocuments } from "../../documents/repository.ts";
import type { AppEnv } from "../../env.ts";
import { decodeCursor, pageQuery, paginate } from "../../lib/cursor.ts";
import { ApiError } from "../../lib/errors.ts";
import { requireUser } from "../../middleware/auth.ts";
import { apiRateLimit } from "../../middleware/rate-limit.ts";
import { requireTenant } from "../../middleware/tenant.ts";
import { authErrors, bearerSecurity } from "../schemas.ts";

const MAX_NAME_QUERY_CHARS = 255;

// A query parameter given once arrives as a string, given several times as an array.
const repeatable = <T extends z.ZodType>(items: T) => z.preprocess((v) => (typeof v === "string" ? [v] : v), items);

export const route = createRoute({
  method: "get",
  path: "/v1/files",
  operationId: "listFiles",
  tags: ["Files"],
  summary: "List your documents",
  description:
    "Your private documents and those of the collections you can read, newest first. Filters combine (all must hold); " +
    "pass the same filters again with `cursor` for the next page.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, apiRateLimit] as const,
  request: {
    query: pageQuery().extend({
      tag: repeatable(TagFilterSchema)
        .optional()
        .openapi({
          param: { style: "form", explode: true },
          description: `Only documents carrying at least one of these tags (repeat the parameter, at most ${MAX_TAGS}); matched in their normalised form`,
        }),
      collection_id: z.uuid().optional().openapi({ description: "Only this collection's documents (none if you cannot read it)" }),
      private: z
        .enum(["true", "false"])
        .transform((v) => v === "true")
        .optional()
        .openapi({ description: "true: only your private documents (false, the default: no such restriction)" }),
      status: z.enum(["queued", "processing", "ready", "failed"]).optional(),
      q: z
        .string()
        .trim()
        .min(1)
        .max(MAX_NAME_QUERY_CHARS)
        .optional()
        .openapi({ description: `Only documents whose filename contains this, ignoring case (at most ${MAX_NAME_QUERY_CHARS} characters)` }),
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
  const { limit, cursor, tag, collection_id, private: privateOnly, status, q } = c.req.valid("query");
  if (collection_id && privateOnly) throw new ApiError(400, "validation_failed", "collection_id, private: give one or the other");
  const filter: DocumentFilter = { tags: tag, status, nameContains: q, collectionId: privateOnly ? null : collection_id };
  const after = cursor ? decodeCursor(cursor) : undefined;
  const rows = await listDocuments(c.var.services.db, c.var.user, limit + 1, { after, filter });
  const { page, nextCursor } = paginate(rows, limit, (doc) => ({ at: doc.createdAt, id: doc.id }));
  return c.json({ files: page.map(presentDocument), next_cursor: nextCursor }, 200);
};
