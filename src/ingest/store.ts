// Database writes of the ingestion. A page range is written in ONE transaction (chunks, their usage, progress),
// and chunk ordinals derive from the range, so a redelivered message can never duplicate or half-write chunks.
import pgvector from "pgvector";
import type { Db } from "../db/client.ts";
import type { Chunk } from "./chunker.ts";
import type { PermanentErrorCode } from "./errors.ts";

export interface IngestTarget {
  tenantId: string;
  userId: string;
  documentId: string;
}

/** Ordinals of a range start at fromPage * ORDINAL_STRIDE: stable across redeliveries, ordered by page. */
const ORDINAL_STRIDE = 100_000;

export async function rangeAlreadyStored(db: Db, t: IngestTarget, fromPage: number): Promise<boolean> {
  const rows = await db.$client.query(
    "select 1 from chunks where tenant_id = $1 and document_id = $2 and ordinal >= $3 and ordinal < $4 limit 1",
    [t.tenantId, t.documentId, fromPage * ORDINAL_STRIDE, (fromPage + 1) * ORDINAL_STRIDE],
  );
  return rows.length > 0;
}

export async function markProcessing(db: Db, t: IngestTarget, pagesTotal: number): Promise<void> {
  await db.$client.query(
    `update documents set status = 'processing', pages_total = $3, error_code = null, error_message = null, updated_at = now()
     where tenant_id = $1 and id = $2 and status in ('queued', 'processing', 'failed')`,
    [t.tenantId, t.documentId, pagesTotal],
  );
}

export async function markProgress(db: Db, t: IngestTarget, pagesDone: number): Promise<void> {
  await db.$client.query(
    "update documents set pages_done = greatest(pages_done, $3), updated_at = now() where tenant_id = $1 and id = $2",
    [t.tenantId, t.documentId, pagesDone],
  );
}

export async function markFailed(db: Db, t: IngestTarget, code: PermanentErrorCode | "ingest_failed", message: string): Promise<void> {
  await db.$client.query(
    `update documents set status = 'failed', error_code = $3, error_message = $4, updated_at = now()
     where tenant_id = $1 and id = $2 and status <> 'ready'`,
    [t.tenantId, t.documentId, code, message.slice(0, 1000)],
  );
}

export async function storeRange(
  db: Db,
  t: IngestTarget,
  range: { fromPage: number; toPage: number },
  chunks: Chunk[],
  embedding: { vectors: number[][]; tokens: number; model: string },
): Promise<void> {
  const sql = db.$client;
  const queries = [];
  if (chunks.length) {
    const params: unknown[] = [];
    const rows = chunks.map((chunk, i) => {
      const at = params.length;
      params.push(t.tenantId, t.userId, t.documentId, range.fromPage * ORDINAL_STRIDE + i, chunk.text, chunk.pageStart, chunk.pageEnd, chunk.tokenCount, pgvector.toSql(embedding.vectors[i]!));
      return `($${at + 1}, $${at + 2}, $${at + 3}, $${at + 4}, $${at + 5}, $${at + 6}, $${at + 7}, $${at + 8}, $${at + 9}::vector)`;
    });
    queries.push(
      sql.query(
        `insert into chunks (tenant_id, user_id, document_id, ordinal, text, page_start, page_end, token_count, embedding)
         values ${rows.join(", ")} on conflict (document_id, ordinal) do nothing`,
        params,
      ),
      sql.query(
        "insert into usage_events (tenant_id, user_id, kind, model, embedding_tokens) values ($1, $2, 'embedding', $3, $4)",
        [t.tenantId, t.userId, embedding.model, embedding.tokens],
      ),
    );
  }
  queries.push(
    sql.query("update documents set pages_done = greatest(pages_done, $3), updated_at = now() where tenant_id = $1 and id = $2", [
      t.tenantId,
      t.documentId,
      range.toPage,
    ]),
  );
  await sql.transaction(queries);
}

/** Last range done: ready with counts, or failed when no page had any text. */
export async function finalize(db: Db, t: IngestTarget): Promise<"ready" | "failed"> {
  const [row] = await db.$client.query(
    `update documents d set
       status = case when s.n = 0 then 'failed' else 'ready' end,
       error_code = case when s.n = 0 then 'no_text' end,
       error_message = case when s.n = 0 then 'No text could be extracted: the PDF seems to contain only images (scanned pages are not supported)' end,
       chunk_count = s.n, token_count = s.tokens, pages_done = d.pages_total, updated_at = now()
     from (select count(*)::int as n, coalesce(sum(token_count), 0)::int as tokens from chunks where tenant_id = $1 and document_id = $2) s
     where d.tenant_id = $1 and d.id = $2
     returning d.status`,
    [t.tenantId, t.documentId],
  );
  return (row?.status ?? "failed") as "ready" | "failed";
}
