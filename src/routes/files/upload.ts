// POST /v1/files — stores a PDF in R2 and queues its ingestion. Nothing is parsed on the request path
// beyond the checks the limits need: size (streamed, never buffered past the limit), the %PDF- header, sha256.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { MAX_UPLOAD_BYTES, MAX_FILENAME_LENGTH, MULTIPART_OVERHEAD_BYTES } from "../../documents/limits.ts";
import { DocumentSchema, presentDocument } from "../../documents/present.ts";
import { deleteDocument, findDocument, findDocumentBySha, insertDocument, objectKey, requeueFailedDocument } from "../../documents/repository.ts";
import type { AppEnv } from "../../env.ts";
import type { IngestMessage } from "../../ingest/messages.ts";
import { type FailureCode, markFailed } from "../../ingest/store.ts";
import { ApiError } from "../../lib/errors.ts";
import { requireUser } from "../../middleware/auth.ts";
import { requireQuota } from "../../middleware/quota.ts";
import { apiRateLimit } from "../../middleware/rate-limit.ts";
import { requireTenant } from "../../middleware/tenant.ts";
import { authErrors, bearerSecurity, errorResponse, TenantHeader } from "../schemas.ts";

const PDF_MAGIC = [0x25, 0x50, 0x44, 0x46, 0x2d]; // "%PDF-"
/**
 * PDF readers find the header anywhere in the first 1024 bytes (pdf.js: "%PDF-" wholly inside them, and it then
 * counts offsets from there): junk that a mail gateway or script put before the header is accepted, as they accept it.
 */
const PDF_HEADER_WINDOW = 1024;

/** Whether "%PDF-" lies within the first PDF_HEADER_WINDOW bytes. */
function hasPdfHeader(bytes: ArrayBuffer): boolean {
  const head = new Uint8Array(bytes, 0, Math.min(PDF_HEADER_WINDOW, bytes.byteLength));
  for (let start = 0; start + PDF_MAGIC.length <= head.length; start++) {
    if (PDF_MAGIC.every((b, i) => head[start + i] === b)) return true;
  }
  return false;
}

const tooLarge = () => new ApiError(413, "file_too_large", `PDFs are limited to ${MAX_UPLOAD_BYTES} bytes (25 MiB)`);

const limitUpload = bodyLimit({ maxSize: MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES, onError: () => { throw tooLarge(); } });

const requireMultipart = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.req.header("Content-Type")?.toLowerCase().startsWith("multipart/form-data"))
    throw new ApiError(415, "unsupported_media_type", "Send the PDF as multipart/form-data in the field 'file'");
  await next();
});

export const route = createRoute({
  method: "post",
  path: "/v1/files",
  tags: ["Files"],
  summary: "Upload a PDF",
  description:
    `Accepts one PDF (\`%PDF-\` within its first ${PDF_HEADER_WINDOW} bytes, as PDF readers accept it) of at most ${MAX_UPLOAD_BYTES} bytes in the multipart field \`file\`. ` +
    "Answers 202 at once and ingests in the background: poll GET /v1/files/{id} for progress. " +
    "Uploading bytes you already uploaded returns the existing document (200) instead of a duplicate; " +
    "if that document failed, it is queued again (202).",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, apiRateLimit, requireQuota, requireMultipart, limitUpload] as const,
  request: {
    headers: TenantHeader,
    body: {
      required: true,
      content: {
        "multipart/form-data": {
          schema: z.object({ file: z.any().openapi({ type: "string", format: "binary", description: "The PDF" }) }),
        },
      },
    },
  },
  responses: {
    202: { description: "Stored and queued for ingestion", content: { "application/json": { schema: DocumentSchema } } },
    200: { description: "The same bytes were uploaded before: the existing document", content: { "application/json": { schema: DocumentSchema } } },
    ...authErrors,
    413: errorResponse("The file is over 25 MiB (file_too_large)"),
    429: errorResponse("Rate limited (rate_limited), or the daily token budget is spent (quota_exceeded)"),
    415: errorResponse("Not a PDF (unsupported_media_type)"),
    503: errorResponse("The ingestion queue is unavailable (queue_unavailable); nothing was stored"),
  },
});

/** Keeps the last path segment, without control characters, at a sane length. */
function cleanFilename(name: string): string {
  const base = name.split(/[\\/]/).pop()!.replace(/[\u0000-\u001f\u007f]/g, "").trim();
  return (base || "document.pdf").slice(0, MAX_FILENAME_LENGTH);
}

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}


export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { services, tenant, user } = c.var;
  const owner = { tenantId: tenant.id, userId: user.id };
  const file: unknown = c.req.valid("form").file;
  if (!(file instanceof File)) throw new ApiError(400, "file_required", "Send the PDF in the multipart field 'file'");
  if (file.size > MAX_UPLOAD_BYTES) throw tooLarge();
  if (file.size === 0) throw new ApiError(400, "empty_file", "The file is empty");

  const bytes = await file.arrayBuffer();
  if (!hasPdfHeader(bytes))
    throw new ApiError(415, "unsupported_media_type", `Only PDF files are accepted (no %PDF- header in the first ${PDF_HEADER_WINDOW} bytes)`);

  const sha256 = await sha256Hex(bytes);
  const existing = await findDocumentBySha(services.db, owner, sha256);
  if (existing) {
    if (existing.status !== "failed") return c.json(presentDocument(existing), 200);
    // Uploading a failed document again retries it: what failed it (OCR down, budget spent) may be gone.
    const requeued = await requeueFailedDocument(services.db, owner, existing.id);
    if (!requeued) return c.json(presentDocument((await findDocument(services.db, owner, existing.id)) ?? existing), 200);
    const target = { ...owner, documentId: existing.id };
    await queueIngestion(c, { ...target, fromPage: 1, requestId: c.var.requestId }, () =>
      markFailed(services.db, target, (existing.errorCode ?? "ingest_failed") as FailureCode, existing.errorMessage ?? "Could not be queued again"),
    );
    return c.json(presentDocument(requeued), 202);
  }

  // The object is stored before the row exists, so a row never points at a missing object.
  const id = crypto.randomUUID();
  const filename = cleanFilename(file.name);
  const key = objectKey(owner, id);
  await c.env.DOCUMENTS.put(key, bytes, { httpMetadata: { contentType: "application/pdf" }, customMetadata: { filename }, sha256 });
  const row = await insertDocument(services.db, owner, { id, filename, sizeBytes: file.size, sha256 });
  if (!row) {
    // The same bytes won a concurrent race: keep theirs.
    await c.env.DOCUMENTS.delete(key);
    return c.json(presentDocument((await findDocumentBySha(services.db, owner, sha256))!), 200);
  }

  await queueIngestion(c, { ...owner, documentId: id, fromPage: 1, requestId: c.var.requestId }, async () => {
    await deleteDocument(services.db, owner, id);
    await c.env.DOCUMENTS.delete(key);
  });
  return c.json(presentDocument(row), 202);
};

/** Sends the first ingestion message; when the queue refuses, `undo` runs and the client gets a 503. */
async function queueIngestion(c: Context<AppEnv>, message: IngestMessage, undo?: () => Promise<void>): Promise<void> {
  try {
    await c.env.INGEST_QUEUE.send(message);
  } catch (err) {
    await undo?.();
    console.error(JSON.stringify({ level: "error", msg: "ingest queue send failed", request_id: c.var.requestId, error: String(err) }));
    throw new ApiError(503, "queue_unavailable", "The document could not be queued for processing; nothing was stored, try again");
  }
}
