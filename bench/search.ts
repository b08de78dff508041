// npm run bench:search — how search cost grows with the library. Two synthetic libraries grow side by side in one
// database: a user's private documents (tenant bench-user) and a tenant-wide collection (tenant bench-org), each the
// other's "other tenants' data". Chunks are inserted with SQL, as ingestion stores them: the stand-in's own
// embedding (dev/openai/embeddings.ts) of normalised text made of shuffled sentences from the fixture PDFs, their
// search form, token counts, and documents rows (ready, chunk_count, token_count) of 400 chunks each.
// At each size it prints p50/p95 of POST /v1/search through the API, p50 of the search SQL alone (default path, exact
// path, HNSW path) and its p95, the SQL of one pasted 2,000-character query, and recall@10 of the HNSW path against an
// exact scan (semantic mode, the vector ranking alone).
// SEARCH_BENCH_SIZES (default 300,10000,100000) chunks per library; SEARCH_BENCH_QUERIES (default 30) queries;
// SEARCH_BENCH_LIBRARIES (default user,collection) which libraries;
// SEARCH_BENCH_BEFORE=<git revision>: the SQL alone of that revision's src/search/hybrid.ts as well, for comparison.
// DATABASE_URL: a Postgres with pgvector behind the Neon stand-in instead of PGlite. Table on stderr, JSON on stdout.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import pg from "pg";
import pgvector from "pgvector";
import { embed } from "../dev/openai/embeddings.ts";
import { createTenant, ensureOwner, PROJECT_ROOT } from "../scripts/lib/db.ts";
import { readableDocumentsSql } from "../src/documents/access.ts";
import { countTokens } from "../src/ingest/chunker.ts";
import { type SearchQuery, type SearchScope, searchStatement } from "../src/search/hybrid.ts";
import { SEARCH_FORM_VERSION, searchForm } from "../src/search/keyword/search-form.ts";
import { keywordTerms } from "../src/search/stopwords.ts";
import { normalizeQuery, normalizeText } from "../src/text/normalize.ts";
import { loginAs, median, percentile, round, withLocalApi } from "./lib.ts";

const SIZES = (process.env.SEARCH_BENCH_SIZES ?? "300,10000,100000").split(",").map(Number);
const QUERIES = Number(process.env.SEARCH_BENCH_QUERIES ?? 30);
const BEFORE = process.env.SEARCH_BENCH_BEFORE;
/** Which libraries to build: user, collection or both (a 100k load takes PGlite about 12 minutes per library). */
const LIBRARIES = (process.env.SEARCH_BENCH_LIBRARIES ?? "user,collection").split(",");
/**
 * SEARCH_BENCH_TENANT_INDEXES=1: each library's tenant also gets its own partial HNSW index (docs/operations.md, "How
 * cost grows"), which the planner prefers for that tenant's searches: a graph of its chunks alone.
 */
const TENANT_INDEXES = process.env.SEARCH_BENCH_TENANT_INDEXES === "1";
/** hnsw.ef_search values whose recall and time are measured beside the one the Worker sets. */
const EF_SEARCH = (process.env.SEARCH_BENCH_EF_SEARCH ?? "40,100,200,400").split(",").map(Number);
const CHUNKS_PER_DOCUMENT = 400;
const INSERT_BATCH = 200;
const EXACT_SCAN_MAX_CHUNKS = 2_000; // wrangler.toml's SEARCH_EXACT_SCAN_MAX_CHUNKS
const WORKER_EF_SEARCH = 400; // wrangler.toml's SEARCH_HNSW_EF_SEARCH

// A seeded generator: the same libraries and queries on every run.
let seed = 13;
const random = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x80000000;
};
const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]!;

