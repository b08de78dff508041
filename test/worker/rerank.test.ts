// The optional rerank stage (src/search/rerank.ts) on POST /v1/search and in chat. RERANK_MODEL is off by default, so
// these tests turn it on per request (fetchWithEnv) or per session (overrideSessionEnv). The stand-in scores a
// passage by the share of the query's content words it contains: plain, so the tests check the stage, not its taste.
import { beforeAll, describe, expect, it } from "vitest";
import { expectErrorShape, fetchWithEnv, json, manualReaders, search, uniqueIp } from "../support/api.ts";
import { ChatClient, injectFault, marker, overrideSessionEnv, usageReport } from "../support/chat.ts";
import { sql } from "../support/db.ts";

const RERANK = { RERANK_MODEL: "gpt-4.1-nano" };
const FLOOR = 0.4; // wrangler.toml's RERANK_MIN_SCORE

let en: { token: string; userId: string; lshort: string };
let fa: { token: string; userId: string; lshort: string };

beforeAll(async () => {
  ({ en, fa } = await manualReaders());
}, 180_000);

type Hit = { chunk_id: string; text: string; score: number; relevance?: number };

/** POST /v1/search on a deployment with these bindings changed. */
async function searchWith(env: Record<string, string>, token: string, body: Record<string, unknown>) {
  const res = await fetchWithEnv("/v1/search", env, {
    method: "POST",
    headers: { "X-Tenant-ID": "acme", Authorization: `Bearer ${token}`, "CF-Connecting-IP": uniqueIp(), "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await json(res) };
}

describe("POST /v1/search with rerank", () => {
  it("answers 400 rerank_unavailable when the deployment has no rerank model", async () => {
    const { status, body } = await searchWith({}, en.token, { query: "hyperref options", rerank: true });
    expect(status).toBe(400);
    expectErrorShape(body, "rerank_unavailable");
  });

  it.each([
    ["English", () => en, "Which options does the hyperref package take?"],
    ["Persian", () => fa, "بستهٔ hyperref چه گزینه‌هایی دارد؟"],
  ] as const)(
    "%s: reorders by relevance, keeps top_k, drops those under the floor, and is metered",
    async (_, who, query) => {
      const { token } = who();
      const fused = await search(token, { query, top_k: 20 });
      const before = (await usageReport(token)).last_24h.by_model[RERANK.RERANK_MODEL]?.requests ?? 0;
      const { status, body } = await searchWith(RERANK, token, { query, top_k: 5, rerank: true });
      expect(status).toBe(200);
      const hits = body.results as Hit[];
      expect(hits.length).toBeGreaterThan(0);
      expect(hits.length).toBeLessThanOrEqual(5);
      const relevance = hits.map((h) => h.relevance!);
      expect(
        relevance.every((r) => r >= FLOOR && r <= 1),
        String(relevance),
      ).toBe(true);
      expect(relevance).toEqual([...relevance].sort((a, b) => b - a));
      // Every reranked hit was a fused candidate, and the order is not the fused one.
      const fusedIds = fused.map((h) => h.chunk_id);
      expect(hits.every((h) => fusedIds.includes(h.chunk_id))).toBe(true);
      expect(hits.map((h) => h.chunk_id)).not.toEqual(fusedIds.slice(0, hits.length));
      expect(hits[0]!.text).toMatch(/hyperref/i);
      // One rerank call, metered under its model.
      const after = (await usageReport(token)).last_24h.by_model[RERANK.RERANK_MODEL]!;
      expect(after.requests).toBe(before + 1);
      expect(after.prompt_tokens).toBeGreaterThan(0);
    },
    60_000,
  );

  it.each([
    ["English", () => en, "How long should sourdough bread be proofed?"],
    ["Persian", () => fa, "نان خمیرترش را چقدر ور بیاوریم؟"],
  ] as const)("%s: a question the documents cannot answer gets no results, where fusion gives top_k", async (_, who, query) => {
    const { token } = who();
    expect(await search(token, { query, top_k: 5 })).toHaveLength(5);
    const { status, body } = await searchWith(RERANK, token, { query, top_k: 5, rerank: true });
    expect(status).toBe(200);
    expect(body.results).toEqual([]);
  });

  it("falls back to the fused order when the rerank call fails", async () => {
    const m = marker("rerank");
    const query = `hyperref options ${m}`;
    await injectFault({ match: m, endpoint: "chat", status: 500, times: 1 });
    const { status, body } = await searchWith(RERANK, en.token, { query, top_k: 5, rerank: true });
    expect(status).toBe(200);
    const fused = await search(en.token, { query, top_k: 5 });
    expect((body.results as Hit[]).map((h) => h.chunk_id)).toEqual(fused.map((h) => h.chunk_id));
    expect((body.results as Hit[]).every((h) => h.relevance === undefined)).toBe(true);
  });
});

describe("POST /v1/search mode", () => {
  it("takes hybrid, semantic or keyword, and nothing else", async () => {
    for (const mode of ["hybrid", "semantic", "keyword"])
      expect(await search(en.token, { query: "hyperref options", top_k: 3, mode })).toHaveLength(3);
    const { status, body } = await searchWith({}, en.token, { query: "hyperref options", mode: "fuzzy" });
    expect(status).toBe(400);
    expectErrorShape(body, "validation_failed");
  });
});

describe("chat with rerank", () => {
  it.each([
    ["English", () => en, "How long should sourdough bread be proofed?", "I could not find the answer in the provided sources."],
    ["Persian", () => fa, "نان خمیرترش را چقدر ور بیاوریم؟", "پاسخ این پرسش در منابع ارائه‌شده پیدا نشد."],
  ] as const)("%s: a question the documents cannot answer gets no citations and says so", async (_, who, question, notFound) => {
    const chat = await ChatClient.open({ token: who().token });
    await overrideSessionEnv(chat.sessionId, RERANK);
    const a = await chat.ask(question);
    expect(a.done?.status, JSON.stringify(a.error)).toBe("complete");
    expect(a.citations).toEqual([]);
    expect(a.text).toBe(notFound);
    chat.close();
  });

  it("cites the reranked sources, best first, at most CHAT_SOURCES", async () => {
    const chat = await ChatClient.open({ token: en.token });
    await overrideSessionEnv(chat.sessionId, { ...RERANK, CHAT_SOURCES: "3" });
    const a = await chat.ask("Which options does the hyperref package take?");
    expect(a.done?.status).toBe("complete");
    const { body } = await searchWith(RERANK, en.token, { query: "Which options does the hyperref package take?", top_k: 3, rerank: true });
    expect(a.citations!.map((c) => c.chunk_id)).toEqual((body.results as Hit[]).map((h) => h.chunk_id));
    chat.close();
  });

  it("writes the rerank's usage with the answer's, once: nothing is written between the search and the model call", async () => {
    const m = marker("rerank-usage");
    // Every model call of this question waits 100 ms: a rerank row written before the answer would be that much older.
    await injectFault({ match: m, endpoint: "chat", delay_ms: 100, times: 2 });
    const chat = await ChatClient.open({ token: fa.token });
    await overrideSessionEnv(chat.sessionId, RERANK);
    const asked = new Date();
    const a = await chat.ask(`بستهٔ hyperref چه گزینه‌هایی دارد؟ ${m}`);
    chat.close();
    expect(a.done?.status, JSON.stringify(a.error)).toBe("complete");
    const rows = (await sql().query(
      `select model, prompt_tokens, created_at from usage_events
       where tenant_id = 'acme' and user_id = $1 and kind = 'chat' and created_at >= $2 order by created_at, id`,
      [fa.userId, asked],
    )) as Array<{ model: string; prompt_tokens: number; created_at: Date }>;
    expect(rows).toHaveLength(2);
    const reranked = rows.filter((r) => r.model === RERANK.RERANK_MODEL);
    const answered = rows.filter((r) => r.model !== RERANK.RERANK_MODEL);
    expect([reranked.length, answered.length]).toEqual([1, 1]);
    expect(answered[0]!.prompt_tokens).toBe(a.done!.usage.prompt_tokens);
    expect(new Date(reranked[0]!.created_at).getTime()).toBe(new Date(answered[0]!.created_at).getTime());
  });
});
