// A document's page ranges run side by side: the first range's message queues all the others at once, and the
// range that completes the set finalises the document, once, whatever order they finish in and however often a
// message is delivered. The test plays the queue: it delivers the ranges itself, several in one batch.

import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_DOCUMENT_CHARS } from "../../src/documents/limits.ts";
import worker from "../../src/index.ts";
import type { IngestMessage } from "../../src/ingest/messages.ts";
import { call, json, login, waitForIngestion } from "../support/api.ts";
import { count, sql } from "../support/db.ts";
import { makeCompressedTextPdf, makeTextPdf } from "../support/pdf-factory.ts";
import { storedDocument } from "../support/stored-document.ts";
import { forgetUsageBuckets } from "../support/usage-buckets.ts";

type Login = Awaited<ReturnType<typeof login>>;

const USER_BUDGET = 500_000; // DAILY_TOKEN_BUDGET_PER_USER's default, which the tests run with

/**
 * Runs one batch of ranges through the consumer, as Queues would, with what it queues and the data points it writes
 * recorded instead of sent.
 */
async function deliver(messages: Array<{ body: IngestMessage; attempts?: number }>, overrides: Record<string, string> = {}) {
  const queued: IngestMessage[] = [];
  const outcomes: string[] = [];
  const recording = {
    ...env,
    ...overrides,
    INGEST_QUEUE: { sendBatch: async (batch: Array<{ body: IngestMessage }>) => void queued.push(...batch.map((m) => m.body)) },
    ANALYTICS: { writeDataPoint: (p: AnalyticsEngineDataPoint) => void (p.blobs?.[0] === "ingest" && outcomes.push(String(p.blobs[1]))) },
  };
  const batch = createMessageBatch<IngestMessage>(
    "docuchat-ingest",
    messages.map((m) => ({ id: crypto.randomUUID(), timestamp: new Date(), attempts: m.attempts ?? 1, body: m.body })),
  );
  const ctx = createExecutionContext();
  await worker.queue!(batch, recording as never, ctx);
  return { ...(await getQueueResult(batch, ctx)), queued, outcomes };
}

const pagesPdf = (n: number, marker = "") =>
  makeTextPdf(Array.from({ length: n }, (_, i) => `Page ${i + 1} of the parallel ranges report ${i === 74 ? marker : ""} covers topic ${i + 1}.`));

const documentRow = async (id: string) =>
  (
    await sql().query("select status, error_code, error_message, pages_done, pages_total, chunk_count, ranges_done from documents where id = $1", [
      id,
    ])
  )[0] as {
    status: string;
    error_code: string | null;
    error_message: string | null;
    pages_done: number;
    pages_total: number | null;
    chunk_count: number | null;
    ranges_done: number[];
  };

const embeddingsOf = (userId: string) => count("select 1 from usage_events where user_id = $1 and kind = 'embedding'", [userId]);

/** Delivers range 1, which learns the page count and queues the rest: what it queued. */
async function startDocument(owner: Login, bytes: Uint8Array, overrides: Record<string, string> = {}) {
  const { id } = await storedDocument(owner, bytes, "ranges.pdf");
  const first = await deliver([{ body: { tenantId: "acme", userId: owner.user.id, documentId: id, fromPage: 1 } }], overrides);
  expect(first.explicitAcks).toHaveLength(1);
  return { id, rest: first.queued, firstOutcomes: first.outcomes };
}

