// The public JSON shape of a document, shared by every documents route.
import { z } from "@hono/zod-openapi";
import type { DocumentRow } from "./repository.ts";

export const DocumentSchema = z
  .object({
    id: z.uuid(),
    filename: z.string(),
    size_bytes: z.number().int(),
    sha256: z.string(),
    status: z.enum(["queued", "processing", "ready", "failed"]),
    progress: z.object({ pages_done: z.number().int(), pages_total: z.number().int().nullable() }),
    page_count: z.number().int().nullable(),
    chunk_count: z.number().int().nullable(),
    token_count: z.number().int().nullable(),
    error: z
      .object({
        code: z.enum(["too_many_pages", "encrypted", "invalid_pdf", "no_text", "ingest_failed"]),
        message: z.string(),
      })
      .nullable(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi("Document");

export type DocumentJson = z.infer<typeof DocumentSchema>;

export function presentDocument(d: DocumentRow): DocumentJson {
  return {
    id: d.id,
    filename: d.filename,
    size_bytes: d.sizeBytes,
    sha256: d.sha256,
    status: d.status,
    progress: { pages_done: d.pagesDone, pages_total: d.pagesTotal },
    page_count: d.status === "ready" ? d.pagesTotal : null,
    chunk_count: d.chunkCount,
    token_count: d.tokenCount,
    error: d.errorCode ? { code: d.errorCode as NonNullable<DocumentJson["error"]>["code"], message: d.errorMessage ?? "" } : null,
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
  };
}
