// Database writes of the ingestion. A page range is written in ONE transaction (chunks, their usage, progress),
// and chunk ordinals derive from the range, so a redelivered message can never duplicate or half-write chunks.
import pgvector from "pgvector";
import type { Db } from "../db/client.ts";
import { MAX_IMAGE_PIXELS } from "../pdf/open.ts";
import { SEARCH_FORM_VERSION, searchForm } from "../search/keyword/search-form.ts";
import type { Chunk } from "./chunker.ts";
import type { PermanentErrorCode } from "./errors.ts";
import type { ExtractedPage, ExtractResult, PageWarning } from "./extract.ts";

export interface IngestTarget {
  tenantId: string;
  userId: string;
  documentId: string;
}

/** Ordinals of a range start at fromPage * ORDINAL_STRIDE: stable across redeliveries, ordered by page. */
const ORDINAL_STRIDE = 100_000;

export async function rangeAlreadyStored(db: Db, t: IngestTarget, fromPage: number): Promise<boolean> {
  const rows = await db.$client.query("select 1 from chunks where tenant_id = $1 and document_id = $2 and ordinal >= $3 and ordinal < $4 limit 1", [
    t.tenantId,
    t.documentId,
    fromPage * ORDINAL_STRIDE,
    (fromPage + 1) * ORDINAL_STRIDE,
  ]);
  return rows.length > 0;
}

/** Characters of text the document's stored pages hold, against MAX_DOCUMENT_CHARS. */
export async function storedTextLength(db: Db, t: IngestTarget): Promise<number> {
  const [row] = await db.$client.query(
    "select coalesce(sum(length(text)), 0)::int as n from document_pages where tenant_id = $1 and document_id = $2",
    [t.tenantId, t.documentId],
  );
  return (row as { n: number }).n;
}

export async function markProcessing(db: Db, t: IngestTarget, pagesTotal: number): Promise<void> {
  await db.$client.query(
    `update documents set status = 'processing', pages_total = $3, error_code = null, error_message = null, updated_at = now()
     where tenant_id = $1 and id = $2 and status in ('queued', 'processing', 'failed')`,
    [t.tenantId, t.documentId, pagesTotal],
  );
}

export async function markProgress(db: Db, t: IngestTarget, pagesDone: number): Promise<void> {
  await db.$client.query("update documents set pages_done = greatest(pages_done, $3), updated_at = now() where tenant_id = $1 and id = $2", [
    t.tenantId,
    t.documentId,
    pagesDone,
  ]);
}

/** Which documents a failure may end: any not finished, only those still being ingested, or only stalled ones. */
export type FailScope = "unfinished" | "in_flight" | { stalledMinutes: number };

/**
 * Fails the document and drops what its earlier ranges stored (a failed document keeps no chunks or pages), in one
 * statement, so that only a document still in `scope` is touched. Whether it was.
 */
export async function markFailed(db: Db, t: IngestTarget, code: FailureCode, message: string, scope: FailScope = "unfinished"): Promise<boolean> {
  const params: unknown[] = [t.tenantId, t.documentId, code, message.slice(0, 1000)];
  let condition = "status <> 'ready'";
  if (scope === "in_flight") condition = "status in ('queued', 'processing')";
  else if (typeof scope === "object") {
    params.push(scope.stalledMinutes);
    condition = "status in ('queued', 'processing') and updated_at < now() - make_interval(mins => $5)";
  }
  const [row] = await db.$client.query(
    `with failed as (
       update documents set status = 'failed', error_code = $3, error_message = $4, chunk_count = 0, token_count = 0, updated_at = now()
       where tenant_id = $1 and id = $2 and ${condition}
       returning tenant_id, id
     ),
     chunks_dropped as (delete from chunks c using failed f where c.tenant_id = f.tenant_id and c.document_id = f.id),
     pages_dropped as (delete from document_pages p using failed f where p.tenant_id = f.tenant_id and p.document_id = f.id)
     select count(*)::int as n from failed`,
    params,
  );
  return (row as { n: number }).n > 0;
}

/**
 * Fails the document as `quota_exceeded` before range `fromPage`, keeping the ranges stored before it: progress
 * says where a retry continues (resumePage), so what was already embedded is not paid for twice.
 */
export async function markBudgetStopped(db: Db, t: IngestTarget, fromPage: number, message: string): Promise<void> {
  await db.$client.query(
    `update documents set status = 'failed', error_code = 'quota_exceeded', error_message = $4, pages_done = $3, updated_at = now()
     where tenant_id = $1 and id = $2 and status <> 'ready'`,
    [t.tenantId, t.documentId, fromPage - 1, message.slice(0, 1000)],
  );
}

export interface RangeOutput {
  pages: ExtractedPage[];
  warnings: PageWarning[];
  chunks: Chunk[];
  embedding: { vectors: number[][]; tokens: number; model: string };
  ocr: ExtractResult["ocr"];
}

