// POST /v1/files — stores a PDF in R2 and queues its ingestion. Nothing is parsed on the request path
// beyond the checks the limits need: size (streamed, never buffered past the limit), the %PDF- header, sha256.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { collectionAccess } from "../../collections/repository.ts";
import { postgresErrorCode } from "../../db/errors.ts";
import { cleanFilename } from "../../documents/filename.ts";
import { MAX_UPLOAD_BYTES, MULTIPART_OVERHEAD_BYTES } from "../../documents/limits.ts";
import { DocumentSchema, presentDocument } from "../../documents/present.ts";
import { type Destination, deleteDocument, findDocument, findDocumentBySha, insertDocument, objectKey } from "../../documents/repository.ts";
import type { AppEnv } from "../../env.ts";
import { ApiError } from "../../lib/errors.ts";
import { requireUser } from "../../middleware/auth.ts";
import { requireQuota } from "../../middleware/quota.ts";
import { apiRateLimit } from "../../middleware/rate-limit.ts";
import { requireWriteScope } from "../../middleware/roles.ts";
import { requireTenant } from "../../middleware/tenant.ts";
import { authErrors, bearerSecurity, errorResponse } from "../schemas.ts";
import { queueIngestion, restartIngestion } from "./queue-ingestion.ts";

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

const limitUpload = bodyLimit({
  maxSize: MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES,
  onError: () => {
    throw tooLarge();
  },
});

const requireMultipart = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.req.header("Content-Type")?.toLowerCase().startsWith("multipart/form-data"))
    throw new ApiError(415, "unsupported_media_type", "Send the PDF as multipart/form-data in the field 'file'");
  await next();
});

export const route = createRoute({
  method: "post",
  path: "/v1/files",
  operationId: "uploadFile",
  tags: ["Files"],
  summary: "Upload a PDF",
  description:
    `Accepts one PDF (\`%PDF-\` within its first ${PDF_HEADER_WINDOW} bytes, as PDF readers accept it) of at most ${MAX_UPLOAD_BYTES} bytes in the multipart field \`file\`. ` +
    "Answers 202 at once and ingests in the background: poll GET /v1/files/{id} for progress. " +
    "Uploading bytes you already uploaded returns the existing document (200) instead of a duplicate; " +
    "if that document failed, or its ingestion has not moved for INGEST_STALL_MINUTES, it is queued again (202). " +
    "With `collection_id` the document goes into that collection (you need write access to it: an admin, or a member with `write`), " +
    "and the same bytes are stored once per collection. An API key restricted to collections must name one of them.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireWriteScope, apiRateLimit, requireQuota, requireMultipart, limitUpload] as const,
  request: {
    body: {
      required: true,
      content: {
        "multipart/form-data": {
          // A binary string in a multipart part: generated clients take a Blob or File for it. The handler checks
          // it (400 file_required), so the schema validates nothing itself.
          schema: z
            .object({
              file: z.any().openapi({ type: "string", format: "binary", description: "The PDF" }),
              collection_id: z.uuid().optional().openapi({ description: "Add the document to this collection instead of your private documents" }),
            })
            .openapi({ required: ["file"] }),
          encoding: { file: { contentType: "application/pdf" } },
        },
      },
    },
  },
  responses: {
    202: {
      description: "Stored and queued for ingestion (or the same bytes' failed or stalled document queued again)",
      content: { "application/json": { schema: DocumentSchema } },
    },
    200: { description: "The same bytes were uploaded before: the existing document", content: { "application/json": { schema: DocumentSchema } } },
    ...authErrors,
    403: errorResponse(
      "Token of another tenant (tenant_mismatch), a read-only API key (insufficient_scope), a collection you may only read, " +
        "or no collection_id from an API key restricted to collections (forbidden)",
    ),
    404: errorResponse("No such collection you can read (collection_not_found), or unknown tenant"),
    413: errorResponse("The file is over 25 MiB (file_too_large)"),
    429: errorResponse("Rate limited (rate_limited), or the daily token budget is spent (quota_exceeded)"),
    415: errorResponse("Not a PDF (unsupported_media_type)"),
    503: errorResponse(
      "The ingestion queue is unavailable (queue_unavailable; nothing was stored), or the database did not answer in time (database_unavailable)",
    ),
  },
});

const collectionNotFound = () => new ApiError(404, "collection_not_found", "No such collection");

/** Where the upload goes: the caller's private documents, or a collection they may add documents to. */
async function destinationOf(c: Context<AppEnv>, collectionId: string | undefined): Promise<Destination> {
  const { user, tenant } = c.var;
  const owner = { tenantId: tenant.id, userId: user.id };
  if (!collectionId) {
    if (user.apiKey?.collectionIds)
      throw new ApiError(403, "forbidden", "This API key is restricted to collections: send collection_id with one of them");
    return { ...owner, collectionId: null };
  }
  const access = await collectionAccess(c.var.services.db, user, collectionId);
  if (!access) throw collectionNotFound();
  if (access !== "write") throw new ApiError(403, "forbidden", "You can read this collection but not add documents to it");
  return { ...owner, collectionId };
}

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { services, tenant, user } = c.var;
  const owner = { tenantId: tenant.id, userId: user.id };
  const form = c.req.valid("form");
  const file: unknown = form.file;
  if (!(file instanceof File)) throw new ApiError(400, "file_required", "Send the PDF in the multipart field 'file'");
  if (file.size > MAX_UPLOAD_BYTES) throw tooLarge();
  if (file.size === 0) throw new ApiError(400, "empty_file", "The file is empty");

  const bytes = await file.arrayBuffer();
  if (!hasPdfHeader(bytes))
    throw new ApiError(415, "unsupported_media_type", `Only PDF files are accepted (no %PDF- header in the first ${PDF_HEADER_WINDOW} bytes)`);

  const destination = await destinationOf(c, form.collection_id);
  const sha256 = await sha256Hex(bytes);
  const existing = await findDocumentBySha(services.db, destination, sha256);
  if (existing) {
    // Uploading a failed or stalled document again restarts it: what stopped it (OCR down, budget spent, a
    // restart) may be gone. Any other is returned as it is.
    const restarted = await restartIngestion(c, owner, existing);
    if (restarted) return c.json(presentDocument(restarted), 202);
    return c.json(presentDocument((await findDocument(services.db, user, existing.id)) ?? existing), 200);
  }

  // The object is stored before the row exists, so a row never points at a missing object.
  const id = crypto.randomUUID();
  const filename = cleanFilename(file.name);
  const key = objectKey(destination, id);
  await c.env.DOCUMENTS.put(key, bytes, { httpMetadata: { contentType: "application/pdf" }, customMetadata: { filename }, sha256 });
  const row = await insertDocument(services.db, destination, { id, filename, sizeBytes: file.size, sha256 }).catch(async (err: unknown) => {
    // No row will ever point at the object: it must not stay behind.
    await c.env.DOCUMENTS.delete(key);
    // The collection was deleted since it was checked (src/collections/delete.ts relies on this object going).
    if (destination.collectionId && postgresErrorCode(err) === "23503") throw collectionNotFound();
    throw err;
  });
  if (!row) {
    // The same bytes won a concurrent race: keep theirs.
    await c.env.DOCUMENTS.delete(key);
    return c.json(presentDocument((await findDocumentBySha(services.db, destination, sha256))!), 200);
  }

  await queueIngestion(c, { ...owner, documentId: id, fromPage: 1, requestId: c.var.requestId }, async () => {
    await deleteDocument(services.db, user, id);
    await c.env.DOCUMENTS.delete(key);
  });
  return c.json(presentDocument(row), 202);
};
