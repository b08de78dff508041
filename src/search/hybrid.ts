// Hybrid retrieval over the caller's ready documents: pgvector cosine similarity (HNSW) and PostgreSQL
// full-text search ('simple' configuration, which works for Persian), fused by reciprocal rank.
import pgvector from "pgvector";
import type { Db } from "../db/client.ts";
import { keywordTerms } from "./stopwords.ts";

export interface SearchHit {
  chunk_id: string;
  file_id: string;
  filename: string;
  page_start: number;
  page_end: number;
  score: number;
  text: string;
}

export interface SearchScope {
  tenantId: string;
  userId: string;
  fileIds?: string[];
}

/** RRF constant from the original paper: damps the influence of the very top ranks. */
const RRF_K = 60;

// $1 tenant, $2 user, $3 file ids or null, $4 query vector, $5 keyword terms (space-separated), $6 candidates
// per method, $7 top_k, $8 exact-scan threshold.
// Up to $8 visible chunks the vector ranking is an exact scan (tens of milliseconds, exact); above it the HNSW
// index answers, with iterative scans so the owner filter cannot starve it of rows. Exactly one of the two
// branches runs: each is gated by a one-time filter.
const SEARCH_SQL = `
with visible as (
  select id from documents
  where tenant_id = $1 and user_id = $2 and status = 'ready' and ($3::uuid[] is null or id = any($3::uuid[]))
),
small as (
  select count(*) <= $8 as yes from (
    select 1 from chunks c where c.tenant_id = $1 and c.user_id = $2 and c.document_id in (select id from visible)
    limit $8 + 1
  ) capped
),
nearest_exact as (
  -- "+ 0" keeps the planner off the index: this branch is the exact scan.
  select c.id, (c.embedding <=> $4::vector) + 0 as distance
  from chunks c
  where (select yes from small) and c.tenant_id = $1 and c.user_id = $2 and c.document_id in (select id from visible)
  order by 2
  limit $6
),
nearest_index as (
  select c.id, c.embedding <=> $4::vector as distance
  from chunks c
  where not (select yes from small) and c.tenant_id = $1 and c.user_id = $2 and c.document_id in (select id from visible)
  order by c.embedding <=> $4::vector
  limit $6
),
semantic as (
  select id, row_number() over (order by distance, id) as rnk
  from (select * from nearest_exact union all select * from nearest_index) nearest
),
keyword_query as (
  -- The database's own parser splits the query exactly as it split the documents; any word may match.
  select to_tsquery('simple', coalesce(array_to_string(array(
    select quote_literal(lexeme) from unnest(tsvector_to_array(to_tsvector('simple', $5))) lexeme
  ), ' | '), '')) as q
),
keyword as (
  select id, row_number() over (order by rank desc, id) as rnk from (
    -- Normalisation 1 divides by 1 + log(length): long chunks do not win by sheer size.
    select c.id, ts_rank_cd(c.tsv, kq.q, 1) as rank
    from chunks c, keyword_query kq
    where c.tenant_id = $1 and c.user_id = $2 and c.document_id in (select id from visible) and c.tsv @@ kq.q
    order by rank desc, c.id
    limit $6
  ) matches
),
fused as (
  select id, sum(1.0 / (${RRF_K} + rnk)) as score, min(rnk) filter (where method = 'semantic') as semantic_rank,
         min(rnk) filter (where method = 'keyword') as keyword_rank
  from (select id, rnk, 'semantic' as method from semantic union all select id, rnk, 'keyword' from keyword) ranked
  group by id
)
-- Reciprocal ranks tie often (1st + 2nd = 2nd + 1st): ties go to the closer vector, then the better keyword match.
select f.id as chunk_id, c.document_id as file_id, d.filename, c.page_start, c.page_end, f.score::float8 as score, c.text
from fused f
join chunks c on c.id = f.id
join documents d on d.tenant_id = c.tenant_id and d.id = c.document_id
order by f.score desc, f.semantic_rank nulls last, f.keyword_rank nulls last, f.id
limit $7`;

export interface SearchQuery {
  text: string;
  vector: number[];
  topK: number;
  exactScanMaxChunks: number;
}

export async function hybridSearch(db: Db, scope: SearchScope, query: SearchQuery): Promise<SearchHit[]> {
  const sql = db.$client;
  const candidates = Math.max(query.topK * 4, 40);
  const [, , rows] = await sql.transaction(
    [
      sql.query("set local hnsw.iterative_scan = relaxed_order"),
      // A wider beam than the default 40: better recall for a few milliseconds.
      sql.query("set local hnsw.ef_search = 100"),
      sql.query(SEARCH_SQL, [
        scope.tenantId,
        scope.userId,
        scope.fileIds?.length ? scope.fileIds : null,
        pgvector.toSql(query.vector),
        keywordTerms(query.text).join(" "),
        candidates,
        query.topK,
        query.exactScanMaxChunks,
      ]),
    ],
    { readOnly: true },
  );
  return (rows as SearchHit[]).map((r) => ({ ...r, score: Number(r.score) }));
}
