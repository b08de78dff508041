// POST /v1/files/{id}/retry — queues a failed (or stalled) document's ingestion again.
import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { DocumentSchema, presentDocument } from "../../documents/present.ts";
import type { AppEnv } from "../../env.ts";
import { ApiError } from "../../lib/errors.ts";
import { requireUser } from "../../middleware/auth.ts";
import { requireQuota } from "../../middleware/quota.ts";
import { apiRateLimit } from "../../middleware/rate-limit.ts";
import { requireWriteScope } from "../../middleware/roles.ts";
import { requireTenant } from "../../middleware/tenant.ts";
import { authErrors, bearerSecurity, errorResponse } from "../schemas.ts";
import { documentToChange, FileIdParams } from "./params.ts";
import { restartIngestion } from "./queue-ingestion.ts";

export const route = createRoute({
  method: "post",
  path: "/v1/files/{id}/retry",
  operationId: "retryFileIngestion",
  tags: ["Files"],
  summary: "Retry a failed document",
  description:
    "Queues the document's ingestion again when it failed, or when its progress has not moved for INGEST_STALL_MINUTES. " +
    "A document stopped by the daily token budget (quota_exceeded) continues after the pages it had stored; any other " +
    "starts over. Answers 202 with the queued document; poll GET /v1/files/{id}.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireWriteScope, apiRateLimit, requireQuota] as const,
  request: { params: FileIdParams },
  responses: {
    202: { description: "Queued again", content: { "application/json": { schema: DocumentSchema } } },
    ...authErrors,
    403: errorResponse(
      "Token of another tenant (tenant_mismatch), a read-only API key (insufficient_scope), or a collection's document you may only read (forbidden)",
    ),
    404: errorResponse("No such document you can read (file_not_found) or unknown tenant"),
    409: errorResponse("The document is ready, or still progressing (not_retryable)"),
    429: errorResponse("Rate limited (rate_limited), or the daily token budget is spent (quota_exceeded)"),
    503: errorResponse("The ingestion queue is unavailable (queue_unavailable), or the database did not answer in time (database_unavailable)"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const owner = { tenantId: c.var.tenant.id, userId: c.var.user.id };
  const doc = await documentToChange(c.var.services.db, c.var.user, c.req.valid("param").id);
  const restarted = await restartIngestion(c, owner, doc);
  if (!restarted) {
    const why =
      doc.status === "ready"
        ? "it is ready"
        : `its ingestion is ${doc.status} and has moved within the last ${c.var.config.INGEST_STALL_MINUTES} minutes`;
    throw new ApiError(409, "not_retryable", `Only a failed or stalled document can be retried: ${why}`);
  }
  return c.json(presentDocument(restarted), 202);
};
