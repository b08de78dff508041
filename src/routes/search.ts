// POST /v1/search — hybrid semantic + keyword search over the ready documents the caller can read, with page citations.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { createOpenAI } from "../ai/client.ts";
import { MAX_TAGS, TagFilterSchema } from "../documents/metadata.ts";
import type { AppEnv } from "../env.ts";
import { ApiError } from "../lib/errors.ts";
import { requireUser } from "../middleware/auth.ts";
import { requireQuota } from "../middleware/quota.ts";
import { apiRateLimit } from "../middleware/rate-limit.ts";
import { requireTenant } from "../middleware/tenant.ts";
import { retrieve } from "../search/retrieve.ts";
import { normalizeQuery } from "../text/normalize.ts";
import { authErrors, bearerSecurity, errorResponse } from "./schemas.ts";

const SearchBody = z
  .object({
    query: z.string().min(1).max(2000),
    top_k: z.number().int().min(1).max(50).default(8),
    file_ids: z
      .array(z.uuid())
      .min(1)
      .max(100)
      .optional()
      .openapi({ description: "Search only these documents (and the collections in collection_ids)" }),
    collection_ids: z
      .array(z.uuid())
      .min(1)
      .max(100)
      .optional()
      .openapi({ description: "Search only these collections' documents (and the files in file_ids)" }),
    tags: TagFilterSchema.optional().openapi({
      description: `Search only documents carrying at least one of these tags (at most ${MAX_TAGS}; matched in their normalised form)`,
    }),
  })
  .openapi("SearchRequest");

const SearchHit = z
  .object({
    chunk_id: z.uuid(),
    file_id: z.uuid(),
    filename: z.string(),
    page_start: z.number().int(),
    page_end: z.number().int(),
    score: z.number().openapi({ description: "Reciprocal-rank fusion score; higher is better" }),
    text: z.string(),
    collection: z
      .object({ id: z.uuid(), name: z.string() })
      .nullable()
      .openapi({ description: "The collection the document belongs to; null for one of your private documents" }),
    tags: z.array(z.string()),
    metadata: z.record(z.string(), z.string()),
  })
  .openapi("SearchHit");

export const route = createRoute({
  method: "post",
  path: "/v1/search",
  operationId: "searchDocuments",
  tags: ["Search"],
  summary: "Search your documents",
  description:
    "Embeds the query, ranks chunks of the ready documents you can read (your own and your collections') by cosine similarity and by full-text match, and fuses " +
    "both rankings by reciprocal rank. Results are ordered by score; ties go to the better vector rank, then the better keyword rank, then the chunk id.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, apiRateLimit, requireQuota] as const,
  request: { body: { required: true, content: { "application/json": { schema: SearchBody } } } },
  responses: {
    200: {
      description: "The best chunks",
      content: { "application/json": { schema: z.object({ results: z.array(SearchHit) }).openapi("SearchResults") } },
    },
    ...authErrors,
    429: errorResponse("Rate limited (rate_limited), or the daily token budget is spent (quota_exceeded)"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { config, services, user } = c.var;
  const body = c.req.valid("json");
  const text = normalizeQuery(body.query);
  if (!text) throw new ApiError(400, "validation_failed", "query: must contain some text");

  const scope = { reader: user, fileIds: body.file_ids, collectionIds: body.collection_ids, tags: body.tags };
  const results = await retrieve(config, services.db, createOpenAI(config), scope, text, body.top_k);
  return c.json({ results }, 200);
};