function fixtureSentences(): string[] {
  const dir = `${PROJECT_ROOT}test/fixtures/pdf/`;
  const sentences = new Set<string>();
  for (const name of readdirSync(dir).filter((f) => f.endsWith(".pdf") && !f.includes("scan"))) {
    const text = execFileSync("pdftotext", ["-enc", "UTF-8", `${dir}${name}`, "-"], { encoding: "utf8", maxBuffer: 64 << 20 });
    for (const s of normalizeText(text).split(/(?<=[.!?؟])\s+|\n\s*\n/)) {
      const sentence = s.replace(/\s+/g, " ").trim();
      if (sentence.split(" ").length >= 4) sentences.add(sentence);
    }
  }
  return [...sentences];
}

const SENTENCES = fixtureSentences();
// Tokenizing every chunk would take most of the load (5 ms each): a chunk's count is the sum of its sentences'
// (cl100k_base may merge across a joining space: a token or so off, which BM25's length normalisation cannot notice).
const SENTENCE_TOKENS = new Map<string, number>();
const tokensOf = (sentence: string) => SENTENCE_TOKENS.get(sentence) ?? SENTENCE_TOKENS.set(sentence, countTokens(sentence)).get(sentence)!;

/** About a real chunk's length (ingestion's are up to 400 tokens): 6 to 14 random sentences, and its token count. */
function chunkText(): { text: string; tokens: number } {
  const sentences = Array.from({ length: 6 + Math.floor(random() * 9) }, () => pick(SENTENCES));
  return { text: sentences.join(" "), tokens: sentences.reduce((n, s) => n + tokensOf(s), 0) };
}
/** A pasted paragraph: the longest query the API takes (2,000 characters) of consecutive sentences. */
function pastedText(): string {
  let text = "";
  for (let i = Math.floor(random() * SENTENCES.length); text.length < 2_000; i = (i + 1) % SENTENCES.length) text += `${SENTENCES[i]} `;
  return text.slice(0, 2_000).trim();
}
/** A few consecutive words of a sentence, as someone would type them. */
function queryText(): string {
  const words = pick(SENTENCES).split(" ");
  const n = 2 + Math.floor(random() * 4);
  const from = Math.floor(random() * Math.max(1, words.length - n));
  return words.slice(from, from + n).join(" ");
}

interface Library {
  name: string;
  tenant: string;
  userId: string;
  collectionId: string | null;
  reader: SearchScope["reader"];
  token: string;
  chunks: number;
}

/** Time spent in the database's inserts (the HNSW index's upkeep among them), beside preparing the rows. */
let insertMs = 0;

// Every statement with parameters this client sends is inside a transaction: PGlite is one session, and its socket
// multiplexer keeps a connection's extended-protocol messages together only within one (outside, they can interleave
// with the Worker's, e.g. the cron's: "bind message supplies 9 parameters, but prepared statement requires 2").

async function grow(db: pg.Client, lib: Library, target: number): Promise<void> {
  while (lib.chunks < target) {
    const n = Math.min(CHUNKS_PER_DOCUMENT, target - lib.chunks);
    const made = Array.from({ length: n }, chunkText);
    const texts = made.map((c) => c.text);
    const tokens = made.map((c) => c.tokens);
    await db.query("begin");
    const {
      rows: [doc],
    } = await db.query(
      `insert into documents (tenant_id, user_id, collection_id, filename, size_bytes, sha256, r2_key, status, pages_total, pages_done, chunk_count, token_count)
       values ($1, $2, $3, $4, 1, md5(random()::text), 'none', 'ready', $5, $5, $5, $6) returning id`,
      [lib.tenant, lib.userId, lib.collectionId, `manual-${lib.chunks / CHUNKS_PER_DOCUMENT}.pdf`, n, tokens.reduce((a, b) => a + b, 0)],
    );
    for (let from = 0; from < n; from += INSERT_BATCH) {
      const batch = texts.slice(from, from + INSERT_BATCH);
      const vectors = batch.map((t) => pgvector.toSql(Array.from(embed(t))));
      const inserting = performance.now();
      const ordinals = batch.map((_, i) => from + i);
      await db.query(
        `insert into chunks (tenant_id, user_id, document_id, ordinal, text, page_start, page_end, token_count, embedding, search_text, search_version)
         select $1, $2, $3, o, t, o + 1, o + 1, k, e::vector, s, $9
         from unnest($4::int[], $5::text[], $6::int[], $7::text[], $8::text[]) as r(o, t, k, e, s)`,
        [lib.tenant, lib.userId, doc.id, ordinals, batch, ordinals.map((o) => tokens[o]), vectors, batch.map(searchForm), SEARCH_FORM_VERSION],
      );
      insertMs += performance.now() - inserting;
    }
    await db.query("commit");
    lib.chunks += n;
  }
}

