// The public JSON shape of a document, shared by every documents route.
import { z } from "@hono/zod-openapi";
import type { DocumentRow } from "./repository.ts";

/** Why a page has no text in the index (or only its text layer): see src/ingest/extract.ts. */
export const PageWarningSchema = z
  .object({
    page: z.number().int().openapi({ description: "1-based page number" }),
    code: z.enum([
      "page_unreadable",
      "page_too_complex",
      "page_truncated",
      "text_limit",
      "ocr_off",
      "ocr_limit",
      "ocr_failed",
      "ocr_unavailable",
      "ocr_budget",
    ]),
    message: z.string(),
  })
  .openapi("PageWarning");

export type PageWarningJson = z.infer<typeof PageWarningSchema>;

export const DocumentSchema = z
  .object({
    id: z.uuid(),
    filename: z.string(),
    collection_id: z.uuid().nullable().openapi({ description: "The collection the document belongs to; null: private to its uploader" }),
    tags: z.array(z.string()),
    metadata: z.record(z.string(), z.string()).openapi({ description: "Free key/value pairs set with PATCH /v1/files/{id}" }),
    size_bytes: z.number().int(),
    sha256: z.string(),
    status: z.enum(["queued", "processing", "ready", "failed"]),
    progress: z.object({ pages_done: z.number().int(), pages_total: z.number().int().nullable() }),
    page_count: z.number().int().nullable(),
    chunk_count: z.number().int().nullable(),
    token_count: z.number().int().nullable(),
    ocr_pages: z.number().int().openapi({ description: "Pages read by OCR so far" }),
    warnings: z.array(PageWarningSchema).openapi({ description: "Pages that could not be read, or were not OCRed, in page order" }),
    error: z
      .object({
        code: z.enum([
          "too_many_pages",
          "encrypted",
          "invalid_pdf",
          "no_text",
          "ocr_unavailable",
          "quota_exceeded",
          "ingest_failed",
          "ingest_stalled",
        ]),
        message: z.string(),
      })
      .nullable(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi("Document");

export type DocumentJson = z.infer<typeof DocumentSchema>;

/** The stored warnings in page order (the column is an unordered set of distinct objects). */
export const presentWarnings = (warnings: DocumentRow["warnings"] | null | undefined): PageWarningJson[] =>
  (warnings ?? [])
    .map((w) => ({ page: w.page, code: w.code as PageWarningJson["code"], message: w.message }))
    .sort((a, b) => a.page - b.page || a.code.localeCompare(b.code));

export function presentDocument(d: DocumentRow): DocumentJson {
  return {
    id: d.id,
    filename: d.filename,
    collection_id: d.collectionId,
    tags: d.tags,
    metadata: d.metadata,
    size_bytes: d.sizeBytes,
    sha256: d.sha256,
    status: d.status,
    progress: { pages_done: d.pagesDone, pages_total: d.pagesTotal },
    page_count: d.status === "ready" ? d.pagesTotal : null,
    chunk_count: d.chunkCount,
    token_count: d.tokenCount,
    ocr_pages: d.ocrPages,
    warnings: presentWarnings(d.warnings),
    error: d.errorCode ? { code: d.errorCode as NonNullable<DocumentJson["error"]>["code"], message: d.errorMessage ?? "" } : null,
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
  };
}
