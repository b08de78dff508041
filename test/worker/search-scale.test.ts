// A user with a handful of chunks inside a tenant where someone else owns many near-identical ones must still
// get their own chunks back: a plain HNSW scan would return only the other user's neighbours and filter them out.
// The index path and the exact path agree on a real document; the keyword branch ranks a bounded number of
// candidates in a library where most chunks hold the query's common word, and still finds its rare one.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { searchStatement } from "../../src/search/hybrid.ts";
import { SEARCH_FORM_VERSION, searchForm } from "../../src/search/keyword/search-form.ts";
import { fetchWithEnv, fixturePdf, json, login, search, uniqueIp, upload, waitForIngestion } from "../support/api.ts";
import { sql } from "../support/db.ts";
import { makeTextPdf } from "../support/pdf-factory.ts";

const QUERY = "orbital mechanics of geostationary satellites";
const CROWD = 1500;

async function embed(text: string): Promise<number[]> {
  const res = await fetch(new URL("embeddings", `${env.OPENAI_BASE_URL}/`), {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${env.OPENAI_API_KEY}` },
    body: JSON.stringify({ model: "text-embedding-3-small", input: text, encoding_format: "float" }),
  });
  return (await res.json<{ data: Array<{ embedding: number[] }> }>()).data[0]!.embedding;
}

/** The Worker with another exact-scan threshold, as an operator would configure it. */
async function searchWithThreshold(token: string, threshold: number, body: Record<string, unknown> = { query: QUERY, top_k: 8 }) {
  const res = await fetchWithEnv(
    "/v1/search",
    { SEARCH_EXACT_SCAN_MAX_CHUNKS: String(threshold) },
    {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Tenant-ID": "acme", Authorization: `Bearer ${token}`, "CF-Connecting-IP": uniqueIp() },
      body: JSON.stringify(body),
    },
  );
  expect(res.status).toBe(200);
  return (await res.json<{ results: Array<{ filename: string; chunk_id: string }> }>()).results;
}

let small: Awaited<ReturnType<typeof login>>;
let smallChunks: number;

beforeAll(async () => {
  // The crowd: another user of the same tenant, whose chunks all sit right next to the query vector.
  const crowd = await login(undefined, "acme");
  const db = sql();
  const [doc] = await db.query(
    `insert into documents (tenant_id, user_id, filename, size_bytes, sha256, r2_key, status, pages_total, chunk_count, token_count)
     values ('acme', $1, 'crowd.pdf', 1, md5(random()::text), 'none', 'ready', 1, $2, $2) returning id`,
    [crowd.user.id, CROWD],
  );
  await db.query(
    `insert into chunks (tenant_id, user_id, document_id, ordinal, text, page_start, page_end, token_count, embedding)
     select 'acme', $1, $2, g, 'crowd filler ' || g, 1, 1, 3,
            (select array_agg(x + (random() - 0.5) * 0.002) from unnest($3::real[]) x)::vector
     from generate_series(1, $4) g`,
    [crowd.user.id, (doc as { id: string }).id, `{${(await embed(QUERY)).join(",")}}`, CROWD],
  );

  // The small user: three pages that share no keyword with the query, so only the vector search can find them.
  small = await login(undefined, "acme");
  const created = await json(
    await upload(small.token, makeTextPdf(["Bananas are rich in potassium.", "Tulips bloom in spring.", "Granite is an igneous rock."]), "tiny.pdf"),
  );
  expect((await waitForIngestion(small.token, created.id)).doc.status).toBe("ready");
  const [row] = await db.query("select count(*)::int as n from chunks where user_id = $1", [small.user.id]);
  smallChunks = (row as { n: number }).n;
  expect(smallChunks).toBeGreaterThan(0);
}, 120_000);

describe("a small user in a crowded tenant", () => {
  it("gets all their chunks from the exact scan (small filtered set, the default)", async () => {
    const hits = await search(small.token, { query: QUERY, top_k: 8 });
    expect(hits).toHaveLength(Math.min(8, smallChunks));
    expect(new Set(hits.map((h) => h.filename))).toEqual(new Set(["tiny.pdf"]));
  });

  // With the threshold at 0 the index branch answers (HNSW with iterative scans, or whatever plan Postgres
  // prefers for so few rows): it too must return every one of the small user's chunks.
  it("gets all their chunks from the index branch too (exact-scan threshold 0)", async () => {
    const hits = await searchWithThreshold(small.token, 0);
    expect(hits).toHaveLength(Math.min(8, smallChunks));
    expect(new Set(hits.map((h) => h.filename))).toEqual(new Set(["tiny.pdf"]));
  });
});

describe("the index path beside the exact path", () => {
  it("returns the same chunks for a real document in the crowded tenant", async () => {
    const reader = await login(undefined, "acme");
    const doc = await json(await upload(reader.token, fixturePdf("en-1.chromium.pdf"), "en-1.pdf"));
    expect((await waitForIngestion(reader.token, doc.id, { timeoutMs: 120_000 })).doc.status).toBe("ready");
    for (const query of ["garden volunteers", "opening hours of the library", "heaters in winter"]) {
      const body = { query, top_k: 5, mode: "semantic" };
      const exact = await searchWithThreshold(reader.token, 1_000_000, body);
      expect(exact.length, query).toBeGreaterThan(0);
      expect(
        (await searchWithThreshold(reader.token, 0, body)).map((h) => h.chunk_id),
        query,
      ).toEqual(exact.map((h) => h.chunk_id));
    }
  }, 180_000);
});

interface PlanNode {
  "Node Type": string;
  "Function Name"?: string;
  "CTE Name"?: string;
  "Actual Rows"?: number;
  "Actual Loops": number;
  Plans?: PlanNode[];
}

describe("keyword search over many chunks holding the query's common word", () => {
  const COMMON = 1200;
  let reader: Awaited<ReturnType<typeof login>>;

  beforeAll(async () => {
    reader = await login(undefined, "acme");
    const db = sql();
    const texts = [
      ...Array.from({ length: COMMON }, (_, i) => `The gearbox needs oil. Check the gearbox every ${i + 1} hours of running.`),
      // Stored last: a scan in table order would reach it after every common-word chunk.
      "A zephyr from the west cools the workshop in summer.",
    ];
    const [doc] = await db.query(
      `insert into documents (tenant_id, user_id, filename, size_bytes, sha256, r2_key, status, pages_total, chunk_count, token_count)
       values ('acme', $1, 'gearbox.pdf', 1, md5(random()::text), 'none', 'ready', 1, $2, $3) returning id`,
      [reader.user.id, texts.length, texts.length * 14],
    );
    // In statements of 200 rows: the local database is one session, and other test files share it meanwhile.
    for (let from = 0; from < texts.length; from += 200) {
      const batch = texts.slice(from, from + 200);
      await db.query(
        `insert into chunks (tenant_id, user_id, document_id, ordinal, text, page_start, page_end, token_count, embedding, search_text, search_version)
         select 'acme', $1, $2, $3 + o, t, 1, 1, 14, (select array_agg(random()) from generate_series(1, 1536))::vector, s, $6
         from unnest($4::text[], $5::text[]) with ordinality as r(t, s, o)`,
        [reader.user.id, (doc as { id: string }).id, from, batch, batch.map((t) => searchForm(t.toLowerCase())), SEARCH_FORM_VERSION],
      );
    }
    await db.query("analyze chunks");
  }, 120_000);

  /** The executed plan of the reader's keyword search for `query`, as the Worker runs it. */
  async function keywordPlan(query: string): Promise<PlanNode> {
    const statement = searchStatement(
      { reader: { id: reader.user.id, tenantId: "acme", role: "member", apiKey: undefined } },
      { text: query, vector: new Array(1536).fill(0.01), topK: 5, exactScanMaxChunks: 20_000, efSearch: 400, mode: "keyword" },
    );
    const db = sql();
    const results = await db.transaction([
      ...statement.settings.map((s) => db.query(s)),
      db.query(`explain (analyze, format json) ${statement.text}`, statement.params),
    ]);
    return (results.at(-1) as Array<{ "QUERY PLAN": Array<{ Plan: PlanNode }> }>)[0]!["QUERY PLAN"][0]!.Plan;
  }

  it("puts the chunk with the rare word first", async () => {
    const hits = await search(reader.token, { query: "gearbox zephyr", top_k: 5, mode: "keyword" });
    expect(hits[0]?.text).toContain("zephyr");
    expect(hits).toHaveLength(5);
  });

  it("ranks a bounded number of candidates, not every chunk holding a query word", async () => {
    const plan = await keywordPlan("gearbox zephyr");
    // The ranking unnests each candidate's tsvector once: that function scan's loops are the candidates ranked.
    const unnestLoops: number[] = [];
    const walk = (node: PlanNode) => {
      if (node["Node Type"] === "Function Scan" && node["Function Name"] === "unnest") unnestLoops.push(node["Actual Loops"]);
      for (const child of node.Plans ?? []) walk(child);
    };
    walk(plan);
    const ranked = Math.max(...unnestLoops);
    // No chunk holds both terms: at most 100 of the 1,200 holding "gearbox" are ranked, beside the one with "zephyr".
    expect(ranked).toBeGreaterThan(1);
    expect(ranked).toBeLessThanOrEqual(101);
  });

  it("looks up only the longest eight words of a pasted paragraph, and still finds its rare one", async () => {
    // 30 words: 28 short ones no chunk holds, "gearbox" and "zephyr" (both among the eight longest).
    const filler = Array.from({ length: 28 }, (_, i) => `q${String.fromCharCode(97 + (i % 26))}${i < 26 ? "" : "x"}`);
    const query = [...filler.slice(0, 14), "gearbox", ...filler.slice(14), "zephyr"].join(" ");
    const hits = await search(reader.token, { query, top_k: 5, mode: "keyword" });
    expect(hits[0]?.text).toContain("zephyr");
    const plan = await keywordPlan(query);
    // The lexemes looked up and counted are the rows of the keyword_lexemes CTE: each costs GIN lookups.
    const lexemeRows: number[] = [];
    const walk = (node: PlanNode) => {
      if (node["Node Type"] === "CTE Scan" && node["CTE Name"] === "keyword_lexemes") lexemeRows.push(node["Actual Rows"]!);
      for (const child of node.Plans ?? []) walk(child);
    };
    walk(plan);
    // Eight kept words (and, while chunks lack a search form, their eight exact forms), not the query's 30.
    expect(Math.max(...lexemeRows)).toBeGreaterThan(0);
    expect(Math.max(...lexemeRows)).toBeLessThanOrEqual(16);
  });
});
