// Database writes of the ingestion. A page range is written in ONE transaction (chunks, their usage, progress, its
// place in documents.ranges_done), and chunk ordinals derive from the range, so a redelivered message can never
// duplicate or half-write chunks. Ranges run side by side: the one whose transaction completes ranges_done
// finalises the document (the row lock of that UPDATE orders concurrent ranges, so exactly one sees it complete).
import pgvector from "pgvector";
import type { Db } from "../db/client.ts";
import { MAX_IMAGE_PIXELS } from "../pdf/open.ts";
import { SEARCH_FORM_VERSION, searchForm } from "../search/keyword/search-form.ts";
import type { UsageStores } from "../usage/quota.ts";
import { recordUsageWith, type UsageEvent } from "../usage/record.ts";
import type { Chunk } from "./chunker.ts";
import type { PermanentErrorCode } from "./errors.ts";
import type { ExtractedPage, ExtractResult, PageWarning } from "./extract.ts";
import { PAGES_PER_MESSAGE } from "./messages.ts";

export interface IngestTarget {
  tenantId: string;
  userId: string;
  documentId: string;
}

/** Ordinals of a range start at fromPage * ORDINAL_STRIDE: stable across redeliveries, ordered by page. */
const ORDINAL_STRIDE = 100_000;

/** Characters of text the document's stored pages hold, against MAX_DOCUMENT_CHARS. */
export async function storedTextLength(db: Db, t: IngestTarget): Promise<number> {
  const [row] = await db.$client.query(
    "select coalesce(sum(length(text)), 0)::int as n from document_pages where tenant_id = $1 and document_id = $2",
    [t.tenantId, t.documentId],
  );
  return (row as { n: number }).n;
}

/**
 * Starts (or restarts) a queued ingestion: processing, with its page count, and the ranges already stored as they
 * are in the chunks (a stalled or budget-stopped ingestion keeps them; the column is only their summary). The ranges
 * stored, or null when the document was not queued (another delivery started it: only one queues its ranges).
 */
export async function startIngestion(db: Db, t: IngestTarget, pagesTotal: number): Promise<number[] | null> {
  const [row] = await db.$client.query(
    `with stored as (
       select coalesce(array_agg(distinct ordinal / $4 order by ordinal / $4), '{}')::int[] as starts
       from chunks where tenant_id = $1 and document_id = $2
     )
     update documents d set status = 'processing', pages_total = $3, ranges_done = s.starts,
       pages_done = (select coalesce(sum(least(r + $5 - 1, $3) - r + 1), 0)::int from unnest(s.starts) r),
       error_code = null, error_message = null, updated_at = now()
     from stored s
     where d.tenant_id = $1 and d.id = $2 and d.status = 'queued'
     returning d.ranges_done`,
    [t.tenantId, t.documentId, pagesTotal, ORDINAL_STRIDE, PAGES_PER_MESSAGE],
  );
  return row ? (row as { ranges_done: number[] }).ranges_done : null;
}

/** Puts a document startIngestion claimed back to queued when its ranges could not be queued: a retry claims it again. */
export async function unstartIngestion(db: Db, t: IngestTarget): Promise<void> {
  await db.$client.query("update documents set status = 'queued' where tenant_id = $1 and id = $2 and status = 'processing'", [
    t.tenantId,
    t.documentId,
  ]);
}