describe("ranges side by side", () => {
  it("stores nothing for a range past the document's text limit, and still finishes the document", async () => {
    const owner = await login();
    // 60 pages of 49,000 characters: the 2,000,000-character limit is reached on page 41, in the first range.
    // The first range writes about 970 chunks in one transaction: seconds for PGlite on a busy machine.
    const unlimited = { DAILY_TOKEN_BUDGET_PER_USER: "0", DB_TIMEOUT_MS: "30000" };
    const { id, rest } = await startDocument(owner, await makeCompressedTextPdf(49_000, { pages: 60 }), unlimited);
    expect(await documentRow(id)).toMatchObject({ status: "processing", ranges_done: [1] });
    const last = await deliver(
      rest.map((body) => ({ body })),
      unlimited,
    );
    expect(last.outcomes).toEqual(["ready"]);
    const [stored] = await sql().query(
      "select coalesce(sum(length(text)), 0)::int as n, max(page)::int as last from document_pages where document_id = $1",
      [id],
    );
    expect(stored).toMatchObject({ last: 41 });
    expect((stored as { n: number }).n).toBeLessThanOrEqual(MAX_DOCUMENT_CHARS);
    const doc = await json(await call(`/v1/files/${id}`, { token: owner.token }));
    expect(doc.warnings).toEqual([expect.objectContaining({ page: 41, code: "text_limit" })]);
  }, 60_000);
  it("queues every other range at once, runs them in one batch, and finalises the document once", async () => {
    const owner = await login();
    const { id, rest, firstOutcomes } = await startDocument(owner, pagesPdf(160));
    expect(rest.map((m) => m.fromPage)).toEqual([51, 101, 151]);
    expect(firstOutcomes).toEqual(["range_done"]);
    expect(await documentRow(id)).toMatchObject({ status: "processing", pages_done: 50, pages_total: 160 });

    const batch = await deliver(rest.map((body) => ({ body })));
    expect(batch.explicitAcks).toHaveLength(3);
    expect(batch.queued).toEqual([]);
    expect(batch.outcomes.sort()).toEqual(["range_done", "range_done", "ready"]);

    const doc = await json(await call(`/v1/files/${id}`, { token: owner.token }));
    expect(doc).toMatchObject({ status: "ready", page_count: 160, progress: { pages_done: 160, pages_total: 160 } });
    // Each range's ordinals start at its first page and run on without a gap; every page is in a chunk.
    const chunks = (await sql().query("select ordinal, page_start, page_end from chunks where document_id = $1 order by ordinal", [id])) as Array<{
      ordinal: number;
      page_start: number;
      page_end: number;
    }>;
    expect(doc.chunk_count).toBe(chunks.length);
    for (const from of [1, 51, 101, 151]) {
      const ordinals = chunks.filter((c) => Math.floor(c.ordinal / 100_000) === from).map((c) => c.ordinal - from * 100_000);
      expect(ordinals.length).toBeGreaterThan(0);
      expect(ordinals).toEqual(ordinals.map((_, i) => i));
    }
    const covered = new Set(chunks.flatMap((c) => Array.from({ length: c.page_end - c.page_start + 1 }, (_, i) => c.page_start + i)));
    expect(covered.size).toBe(160);
    expect(await count("select 1 from document_pages where document_id = $1", [id])).toBe(160);
  });

  it("skips a middle range delivered again, in the same batch or later, without paying for it twice", async () => {
    const owner = await login();
    const { id, rest } = await startDocument(owner, pagesPdf(120));
    const [second, third] = rest as [IngestMessage, IngestMessage];
    expect((await deliver([{ body: second }])).outcomes).toEqual(["range_done"]);
    const again = await deliver([{ body: second }]);
    expect(again.explicitAcks).toHaveLength(1);
    expect(again.outcomes).toEqual(["range_done"]);
    expect(await documentRow(id)).toMatchObject({ status: "processing", pages_done: 100, ranges_done: [1, 51] });
    expect(await embeddingsOf(owner.user.id)).toBe(2);

    expect((await deliver([{ body: third }])).outcomes).toEqual(["ready"]);
    // Once ready, a late copy of any range changes nothing and tells no outcome.
    const late = await deliver([{ body: second }, { body: third }]);
    expect(late.outcomes).toEqual([]);
    expect(await documentRow(id)).toMatchObject({ status: "ready", pages_done: 120 });
    expect(await embeddingsOf(owner.user.id)).toBe(3);
  });

  it("keeps nothing when a middle range fails for good while the others finish beside it", async () => {
    const marker = `middlerange${crypto.randomUUID().replace(/-/g, "")}`;
    await fetch(new URL("/__faults", env.OPENAI_BASE_URL), {
      method: "POST",
      body: JSON.stringify({ match: marker, endpoint: "embeddings", status: 500, times: 1000 }),
    });
    const owner = await login();
    // Page 75 (range 51-100) can never be embedded.
    const { id, rest } = await startDocument(owner, pagesPdf(160, marker));
    const batch = await deliver(rest.map((body) => ({ body, attempts: 5 })));
    expect(batch.retryMessages).toHaveLength(1); // on to the dead-letter queue
    expect(batch.outcomes.filter((o) => o === "failed")).toHaveLength(1);
    expect(batch.outcomes).not.toContain("ready");

    expect(await documentRow(id)).toMatchObject({ status: "failed", error_code: "ingest_failed", chunk_count: 0, ranges_done: [] });
    expect(await count("select 1 from chunks where document_id = $1", [id])).toBe(0);
    expect(await count("select 1 from document_pages where document_id = $1", [id])).toBe(0);
  });

  it("stops at the ranges the budget refuses, once, and a retry reads only the missing ones", async () => {
    const owner = await login();
    const { id, rest } = await startDocument(owner, pagesPdf(160));
    const usage = (
      await sql().query(
        "insert into usage_events (tenant_id, user_id, kind, model, prompt_tokens) values ('acme', $1, 'chat', 'gpt-4o-mini', $2) returning id",
        [owner.user.id, USER_BUDGET],
      )
    )[0] as { id: number };
    await forgetUsageBuckets("acme");
    const refused = await deliver(rest.map((body) => ({ body })));
    expect(refused.explicitAcks).toHaveLength(3);
    // Three ranges refused side by side end the document once.
    expect(refused.outcomes).toEqual(["failed"]);
    const stopped = await documentRow(id);
    expect(stopped).toMatchObject({ status: "failed", error_code: "quota_exceeded", pages_done: 50, ranges_done: [1] });
    expect(stopped.error_message).toMatch(/daily token budget is used up.*: 50 of 160 pages are stored\. Retry/);

    await sql().query("delete from usage_events where id = $1", [usage.id]);
    await forgetUsageBuckets("acme");
    expect((await call(`/v1/files/${id}/retry`, { method: "POST", token: owner.token })).status).toBe(202);
    const { doc } = await waitForIngestion(owner.token, id);
    expect(doc).toMatchObject({ status: "ready", page_count: 160, progress: { pages_done: 160 } });
    expect(await count("select 1 from document_pages where document_id = $1", [id])).toBe(160);
    // Range 1 once, then ranges 2-4 after the retry.
    expect(await embeddingsOf(owner.user.id)).toBe(4);
  });
});
