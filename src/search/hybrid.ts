// Hybrid retrieval over the ready documents the caller may read (src/documents/access.ts): pgvector cosine similarity (HNSW) and
// BM25 over the stemmed search form of chunks (src/search/keyword/), fused by their relative scores.
import type { NeonQueryPromise } from "@neondatabase/serverless";
import pgvector from "pgvector";
import type { Db } from "../db/client.ts";
import { type Reader, readableDocumentsSql, seesAllCollections } from "../documents/access.ts";
import { keywordQuery } from "./keyword/search-form.ts";

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

// Fusion: each ranking's scores are min-max normalised over its own candidates (best 1, last 0; a lone candidate
// 1), and a chunk scores SEMANTIC_WEIGHT × its vector score + the rest × its keyword score (0 where a ranking did not
// return it). Reciprocal-rank fusion (k = 60) knows only ranks: over 40-candidate lists a chunk in 30th place in both
// (2/90) beat the first of one (1/61), so a clear top match of either method could drop out of the top 10 (measured
// by npm run bench:quality: hit@5 0.83 / 0.83 English / Persian with RRF, 0.87 / 0.89 with this). The two halves
// weigh the same: the local stand-in embeds lexically, so it cannot tell how much a real embedding deserves.
const SEMANTIC_WEIGHT = 0.5;
/**
 * Candidates per method, the same whatever top_k or the rerank asks for (both at most 50): the normalisation's lowest
 * point is the last candidate, so a pool that grew with top_k would reorder the same query's results.
 */
const FUSION_CANDIDATES = 50;

// Keyword candidates: up to this many chunks holding every query term (of at most MAX_KEYWORD_TERMS), and up to half
// as many per term, so a rare word's chunks are candidates however common the others are; at most
// 200 + terms × 100 are ranked, whatever the library's size. The per-term half is an arbitrary sample once a term is
// common, and ranking each candidate reads its tsvector: 100 instead of 200 per term cut the keyword half's p50 by a
// quarter at 100,000 chunks (bench:search's library).
const KEYWORD_CANDIDATES_ALL_TERMS = 200;
const KEYWORD_CANDIDATES_PER_TERM = 100;
// Document frequencies are counted up to this many chunks (see keyword_df).
const DOCUMENT_FREQUENCY_CAP = 1000;

// The HNSW branch's settings: iterative scans, so the visibility filter cannot starve the index of rows, and a beam of
// SEARCH_HNSW_EF_SEARCH (default 400) instead of pgvector's 40. Measured by npm run bench:search (PGlite, pgvector 0.8, stand-in embeddings of
// fixture text, 10,000 visible chunks of 20,000): recall@10 against the exact scan 0.71 / 0.81 / 0.94 / 0.995 at
// ef_search 40 / 100 / 200 / 400, for 10.5 / 12.5 / 14.2 / 16.9 ms; the exact scan took 154 ms. At 100,000 chunks
// recall falls to 0.41 / 0.51 / 0.80 at 40 / 100 / 400 (10.5 ms at 400; exact scan 950 ms): short of 0.95 there.
const hnswSettings = (efSearch: number) => ["set local hnsw.iterative_scan = relaxed_order", `set local hnsw.ef_search = ${Math.trunc(efSearch)}`];