/** The search SQL of an earlier revision, which takes the same first parameters (as many as it names). */
function sqlOfRevision(rev: string): string {
  const source = execFileSync("git", ["show", `${rev}:src/search/hybrid.ts`], { cwd: PROJECT_ROOT, encoding: "utf8" });
  const text = /const SEARCH_SQL = `([\s\S]*?)`;/.exec(source)?.[1];
  if (!text) throw new Error(`no SEARCH_SQL in ${rev}:src/search/hybrid.ts`);
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the placeholder as it is written in that source
  return text.replace('${readableDocumentsSql("$9::boolean", "$10")}', readableDocumentsSql("$9::boolean", "$10"));
}

/** Runs the search SQL in a read-only transaction as hybridSearch does; returns its milliseconds and chunk ids. */
async function timeSql(db: pg.Client, lib: Library, q: string, opts: Partial<SearchQuery> & { text?: string; uncapped?: boolean }) {
  const statement = searchStatement(
    { reader: lib.reader },
    { text: q, vector: Array.from(embed(q)), topK: 10, exactScanMaxChunks: EXACT_SCAN_MAX_CHUNKS, efSearch: WORKER_EF_SEARCH, ...opts },
  );
  const text = opts.text ?? statement.text;
  const params = opts.text ? statement.params.slice(0, Math.max(...[...opts.text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])))) : statement.params;
  // Every word of the query, as keywordQuery gave them before it kept the eight longest ($5 and $13).
  if (opts.uncapped) [params[4], params[12]] = [searchForm(q), keywordTerms(q).join(" ")];
  await db.query("begin read only");
  try {
    for (const s of statement.settings) await db.query(s);
    const started = performance.now();
    const { rows } = await db.query(text, params);
    return { ms: performance.now() - started, ids: rows.map((r: { chunk_id: string }) => r.chunk_id) };
  } finally {
    await db.query("commit");
  }
}

