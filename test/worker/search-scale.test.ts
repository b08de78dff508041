// A user with a handful of chunks inside a tenant where someone else owns many near-identical ones must still
// get their own chunks back: a plain HNSW scan would return only the other user's neighbours and filter them out.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { fetchWithEnv, json, login, search, uniqueIp, upload, waitForIngestion } from "../support/api.ts";
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
async function searchWithThreshold(token: string, threshold: number) {
  const res = await fetchWithEnv(
    "/v1/search",
    { SEARCH_EXACT_SCAN_MAX_CHUNKS: String(threshold) },
    {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Tenant-ID": "acme", Authorization: `Bearer ${token}`, "CF-Connecting-IP": uniqueIp() },
      body: JSON.stringify({ query: QUERY, top_k: 8 }),
    },
  );
  expect(res.status).toBe(200);
  return (await res.json<{ results: Array<{ filename: string }> }>()).results;
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