// $1 tenant, $2 user, $3 file ids or null, $4 query vector, $5 the query's search form, $6 candidates per method,
// $7 top_k, $8 exact-scan threshold, $9 whether the reader sees every collection, $10 an API key's collection
// restriction or null, $11 collection ids or null, $12 tags or null, $13 the query's words as typed, $14 quoted
// phrases or null, $15 mode ('hybrid', 'semantic' or 'keyword': a mode that leaves a method out gates it off), $16 the
// vector score's weight in the fusion (1 for semantic alone, 0 for keyword alone), $17 keyword candidates holding every
// term, $18 the cap of a document frequency count, $19 keyword candidates per term.
// Up to $8 visible chunks (the sum of the visible documents' chunk_count) the vector ranking is an exact scan (tens of
// milliseconds, exact); above it the HNSW index answers, with iterative scans so the visibility filter cannot starve
// it of rows. Exactly one of the two branches runs: each is gated by a one-time filter.
//
// Keyword ranking is Okapi BM25 (k1 = 1.2, b = 0.75, the usual defaults), with Lucene's idf ln(1 + (N - df + 0.5) /
// (df + 0.5)), which never goes negative. It replaces ts_rank_cd, which has no idf: a word in every chunk weighed as
// much as the question's one rare word, and saturation (k1) keeps a word repeated ten times from outweighing it. N and the average length come from the
// visible documents' chunk_count and token_count (no scan); a chunk's length is its token_count; tf is the number
// of positions of a query lexeme in the chunk's tsvector; df is a capped count of the visible chunks holding the
// lexeme, so rarity is measured in what this reader can see. Only a bounded set of candidates is ranked: ranking every
// chunk holding any query word took 1.1 s at 100,000 chunks (55,000 matches).
const SEARCH_SQL = `
with visible as (
  select d.id, d.chunk_count, d.token_count from documents d
  where ${readableDocumentsSql("$9::boolean", "$10")} and d.status = 'ready'
    and (($3::uuid[] is null and $11::uuid[] is null) or d.id = any($3::uuid[]) or d.collection_id = any($11::uuid[]))
    and ($12::text[] is null or d.tags && $12::text[])
),
small as (
  -- Ingestion stores chunk_count on a document as it becomes ready (src/ingest/store.ts finalize): no chunk is counted here.
  select coalesce(sum(chunk_count), 0) <= $8 as yes from visible
),
nearest_exact as (
  -- "+ 0" keeps the planner off the index: this branch is the exact scan.
  select c.id, (c.embedding <=> $4::vector) + 0 as distance
  from chunks c
  where $15 <> 'keyword' and (select yes from small) and c.tenant_id = $1 and c.document_id in (select id from visible)
  order by 2
  limit $6
),
nearest_index as (
  select c.id, c.embedding <=> $4::vector as distance
  from chunks c
  where $15 <> 'keyword' and not (select yes from small) and c.tenant_id = $1 and c.document_id in (select id from visible)
  order by c.embedding <=> $4::vector
  limit $6
),
semantic as (
  select id, row_number() over (order by distance, id) as rnk,
         coalesce((max(distance) over () - distance) / nullif(max(distance) over () - min(distance) over (), 0), 1) as norm
  from (select * from nearest_exact union all select * from nearest_index) nearest
),
keyword_terms as (
  -- The database's own parsers split the query exactly as they split the chunks.
  select array(select unnest(tsvector_to_array(to_tsvector('english', $5)))) as stemmed,
         array(select unnest(tsvector_to_array(to_tsvector('simple', $13)))) as exact
),
keyword_query as (
  select kt.*,
         to_tsquery('simple', coalesce(array_to_string(array(select quote_literal(l) from unnest(kt.stemmed) l), ' & '), '')) as all_terms_q,
         (select string_agg('(' || phraseto_tsquery('simple', p)::text || ')', ' & ')::tsquery from unnest($14::text[]) p
          where numnode(phraseto_tsquery('simple', p)) > 0) as phrases_q
  from keyword_terms kt
),
unbackfilled as (
  -- Chunks not yet given a search form (src/search/keyword/backfill.ts) are matched on their exact words meanwhile; once
  -- none is left among the visible ones (found through chunks_search_version_idx), the exact-word lookups do not run.
  select exists (
    select 1 from chunks c where c.search_version is null and c.tenant_id = $1 and c.document_id in (select id from visible)
  ) as yes
),
keyword_lexemes as (
  -- exact: a query word as typed, looked up in the 'simple' column of chunks without a search form.
  select l as lexeme, false as exact, to_tsquery('simple', quote_literal(l)) as q from keyword_terms, unnest(stemmed) l
  union all
  select l, true, to_tsquery('simple', quote_literal(l)) from keyword_terms, unnest(exact) l where (select yes from unbackfilled)
),
keyword_lookups as materialized (
  -- One GIN lookup per lexeme, for two uses: up to $18 of the visible chunks holding it are found, their number is its
  -- document frequency and the first $19 of them are its candidates (two lookups each cost 1.3–1.5× this one at
  -- 100,000 chunks). df is counted among all visible chunks (not only the candidates), but only up to $18: a word in
  -- more chunks than that is common, and its idf is that of $18 chunks. Exact below $18 (a library of up to $18 chunks
  -- ranks as with a full count), bounded work above it, and a rare word still outweighs every common one; a
  -- precomputed df per tenant would need upkeep on every ingestion and deletion for what only the common words change.
  -- Materialized: looked up once per lexeme, not once per candidate that joins it.
  select l.lexeme, l.exact, array(
    select c.id from chunks c
    where c.tenant_id = $1 and c.document_id in (select id from visible) and c.search_tsv @@ l.q
    limit $18
  ) as ids
  from keyword_lexemes l
  where not l.exact and $15 <> 'semantic'
  union all
  select l.lexeme, l.exact, array(
    select c.id from chunks c
    where c.tenant_id = $1 and c.document_id in (select id from visible) and c.search_version is null and c.tsv @@ l.q
    limit $18
  )
  from keyword_lexemes l
  where l.exact and $15 <> 'semantic'
),
keyword_candidates as (
  -- Bounded work whatever the query: at most $17 chunks holding every term, and at most $19 per term, so a rare
  -- word's chunks are all candidates however many chunks hold the common ones. Only these are ranked.
  select distinct id from (
    (select c.id from chunks c, keyword_query kq
     where $15 <> 'semantic' and c.tenant_id = $1 and c.document_id in (select id from visible)
       and c.search_tsv @@ kq.all_terms_q and (kq.phrases_q is null or c.tsv @@ kq.phrases_q)
     limit $17)
    union all
    select unnest(ids[1:$19]) from keyword_lookups
  ) found
),
keyword_tf as (
  -- setweight marks the query's lexemes and ts_filter keeps only them: the chunk's other words are never unnested.
  -- A term's candidates that lack the query's quoted phrases are dropped here.
  select c.id, c.token_count, t.lexeme, c.search_tsv is null as exact, cardinality(t.positions) as tf
  from keyword_candidates k
  join chunks c on c.tenant_id = $1 and c.id = k.id
  cross join keyword_terms kt
  cross join keyword_query kq
  cross join unnest(ts_filter(setweight(coalesce(c.search_tsv, c.tsv), 'A', case when c.search_tsv is null then kt.exact else kt.stemmed end), '{a}')) t
  where kq.phrases_q is null or c.tsv @@ kq.phrases_q
),
keyword_df as (
  select lexeme, exact, cardinality(ids) as df from keyword_lookups
),
corpus as (
  select greatest(sum(chunk_count), 1)::float8 as n, greatest(sum(token_count)::float8 / greatest(sum(chunk_count), 1), 1) as avgdl
  from visible
),
keyword as (
  select id, row_number() over (order by rank desc, id) as rnk,
         coalesce((rank - min(rank) over ()) / nullif(max(rank) over () - min(rank) over (), 0), 1) as norm from (
    select tf.id, sum(
             ln(1 + (greatest(co.n - df.df, 0) + 0.5) / (df.df + 0.5)) * tf.tf * (1.2 + 1)
             / (tf.tf + 1.2 * (1 - 0.75 + 0.75 * tf.token_count / co.avgdl))
           ) as rank
    from keyword_tf tf join keyword_df df using (lexeme, exact) cross join corpus co
    group by tf.id
    order by rank desc, tf.id
    limit $6
  ) ranked
),
fused as (
  select id, sum(norm * case when method = 'semantic' then $16::float8 else 1 - $16::float8 end) as score,
         min(rnk) filter (where method = 'semantic') as semantic_rank,
         min(rnk) filter (where method = 'keyword') as keyword_rank
  from (select id, rnk, norm, 'semantic' as method from semantic union all select id, rnk, norm, 'keyword' from keyword) ranked
  group by id
)
-- Ties (1st + 2nd = 2nd + 1st) go to the closer vector, then the better keyword match.
select f.id as chunk_id, c.document_id as file_id, d.filename, c.page_start, c.page_end, f.score::float8 as score, c.text,
       d.collection_id, col.name as collection_name, d.tags, d.metadata
from fused f
join chunks c on c.id = f.id
join documents d on d.tenant_id = c.tenant_id and d.id = c.document_id
left join collections col on col.tenant_id = d.tenant_id and col.id = d.collection_id
order by f.score desc, f.semantic_rank nulls last, f.keyword_rank nulls last, f.id
limit $7`;

