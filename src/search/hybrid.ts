// Hybrid retrieval over the ready documents the caller may read (src/documents/access.ts): pgvector cosine similarity (HNSW) and PostgreSQL
// full-text search ('simple' configuration, which works for Persian), fused by reciprocal rank.
import pgvector from "pgvector";
import type { Db } from "../db/client.ts";
import { type Reader, readableDocumentsSql, seesAllCollections } from "../documents/access.ts";
import { keywordTerms } from "./stopwords.ts";

export interface SearchHit {
  chunk_id: string;
  file_id: string;
  filename: string;
  page_start: number;
  page_end: number;
  score: number;
  text: string;
  collection: { id: string; name: string } | null;
  tags: string[];
  metadata: Record<string, string>;
}

export interface SearchScope {
  reader: Reader;
  /** Only these documents and the documents of these collections (either or both); all readable ones without. */
  fileIds?: string[];
  collectionIds?: string[];
  /** Only documents carrying at least one of these tags. */
  tags?: string[];
}

/** RRF constant from the original paper: damps the influence of the very top ranks. */
const RRF_K = 60;

// $1 tenant, $2 user, $3 file ids or null, $4 query vector, $5 keyword terms (space-separated), $6 candidates
// per method, $7 top_k, $8 exact-scan threshold, $9 whether the reader sees every collection, $10 an API key's
// collection restriction or null, $11 collection ids or null, $12 tags or null.
// Up to $8 visible chunks the vector ranking is an exact scan (tens of milliseconds, exact); above it the HNSW
// index answers, with iterative scans so the visibility filter cannot starve it of rows. Exactly one of the two
// branches runs: each is gated by a one-time filter.
const SEARCH_SQL = `
with visible as (
  select d.id from documents d
  where ${readableDocumentsSql("$9::boolean", "$10")} and d.status = 'ready'
    and (($3::uuid[] is null and $11::uuid[] is null) or d.id = any($3::uuid[]) or d.collection_id = any($11::uuid[]))
    and ($12::text[] is null or d.tags && $12::text[])
),
small as (
  select count(*) <= $8 as yes from (
    select 1 from chunks c where c.tenant_id = $1 and c.document_id in (select id from visible)
    limit $8 + 1
  ) capped
),
nearest_exact as (
  -- "+ 0" keeps the planner off the index: this branch is the exact scan.
  select c.id, (c.embedding <=> $4::vector) + 0 as distance
  from chunks c
  where (select yes from small) and c.tenant_id = $1 and c.document_id in (select id from visible)
  order by 2
  limit $6
),
nearest_index as (
  select c.id, c.embedding <=> $4::vector as distance
  from chunks c
  where not (select yes from small) and c.tenant_id = $1 and c.document_id in (select id from visible)
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
    where c.tenant_id = $1 and c.document_id in (select id from visible) and c.tsv @@ kq.q
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
select f.id as chunk_id, c.document_id as file_id, d.filename, c.page_start, c.page_end, f.score::float8 as score, c.text,
       d.collection_id, col.name as collection_name, d.tags, d.metadata
from fused f
join chunks c on c.id = f.id
join documents d on d.tenant_id = c.tenant_id and d.id = c.document_id
left join collections col on col.tenant_id = d.tenant_id and col.id = d.collection_id
order by f.score desc, f.semantic_rank nulls last, f.keyword_rank nulls last, f.id
limit $7`;

export interface SearchQuery {
  text: string;
  vector: number[];
  topK: number;
  exactScanMaxChunks: number;
}

type Row = Omit<SearchHit, "collection"> & { collection_id: string | null; collection_name: string | null };

export async function hybridSearch(db: Db, scope: SearchScope, query: SearchQuery): Promise<SearchHit[]> {
  const sql = db.$client;
  const candidates = Math.max(query.topK * 4, 40);
  const [, , rows] = await sql.transaction(
    [
      sql.query("set local hnsw.iterative_scan = relaxed_order"),
      // A wider beam than the default 40: better recall for a few milliseconds.
      sql.query("set local hnsw.ef_search = 100"),
      sql.query(SEARCH_SQL, [
        scope.reader.tenantId,
        scope.reader.id,
        scope.fileIds?.length ? scope.fileIds : null,
        pgvector.toSql(query.vector),
        keywordTerms(query.text).join(" "),
        candidates,
        query.topK,
        query.exactScanMaxChunks,
        seesAllCollections(scope.reader),
        scope.reader.apiKey?.collectionIds ?? null,
        scope.collectionIds?.length ? scope.collectionIds : null,
        scope.tags?.length ? scope.tags : null,
      ]),
    ],
    { readOnly: true },
  );
  return (rows as Row[]).map(({ collection_id, collection_name, ...r }) => ({
    ...r,
    score: Number(r.score),
    collection: collection_id ? { id: collection_id, name: collection_name! } : null,
  }));
}
