// POST /v1/search — hybrid semantic + keyword search over the ready documents the caller can read, with page citations.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { MAX_TAGS, TagFilterSchema } from "../documents/metadata.ts";
import type { AppEnv } from "../env.ts";
import { ApiError } from "../lib/errors.ts";
import { requireUser } from "../middleware/auth.ts";
import { requireQuota } from "../middleware/quota.ts";
import { apiRateLimit } from "../middleware/rate-limit.ts";
import { requireTenant } from "../middleware/tenant.ts";
import { rerankEnabled } from "../search/rerank.ts";
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
    // Optional rather than defaulted, so that a generated client does not demand them (the defaults are applied below).
    mode: z.enum(["hybrid", "semantic", "keyword"]).optional().openapi({
      description:
        "hybrid (the default) fuses the vector and the keyword rankings; semantic uses the vector ranking alone, keyword the full-text ranking alone",
    }),
    rerank: z
      .boolean()
      .optional()
      .openapi({
        description:
          "true: have the deployment's rerank model score the best fused candidates for relevance, reorder them by it and drop those under its " +
          "relevance floor (so fewer than top_k, or none, may come back). 400 rerank_unavailable when the deployment has no rerank model.",
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
    score: z.number().openapi({
      description:
        "Fused score from 0 to 1: half the normalised vector score, half the normalised keyword score (one of them alone with mode); higher is better",
    }),
    relevance: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .openapi({ description: "With rerank: the rerank model's relevance, 0 (unrelated) to 1 (answers the query); results are ordered by it" }),
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
    "both rankings by their normalised scores (or uses one ranking alone: mode). Results are ordered by score; ties go to the better vector rank, then the better " +
    "keyword rank, then the chunk id. With rerank, the best fused candidates are scored for relevance by a model, reordered by it and cut at its floor.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, apiRateLimit, requireQuota] as const,
  request: { body: { required: true, content: { "application/json": { schema: SearchBody } } } },
  responses: {
    200: {
      description: "The best chunks",
      content: { "application/json": { schema: z.object({ results: z.array(SearchHit) }).openapi("SearchResults") } },
    },
    ...authErrors,
    400: errorResponse(
      "Invalid request (validation_failed, tenant_required, invalid_tenant_id), or rerank asked of a deployment without a rerank model (rerank_unavailable)",
    ),
    429: errorResponse("Rate limited (rate_limited), or the daily token budget is spent (quota_exceeded)"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { config, services, user } = c.var;
  const body = c.req.valid("json");
  const text = normalizeQuery(body.query);
  if (!text) throw new ApiError(400, "validation_failed", "query: must contain some text");

  // Asked for and unavailable is said, not ignored: the caller would otherwise take fused order for reranked.
  if (body.rerank && !rerankEnabled(config))
    throw new ApiError(400, "rerank_unavailable", "rerank: this deployment has no rerank model (RERANK_MODEL is off)");

  const scope = { reader: user, fileIds: body.file_ids, collectionIds: body.collection_ids, tags: body.tags };
  const results = await retrieve(config, services, services.openai, scope, text, {
    topK: body.top_k,
    mode: body.mode ?? "hybrid",
    rerank: body.rerank ?? false,
  });
  return c.json({ results }, 200);
};