/** hybrid: both methods fused; semantic or keyword: that method alone (to measure each half). */
export type SearchMode = "hybrid" | "semantic" | "keyword";

export interface SearchQuery {
  /** Normalised (src/text/normalize.ts); quoted phrases must appear word for word in a keyword match. */
  text: string;
  vector: number[];
  topK: number;
  exactScanMaxChunks: number;
  /** hnsw.ef_search of the index path (SEARCH_HNSW_EF_SEARCH). */
  efSearch: number;
  /** Which rankings to use: both fused (default), the vector ranking alone, or the keyword ranking alone. */
  mode?: "hybrid" | "semantic" | "keyword";
}

type Row = Omit<SearchHit, "collection"> & { collection_id: string | null; collection_name: string | null };

/** A statement of the Neon HTTP driver, as `db.$client.query(...)` makes it. */
export type Statement = NeonQueryPromise<false, false>;

/** The search as SQL: session settings to run first in the same transaction, then the statement. */
export interface SearchStatement {
  settings: string[];
  text: string;
  params: unknown[];
}

/** The search for any client (the Worker's Neon driver, or pg in bench/search.ts): what hybridSearch runs. */
export function searchStatement(scope: SearchScope, query: SearchQuery): SearchStatement {
  const keyword = keywordQuery(query.text);
  const mode = query.mode ?? "hybrid";
  return {
    settings: hnswSettings(query.efSearch),
    text: SEARCH_SQL,
    params: [
      scope.reader.tenantId,
      scope.reader.id,
      scope.fileIds?.length ? scope.fileIds : null,
      pgvector.toSql(query.vector),
      keyword.stemmed,
      FUSION_CANDIDATES,
      query.topK,
      query.exactScanMaxChunks,
      seesAllCollections(scope.reader),
      scope.reader.apiKey?.collectionIds ?? null,
      scope.collectionIds?.length ? scope.collectionIds : null,
      scope.tags?.length ? scope.tags : null,
      keyword.exact,
      keyword.phrases.length ? keyword.phrases : null,
      mode,
      { hybrid: SEMANTIC_WEIGHT, semantic: 1, keyword: 0 }[mode],
      KEYWORD_CANDIDATES_ALL_TERMS,
      DOCUMENT_FREQUENCY_CAP,
      KEYWORD_CANDIDATES_PER_TERM,
    ],
  };
}

/**
 * The search in one HTTP round trip. `alongside` are written in the same transaction, before the search (e.g. the
 * usage of the query's embedding): one round trip instead of two.
 */
export async function hybridSearch(db: Db, scope: SearchScope, query: SearchQuery, alongside: Statement[] = []): Promise<SearchHit[]> {
  const sql = db.$client;
  const statement = searchStatement(scope, query);
  const results = await sql.transaction([...alongside, ...statement.settings.map((s) => sql.query(s)), sql.query(statement.text, statement.params)], {
    readOnly: alongside.length === 0,
  });
  return (results.at(-1) as Row[]).map(({ collection_id, collection_name, ...r }) => ({
    ...r,
    score: Number(r.score),
    collection: collection_id ? { id: collection_id, name: collection_name! } : null,
  }));
}