export async function storeRange(db: Db, t: IngestTarget, range: { fromPage: number; toPage: number }, out: RangeOutput): Promise<void> {
  const { chunks, embedding } = out;
  const sql = db.$client;
  const queries = [];
  if (out.pages.length) {
    const params: unknown[] = [t.tenantId, t.documentId];
    const rows = out.pages.map((p) => {
      params.push(p.page, p.text, p.source);
      return `($1, $2, $${params.length - 2}, $${params.length - 1}, $${params.length})`;
    });
    queries.push(
      sql.query(`insert into document_pages (tenant_id, document_id, page, text, source) values ${rows.join(", ")} on conflict do nothing`, params),
    );
  }
  if (out.ocr.pages) {
    queries.push(
      sql.query("insert into usage_events (tenant_id, user_id, kind, model, prompt_tokens, completion_tokens) values ($1, $2, 'ocr', $3, $4, $5)", [
        t.tenantId,
        t.userId,
        out.ocr.model,
        out.ocr.promptTokens,
        out.ocr.completionTokens,
      ]),
    );
  }
  if (chunks.length) {
    const params: unknown[] = [];
    const rows = chunks.map((chunk, i) => {
      const at = params.length;
      params.push(
        t.tenantId,
        t.userId,
        t.documentId,
        range.fromPage * ORDINAL_STRIDE + i,
        chunk.text,
        chunk.pageStart,
        chunk.pageEnd,
        chunk.tokenCount,
        pgvector.toSql(embedding.vectors[i]!),
        searchForm(chunk.text),
        SEARCH_FORM_VERSION,
      );
      const n = (k: number) => `$${at + k}`;
      return `(${n(1)}, ${n(2)}, ${n(3)}, ${n(4)}, ${n(5)}, ${n(6)}, ${n(7)}, ${n(8)}, ${n(9)}::vector, ${n(10)}, ${n(11)})`;
    });
    queries.push(
      sql.query(
        `insert into chunks (tenant_id, user_id, document_id, ordinal, text, page_start, page_end, token_count, embedding, search_text, search_version)
         values ${rows.join(", ")} on conflict (document_id, ordinal) do nothing`,
        params,
      ),
      sql.query("insert into usage_events (tenant_id, user_id, kind, model, embedding_tokens) values ($1, $2, 'embedding', $3, $4)", [
        t.tenantId,
        t.userId,
        embedding.model,
        embedding.tokens,
      ]),
    );
  }
  queries.push(
    // The range's warnings replace what an earlier pass over it said (a retry after the budget came back no
    // longer says ocr_budget), without duplicates, so a redelivered range cannot list a page twice.
    sql.query(
      `update documents set pages_done = greatest(pages_done, $3), ocr_pages = ocr_pages + $4,
         warnings = (select coalesce(jsonb_agg(distinct w order by w), '[]'::jsonb) from jsonb_array_elements(
           (select coalesce(jsonb_agg(o), '[]'::jsonb) from jsonb_array_elements(warnings) o where (o->>'page')::int not between $6 and $3)
           || $5::jsonb) w),
         updated_at = now()
       where tenant_id = $1 and id = $2`,
      [t.tenantId, t.documentId, range.toPage, out.ocr.pages, JSON.stringify(out.warnings), range.fromPage],
    ),
  );
  await sql.transaction(queries);
}

/** Last range done: ready with counts, or failed, with the cause, when no page had any text. */
export async function finalize(db: Db, t: IngestTarget): Promise<{ status: "ready" | "failed"; errorCode: FinalErrorCode | null }> {
  const sql = db.$client;
  // Counted once: the same figures decide the outcome and are stored on the document.
  const [doc] = await sql.query(
    `select d.warnings, s.n, s.tokens from documents d,
       (select count(*)::int as n, coalesce(sum(token_count), 0)::int as tokens from chunks where tenant_id = $1 and document_id = $2) s
     where d.tenant_id = $1 and d.id = $2`,
    [t.tenantId, t.documentId],
  );
  const counts = (doc ?? { n: 0, tokens: 0 }) as { n: number; tokens: number };
  const failure = counts.n === 0 ? emptyDocumentError((doc?.warnings ?? []) as PageWarning[]) : null;
  await sql.query(
    `update documents set status = $3, error_code = $4, error_message = $5, chunk_count = $6, token_count = $7,
       pages_done = pages_total, updated_at = now()
     where tenant_id = $1 and id = $2`,
    [t.tenantId, t.documentId, failure ? "failed" : "ready", failure?.code ?? null, failure?.message ?? null, counts.n, counts.tokens],
  );
  return { status: failure ? "failed" : "ready", errorCode: failure?.code ?? null };
}

export type FinalErrorCode = "no_text" | "invalid_pdf" | "ocr_unavailable" | "quota_exceeded";
/** Every error code a failed document can carry. */
export type FailureCode = PermanentErrorCode | FinalErrorCode | "ingest_failed" | "ingest_stalled";

/** Why a document that produced no text failed, from what its pages said. */
function emptyDocumentError(warnings: PageWarning[]): { code: FinalErrorCode; message: string } {
  const has = (code: PageWarning["code"]) => warnings.find((w) => w.code === code);
  const unavailable = has("ocr_unavailable");
  if (unavailable) return { code: "ocr_unavailable", message: `The pages are scanned images and OCR is not available (${unavailable.message})` };
  if (has("ocr_budget"))
    return { code: "quota_exceeded", message: "The pages are scanned images, and the daily token budget ran out before they could be OCRed" };
  if (warnings.length && warnings.every((w) => w.code === "page_unreadable"))
    return { code: "invalid_pdf", message: `No page could be read: ${warnings[0]!.message}` };
  const tooComplex = has("page_too_complex");
  if (tooComplex) return { code: "no_text", message: `No text could be extracted: ${tooComplex.message}` };
  if (has("ocr_off")) return { code: "no_text", message: "No text could be extracted: the pages are scanned images and OCR is off" };
  return {
    code: "no_text",
    message: `No text could be extracted: the PDF has no text layer and no page image DocuChat can read (images over ${MAX_IMAGE_PIXELS / 1_000_000} megapixels, such as pages scanned above about 320 dpi, are not decoded)`,
  };
}