/** Keeps a long range (OCR takes seconds a page) from looking stalled to the sweeper, which goes by updated_at. */
export async function markAlive(db: Db, t: IngestTarget): Promise<void> {
  await db.$client.query("update documents set updated_at = now() where tenant_id = $1 and id = $2", [t.tenantId, t.documentId]);
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
       update documents set status = 'failed', error_code = $3, error_message = $4, chunk_count = 0, token_count = 0, ranges_done = '{}',
         updated_at = now()
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
 * Fails the document as `quota_exceeded` at a range its budget could not pay for, keeping the ranges stored (a retry
 * queues only the missing ones, so what was already embedded is not paid for twice). `message` gets what is kept
 * appended. Whether this ended the ingestion: ranges refused side by side stop it, and notify, once.
 */
export async function markBudgetStopped(db: Db, t: IngestTarget, message: string): Promise<boolean> {
  const rows = await db.$client.query(
    `update documents set status = 'failed', error_code = 'quota_exceeded', updated_at = now(),
       error_message = left($3 || ': ' || case when pages_done = 0 then 'nothing was stored' else format('%s of %s pages are stored', pages_done, pages_total) end
         || '. Retry the document (POST /v1/files/{id}/retry, or upload it again) once budget is available to read the rest', 1000)
     where tenant_id = $1 and id = $2 and status in ('queued', 'processing')
     returning id`,
    [t.tenantId, t.documentId, message],
  );
  return rows.length > 0;
}

export interface RangeOutput {
  pages: ExtractedPage[];
  warnings: PageWarning[];
  chunks: Chunk[];
  embedding: { vectors: number[][]; tokens: number; model: string };
  ocr: ExtractResult["ocr"];
}

/**
 * A range's pages and chunks are written only while its document is being ingested, or kept by a budget stop: a
 * range finishing after its document failed (a failed document keeps nothing) or was deleted writes none.
 */
const IN_FLIGHT = "(status in ('queued', 'processing') or error_code = 'quota_exceeded')";
const documentInFlight = `exists (select 1 from documents where tenant_id = $1 and id = $2 and ${IN_FLIGHT})`;

/** Stores a range and adds it to ranges_done. Whether the document now has every range: then it is to be finalised. */
export async function storeRange(
  stores: UsageStores,
  t: IngestTarget,
  range: { fromPage: number; toPage: number },
  out: RangeOutput,
): Promise<boolean> {
  const { chunks, embedding } = out;
  const sql = stores.db.$client;
  const usage: UsageEvent[] = [];
  // The document's row first: its lock orders this range after a concurrent failure, whose commit the
  // inserts' in-flight check then sees.
  const queries = [
    // The range's warnings replace what an earlier pass over it said (a retry after the budget came back no
    // longer says ocr_budget), without duplicates, so a redelivered range cannot list a page twice. Progress and
    // the OCR count grow only when the range is new to ranges_done (two deliveries of it may finish side by side).
    sql.query(
      `update documents set
         pages_done = pages_done + case when $6::int = any(ranges_done) then 0 else $3::int - $6::int + 1 end,
         ocr_pages = ocr_pages + case when $6::int = any(ranges_done) then 0 else $4::int end,
         ranges_done = case when $6::int = any(ranges_done) then ranges_done else ranges_done || $6::int end,
         warnings = (select coalesce(jsonb_agg(distinct w order by w), '[]'::jsonb) from jsonb_array_elements(
           (select coalesce(jsonb_agg(o), '[]'::jsonb) from jsonb_array_elements(warnings) o where (o->>'page')::int not between $6 and $3)
           || $5::jsonb) w),
         updated_at = now()
       where tenant_id = $1 and id = $2 and ${IN_FLIGHT}
       returning cardinality(ranges_done) >= ceil(pages_total / $7::numeric) as complete`,
      [t.tenantId, t.documentId, range.toPage, out.ocr.pages, JSON.stringify(out.warnings), range.fromPage, PAGES_PER_MESSAGE],
    ),
  ];
  if (out.pages.length) {
    const params: unknown[] = [t.tenantId, t.documentId];
    const rows = out.pages.map((p) => {
      params.push(p.page, p.text, p.source);
      return `($${params.length - 2}::int, $${params.length - 1}::text, $${params.length}::text)`;
    });
    queries.push(
      sql.query(
        `insert into document_pages (tenant_id, document_id, page, text, source)
         select $1, $2, v.* from (values ${rows.join(", ")}) v where ${documentInFlight} on conflict do nothing`,
        params,
      ),
    );
  }
  // OCR pages mean OCR ran, with its model.
  if (out.ocr.pages && out.ocr.model) {
    usage.push({
      tenantId: t.tenantId,
      userId: t.userId,
      kind: "ocr",
      model: out.ocr.model,
      promptTokens: out.ocr.promptTokens,
      completionTokens: out.ocr.completionTokens,
    });
  }
  if (chunks.length) {
    const params: unknown[] = [t.tenantId, t.documentId, t.userId, SEARCH_FORM_VERSION];
    const rows = chunks.map((chunk, i) => {
      const at = params.length;
      params.push(
        range.fromPage * ORDINAL_STRIDE + i,
        chunk.text,
        chunk.pageStart,
        chunk.pageEnd,
        chunk.tokenCount,
        pgvector.toSql(embedding.vectors[i]!),
        searchForm(chunk.text),
      );
      const n = (k: number) => `$${at + k}`;
      return `(${n(1)}::int, ${n(2)}::text, ${n(3)}::int, ${n(4)}::int, ${n(5)}::int, ${n(6)}::vector, ${n(7)}::text)`;
    });
    queries.push(
      sql.query(
        `insert into chunks (tenant_id, document_id, user_id, search_version, ordinal, text, page_start, page_end, token_count, embedding, search_text)
         select $1, $2, $3::uuid, $4::int, v.* from (values ${rows.join(", ")}) v where ${documentInFlight}
         on conflict (document_id, ordinal) do nothing`,
        params,
      ),
    );
    // The embedding was paid for whatever became of the document.
    usage.push({ tenantId: t.tenantId, userId: t.userId, kind: "embedding", model: embedding.model, embeddingTokens: embedding.tokens });
  }
  const results = (await recordUsageWith(stores, usage, (inserts) => sql.transaction([...queries, ...inserts]))) as Array<
    Array<{ complete?: boolean }>
  >;
  return results[0]?.[0]?.complete === true;
}

/**
 * Every range done: ready with counts, or failed, with the cause, when no page had any text. Null when another
 * delivery finalised it first (or it is no longer processing): the outcome is told once.
 */
export async function finalize(db: Db, t: IngestTarget): Promise<{ status: "ready" | "failed"; errorCode: FinalErrorCode | null } | null> {
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
  const finished = await sql.query(
    `update documents set status = $3, error_code = $4, error_message = $5, chunk_count = $6, token_count = $7,
       pages_done = pages_total, updated_at = now()
     where tenant_id = $1 and id = $2 and status = 'processing'
     returning id`,
    [t.tenantId, t.documentId, failure ? "failed" : "ready", failure?.code ?? null, failure?.message ?? null, counts.n, counts.tokens],
  );
  if (!finished.length) return null;
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
