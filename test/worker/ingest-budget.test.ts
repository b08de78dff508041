// Ingestion is bounded by the text caps and by the daily token budget: a compressed-text bomb is cut to the page
// cap, concurrent ingestions overspend a budget by at most one range, and a document stopped by its budget
// continues where it stopped once budget is available again.

import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_DOCUMENT_CHARS, MAX_PAGE_CHARS } from "../../src/documents/limits.ts";
import { objectKey } from "../../src/documents/repository.ts";
import worker from "../../src/index.ts";
import type { IngestMessage } from "../../src/ingest/messages.ts";
import { call, json, login, upload, waitForIngestion } from "../support/api.ts";
import { count, sql } from "../support/db.ts";
import { makeCompressedTextPdf, makeTextPdf } from "../support/pdf-factory.ts";
import { forgetUsageBuckets } from "../support/usage-buckets.ts";

type Login = Awaited<ReturnType<typeof login>>;

const USER_BUDGET = 500_000; // DAILY_TOKEN_BUDGET_PER_USER's default, which the tests run with

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A document as an upload stores it (R2 object, queued row), without its queue message: the test delivers it. */
async function storedDocument(owner: Login, bytes: Uint8Array) {
  const id = crypto.randomUUID();
  const key = objectKey({ tenantId: "acme", userId: owner.user.id }, id);
  await env.DOCUMENTS.put(key, bytes);
  await sql().query(
    "insert into documents (id, tenant_id, user_id, filename, size_bytes, sha256, r2_key) values ($1, 'acme', $2, 'bomb.pdf', $3, $4, $5)",
    [id, owner.user.id, bytes.length, await sha256Hex(bytes), key],
  );
  return id;
}

async function deliver(body: IngestMessage, overrides: Record<string, string> = {}) {
  const batch = createMessageBatch<IngestMessage>("docuchat-ingest", [{ id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body }]);
  const ctx = createExecutionContext();
  await worker.queue!(batch, { ...env, ...overrides } as never, ctx);
  return getQueueResult(batch, ctx);
}

const embeddingTokens = async (userId: string) =>
  (
    (
      await sql().query("select coalesce(sum(embedding_tokens), 0)::int as n from usage_events where user_id = $1 and kind = 'embedding'", [userId])
    )[0] as { n: number }
  ).n;

/** Spends `tokens` of the user's budget, as chat had; returns the usage row's id. */
async function spend(userId: string, tokens: number): Promise<number> {
  const [row] = await sql().query(
    "insert into usage_events (tenant_id, user_id, kind, model, prompt_tokens) values ('acme', $1, 'chat', 'gpt-4o-mini', $2) returning id",
    [userId, tokens],
  );
  await forgetUsageBuckets("acme");
  return (row as { id: number }).id;
}

const documentRow = async (id: string) =>
  (await sql().query("select status, error_code, error_message, pages_done, chunk_count, warnings from documents where id = $1", [id]))[0] as {
    status: string;
    error_code: string | null;
    error_message: string | null;
    pages_done: number;
    chunk_count: number | null;
    warnings: Array<{ page: number; code: string; message: string }>;
  };

describe("text caps", () => {
  it("cuts a 31 KB page of 4 MB compressed text to the page cap, with a page_truncated warning", async () => {
    const owner = await login();
    const id = await storedDocument(owner, await makeCompressedTextPdf(4_000_000));
    await deliver({ tenantId: "acme", userId: owner.user.id, documentId: id, fromPage: 1 });

    const doc = await json(await call(`/v1/files/${id}`, { token: owner.token }));
    expect(doc.status).toBe("ready");
    expect(doc.warnings).toEqual([expect.objectContaining({ page: 1, code: "page_truncated" })]);
    const [page] = await sql().query("select length(text)::int as n from document_pages where document_id = $1", [id]);
    expect((page as { n: number }).n).toBeLessThanOrEqual(MAX_PAGE_CHARS);
    // 50,000 characters of English are about 12,500 tokens: with the chunks' overlap, well under 20,000.
    expect(doc.chunk_count).toBeLessThan(60);
    expect(await embeddingTokens(owner.user.id)).toBeLessThan(20_000);
  });

  it(`stops reading a document at ${MAX_DOCUMENT_CHARS} characters, with a text_limit warning on the page where it stopped`, async () => {
    const owner = await login();
    // 45 pages of 49,000 characters: 2,205,000; the document cap is reached on page 41.
    const id = await storedDocument(owner, await makeCompressedTextPdf(49_000, { pages: 45 }));
    await deliver({ tenantId: "acme", userId: owner.user.id, documentId: id, fromPage: 1 }, { DAILY_TOKEN_BUDGET_PER_USER: "0" });

    const row = await documentRow(id);
    expect(row.status).toBe("ready");
    expect(row.warnings).toEqual([expect.objectContaining({ page: 41, code: "text_limit" })]);
    const [stored] = await sql().query(
      "select coalesce(sum(length(text)), 0)::int as n, max(page)::int as last from document_pages where document_id = $1",
      [id],
    );
    expect(stored).toMatchObject({ last: 41 });
    expect((stored as { n: number }).n).toBeLessThanOrEqual(MAX_DOCUMENT_CHARS);
  }, 60_000);
});