async function searchApi(url: string, lib: Library, query: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/search`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Tenant-ID": lib.tenant, Authorization: `Bearer ${lib.token}` },
    body: JSON.stringify({ query, top_k: 10 }),
  });
  if (!res.ok) throw new Error(`POST /v1/search answered ${res.status}: ${await res.text()}`);
  await res.json();
  return performance.now() - started;
}

const stats = (ms: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 50), 1), p95: round(percentile(sorted, 95), 1) };
};

const queries = Array.from({ length: QUERIES }, queryText).map(normalizeQuery);
const pasted = normalizeQuery(pastedText());
const before = BEFORE ? sqlOfRevision(BEFORE) : undefined;
const rows: Array<Record<string, unknown>> = [];

const result = await withLocalApi(async (api) => {
  const db = new pg.Client({ connectionString: api.stack.postgresUrl });
  await db.connect();
  try {
    const member = async (tenant: string, email: string) => {
      await createTenant(api.stack.postgresUrl, tenant);
      const token = await loginAs(api.url, email, tenant);
      const me = (await (await fetch(`${api.url}/v1/me`, { headers: { "X-Tenant-ID": tenant, Authorization: `Bearer ${token}` } })).json()) as {
        id: string;
        role: "owner" | "admin" | "member";
      };
      return { token, reader: { id: me.id, tenantId: tenant, role: me.role, apiKey: undefined } };
    };
    const user = await member("bench-user", "reader@example.com");
    await createTenant(api.stack.postgresUrl, "bench-org");
    await ensureOwner(api.stack.postgresUrl, "bench-org", "owner@example.com");
    const owner = await member("bench-org", "owner@example.com");
    const {
      rows: [collection],
    } = await db.query("insert into collections (tenant_id, name, visibility) values ('bench-org', 'Manuals', 'tenant') returning id");
    const orgReader = await member("bench-org", "reader@example.com");
    const libraries: Library[] = [
      { name: "one user's documents", tenant: "bench-user", userId: user.reader.id, collectionId: null, ...user, chunks: 0 },
      { name: "a tenant collection", tenant: "bench-org", userId: owner.reader.id, collectionId: collection.id, ...orgReader, chunks: 0 },
    ].filter((_, i) => LIBRARIES.includes(i === 0 ? "user" : "collection"));

    for (const size of SIZES) {
      const loading = performance.now();
      // A bulk load without the HNSW index, which is then rebuilt: five times faster than its upkeep row by row.
      const {
        rows: [hnsw],
      } = await db.query("select indexdef from pg_indexes where indexname = 'chunks_embedding_hnsw_idx'");
      await db.query("drop index chunks_embedding_hnsw_idx");
      for (const lib of libraries) await db.query(`drop index if exists "chunks_embedding_hnsw_${lib.tenant}"`);
      for (const lib of libraries) await grow(db, lib, size);
      await db.query(hnsw.indexdef);
      if (TENANT_INDEXES)
        for (const lib of libraries)
          await db.query(
            `create index if not exists "chunks_embedding_hnsw_${lib.tenant}" on chunks using hnsw (embedding vector_cosine_ops) where tenant_id = '${lib.tenant}'`,
          );
      // What autovacuum would do after a bulk load: the planner needs the tables' statistics.
      await db.query("analyze documents; analyze chunks");
      console.error(
        `bench:search: ${size} chunks per library loaded in ${round((performance.now() - loading) / 1000, 1)} s (inserts ${round(insertMs / 1000, 1)} s)`,
      );
      insertMs = 0;
      for (const lib of libraries) {
        await searchApi(api.url, lib, queries[0]!); // warm-up: the isolate's first request, the first plan
        const apiMs: number[] = [];
        for (const q of queries) apiMs.push(await searchApi(api.url, lib, q));
        const sqlMs: number[] = [];
        const exactMs: number[] = [];
        const indexMs: number[] = [];
        const beforeMs: number[] = [];
        let recall = 0;
        const byEf = EF_SEARCH.map((ef) => ({ ef, recall: 0, ms: [] as number[] }));
        for (const q of queries) {
          sqlMs.push((await timeSql(db, lib, q, {})).ms);
          const exact = await timeSql(db, lib, q, { mode: "semantic", exactScanMaxChunks: Number.MAX_SAFE_INTEGER });
          const index = await timeSql(db, lib, q, { mode: "semantic", exactScanMaxChunks: 0 });
          exactMs.push((await timeSql(db, lib, q, { exactScanMaxChunks: Number.MAX_SAFE_INTEGER })).ms);
          indexMs.push((await timeSql(db, lib, q, { exactScanMaxChunks: 0 })).ms);
          if (before) beforeMs.push((await timeSql(db, lib, q, { text: before })).ms);
          // Sentences recur across synthetic chunks (at 100k each one is in about a hundred), so many chunks tie with
          // the exact 10th distance: a hit counts when it is as close as that one, not only when it has its id.
          const vector = pgvector.toSql(Array.from(embed(q)));
          const distances = async (ids: string[]) => {
            await db.query("begin read only");
            const { rows } = await db.query("select (embedding <=> $1::vector)::float8 as d from chunks where id = any($2::uuid[])", [vector, ids]);
            await db.query("commit");
            return rows.map((r: { d: number }) => r.d).sort((a, b) => a - b);
          };
          const tenth = (await distances(exact.ids)).at(-1) ?? 0;
          const overlap = async (ids: string[]) => (await distances(ids)).filter((d) => d <= tenth + 1e-6).length / Math.max(1, exact.ids.length);
          recall += await overlap(index.ids);
          for (const e of byEf) {
            const hits = await timeSql(db, lib, q, { mode: "semantic", exactScanMaxChunks: 0, efSearch: e.ef });
            e.recall += await overlap(hits.ids);
            e.ms.push(hits.ms);
          }
        }
        rows.push({
          chunks: size,
          library: lib.name,
          api_ms: stats(apiMs),
          sql_p50_ms: round(median(sqlMs), 1),
          sql_p95_ms: round(
            percentile(
              [...sqlMs].sort((a, b) => a - b),
              95,
            ),
            1,
          ),
          sql_exact_path_p50_ms: round(median(exactMs), 1),
          sql_hnsw_path_p50_ms: round(median(indexMs), 1),
          ...(before ? { sql_before_p50_ms: round(median(beforeMs), 1) } : {}),
          // A 2,000-character query (its keyword half is capped at eight terms), the SQL alone.
          sql_pasted_query_ms: round((await timeSql(db, lib, pasted, {})).ms, 1),
          ...(before ? { sql_pasted_query_before_ms: round((await timeSql(db, lib, pasted, { text: before, uncapped: true })).ms, 1) } : {}),
          hnsw_recall_at_10: round(recall / queries.length),
          // The vector ranking alone through the index, at each ef_search: recall@10 against the exact scan, p50 ms.
          hnsw_by_ef_search: Object.fromEntries(
            byEf.map((e) => [e.ef, { recall_at_10: round(e.recall / queries.length), p50_ms: round(median(e.ms), 1) }]),
          ),
        });
      }
    }
    const {
      rows: [{ bytes }],
    } = await db.query("select pg_total_relation_size('chunks')::float8 as bytes");
    return { chunks_table_mb: round(bytes / 2 ** 20, 0) };
  } finally {
    await db.end();
  }
});

console.error(
  `\nchunks   library                 API p50 / p95 ms   SQL p50 ms (default / exact / HNSW${before ? ` / ${BEFORE}` : ""})   SQL p95 ms   pasted query ms${before ? " (before)" : ""}   HNSW recall@10`,
);
for (const r of rows) {
  const a = r.api_ms as { p50: number; p95: number };
  const sqlCols = [r.sql_p50_ms, r.sql_exact_path_p50_ms, r.sql_hnsw_path_p50_ms, ...(before ? [r.sql_before_p50_ms] : [])].join(" / ");
  console.error(
    `${String(r.chunks).padEnd(8)} ${String(r.library).padEnd(23)} ${`${a.p50} / ${a.p95}`.padEnd(18)} ${sqlCols.padEnd(40)} ${String(r.sql_p95_ms).padEnd(12)} ${`${r.sql_pasted_query_ms}${before ? ` (${r.sql_pasted_query_before_ms})` : ""}`.padEnd(17)} ${r.hnsw_recall_at_10}`,
  );
}
console.error("\nHNSW path, vector ranking alone: recall@10 / p50 ms by hnsw.ef_search");
for (const r of rows) {
  const byEf = r.hnsw_by_ef_search as Record<string, { recall_at_10: number; p50_ms: number }>;
  const cols = Object.entries(byEf).map(([ef, v]) => `${ef}: ${v.recall_at_10} / ${v.p50_ms}`);
  console.error(`${String(r.chunks).padEnd(8)} ${String(r.library).padEnd(23)} ${cols.join("   ")}`);
}
console.log(
  JSON.stringify({
    database: process.env.DATABASE_URL ? "Postgres (DATABASE_URL)" : "PGlite",
    tenant_indexes: TENANT_INDEXES,
    queries: QUERIES,
    exact_scan_max_chunks: EXACT_SCAN_MAX_CHUNKS,
    ...result,
    results: rows,
  }),
);
