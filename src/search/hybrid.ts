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

// $1 tenant, $2 user, $3 file ids or null, $4 query vector, $5 the query's search form, $6 candidates per method,
// $7 top_k, $8 exact-scan threshold, $9 whether the reader sees every collection, $10 an API key's collection
// restriction or null, $11 collection ids or null, $12 tags or null, $13 the query's words as typed, $14 quoted
// phrases or null, $15 mode ('hybrid', 'semantic' or 'keyword': a mode that leaves a method out gates it off), $16 the
// vector score's weight in the fusion (1 for semantic alone, 0 for keyword alone).
// Up to $8 visible chunks the vector ranking is an exact scan (tens of milliseconds, exact); above it the HNSW
// index answers, with iterative scans so the visibility filter cannot starve it of rows. Exactly one of the two
// branches runs: each is gated by a one-time filter.
//
// Keyword ranking is Okapi BM25 (k1 = 1.2, b = 0.75, the usual defaults), with Lucene's idf ln(1 + (N - df + 0.5) /
// (df + 0.5)), which never goes negative. It replaces ts_rank_cd, which has no idf: a word in every chunk weighed as
// much as the question's one rare word, and saturation (k1) keeps a word repeated ten times from outweighing it. N and the average length come from the
// visible documents' chunk_count and token_count (no scan); a chunk's length is its token_count; tf is the number
// of positions of a query lexeme in the chunk's tsvector; df is counted among the matching visible chunks (every
// chunk holding a term matches, as terms are OR-ed), so rarity is measured in what this reader can see.
const SEARCH_SQL = `
with visible as (
  select d.id, d.chunk_count, d.token_count from documents d
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
         to_tsquery('simple', coalesce(array_to_string(array(select quote_literal(l) from unnest(kt.stemmed) l), ' | '), '')) as stemmed_q,
         to_tsquery('simple', coalesce(array_to_string(array(select quote_literal(l) from unnest(kt.exact) l), ' | '), '')) as exact_q,
         (select string_agg('(' || phraseto_tsquery('simple', p)::text || ')', ' & ')::tsquery from unnest($14::text[]) p
          where numnode(phraseto_tsquery('simple', p)) > 0) as phrases_q
  from keyword_terms kt
),
keyword_matches as (
  -- A chunk not yet given a search form (src/search/keyword/backfill.ts) is matched on its exact words meanwhile.
  select c.id, c.token_count, coalesce(c.search_tsv, c.tsv) as tsv, case when c.search_tsv is null then kq.exact else kq.stemmed end as terms
  from chunks c, keyword_query kq
  where $15 <> 'semantic' and c.tenant_id = $1 and c.document_id in (select id from visible)
    and (c.search_tsv @@ kq.stemmed_q or (c.search_tsv is null and c.tsv @@ kq.exact_q))
    and (kq.phrases_q is null or c.tsv @@ kq.phrases_q)
),
keyword_tf as (
  -- setweight marks the query's lexemes and ts_filter keeps only them: the chunk's other words are never unnested.
  select m.id, m.token_count, t.lexeme, cardinality(t.positions) as tf
  from keyword_matches m, unnest(ts_filter(setweight(m.tsv, 'A', m.terms), '{a}')) t
),
keyword_df as (select lexeme, count(*) as df from keyword_tf group by lexeme),
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
    from keyword_tf tf join keyword_df df using (lexeme) cross join corpus co
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
  /** Which rankings to use: both fused (default), the vector ranking alone, or the keyword ranking alone. */
  mode?: "hybrid" | "semantic" | "keyword";
}

type Row = Omit<SearchHit, "collection"> & { collection_id: string | null; collection_name: string | null };

/** A statement of the Neon HTTP driver, as `db.$client.query(...)` makes it. */
export type Statement = NeonQueryPromise<false, false>;

/**
 * The search in one HTTP round trip. `alongside` are written in the same transaction, before the search (e.g. the
 * usage of the query's embedding): one round trip instead of two.
 */
export async function hybridSearch(db: Db, scope: SearchScope, query: SearchQuery, alongside: Statement[] = []): Promise<SearchHit[]> {
  const sql = db.$client;
  const candidates = Math.max(query.topK * 4, 40);
  const keyword = keywordQuery(query.text);
  const mode = query.mode ?? "hybrid";
  const results = await sql.transaction(
    [
      ...alongside,
      sql.query("set local hnsw.iterative_scan = relaxed_order"),
      // A wider beam than the default 40: better recall for a few milliseconds.
      sql.query("set local hnsw.ef_search = 100"),
      sql.query(SEARCH_SQL, [
        scope.reader.tenantId,
        scope.reader.id,
        scope.fileIds?.length ? scope.fileIds : null,
        pgvector.toSql(query.vector),
        keyword.stemmed,
        candidates,
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
      ]),
    ],
    { readOnly: alongside.length === 0 },
  );
  return (results.at(-1) as Row[]).map(({ collection_id, collection_name, ...r }) => ({
    ...r,
    score: Number(r.score),
    collection: collection_id ? { id: collection_id, name: collection_name! } : null,
  }));
}