describe("token budget", () => {
  it("lets three bombs ingested at once spend at most the budget plus one range's worth", async () => {
    const owner = await login();
    // Room for one bomb's capped page (about 9,600 tokens) and the start of a second, not for three.
    await spend(owner.user.id, USER_BUDGET - 15_000);
    const ids = await Promise.all([1, 2, 3].map(async (seed) => storedDocument(owner, await makeCompressedTextPdf(4_000_000, { seed }))));
    // PGlite answers one query at a time: three bombs' writes can queue past the 5 s default before their turn.
    await Promise.all(ids.map((id) => deliver({ tenantId: "acme", userId: owner.user.id, documentId: id, fromPage: 1 }, { DB_TIMEOUT_MS: "30000" })));

    const rows = await Promise.all(ids.map(documentRow));
    expect(rows.map((r) => r.status).sort()).toEqual(["failed", "ready", "ready"]);
    expect(rows.find((r) => r.status === "failed")!.error_message).toMatch(/daily token budget is used up.*nothing was stored.*retry/i);
    const [usage] = await sql().query(
      "select sum(embedding_tokens)::int as spent, max(embedding_tokens)::int as range from usage_events where user_id = $1 and kind = 'embedding'",
      [owner.user.id],
    );
    const { spent, range } = usage as { spent: number; range: number };
    expect(USER_BUDGET - 15_000 + spent).toBeLessThanOrEqual(USER_BUDGET + range);
  });

  it("stops a document at the range the budget cannot pay for, keeps what it stored, and continues on retry", async () => {
    const owner = await login();
    // One token short: one range may still start (and overspend by its own size); the other may not.
    const usage = await spend(owner.user.id, USER_BUDGET - 1);
    const pages = Array.from({ length: 60 }, (_, i) => `Page ${i + 1} of the budget report covers region ${i + 1}.`);
    const created = await json(await upload(owner.token, makeTextPdf(pages), "budget.pdf"));
    const { doc } = await waitForIngestion(owner.token, created.id);
    expect(doc).toMatchObject({ status: "failed", error: { code: "quota_exceeded" } });
    expect(doc.error.message).toMatch(/retry/i);
    // Ranges 1-50 and 51-60 run side by side: whichever reserves first is the one the budget still pays for.
    expect([10, 50]).toContain(doc.progress.pages_done);
    expect(await count("select 1 from document_pages where document_id = $1", [created.id])).toBe(doc.progress.pages_done);
    const embeddingsBefore = await count("select 1 from usage_events where user_id = $1 and kind = 'embedding'", [owner.user.id]);
    expect(embeddingsBefore).toBe(1);

    await sql().query("delete from usage_events where id = $1", [usage]);
    await forgetUsageBuckets("acme");
    expect((await call(`/v1/files/${created.id}/retry`, { method: "POST", token: owner.token })).status).toBe(202);
    const after = (await waitForIngestion(owner.token, created.id)).doc;
    expect(after).toMatchObject({ status: "ready", page_count: 60, error: null });
    expect(await count("select 1 from document_pages where document_id = $1", [created.id])).toBe(60);
    // The range stored before was not embedded (nor paid for) again.
    expect(await count("select 1 from usage_events where user_id = $1 and kind = 'embedding'", [owner.user.id])).toBe(2);
  });
});
