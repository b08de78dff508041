// Scanned pages through the whole pipeline: upload → queue → OCR by the OpenAI stand-in (real tesseract) →
// chunks and citations, with its usage metered, its limits enforced and its failures named.

import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import worker from "../../src/index.ts";
import type { IngestMessage } from "../../src/ingest/messages.ts";
import { call, fixturePdf, fixtureSource, json, login, search, upload, waitForIngestion } from "../support/api.ts";
import { cer } from "../support/cer.ts";
import { count, sql } from "../support/db.ts";
import { makeHugeImagePdf } from "../support/pdf-factory.ts";

async function ingested(fixture: string) {
  const user = await login();
  const created = await json(await upload(user.token, fixturePdf(fixture), fixture));
  const { doc } = await waitForIngestion(user.token, created.id, { timeoutMs: 120_000 });
  return { ...user, doc };
}

const pagesOf = async (documentId: string) =>
  (await sql().query("select page, text, source from document_pages where document_id = $1 order by page", [documentId])) as Array<{
    page: number;
    text: string;
    source: string;
  }>;

/** Runs the document's ingestion again from page 1, under a differently configured deployment. */
async function reingest(doc: { id: string }, user: { id: string }, overrides: Record<string, string>) {
  const db = sql();
  await db.transaction([
    db.query("delete from chunks where document_id = $1", [doc.id]),
    db.query("delete from document_pages where document_id = $1", [doc.id]),
    db.query("update documents set status = 'queued', pages_done = 0, ocr_pages = 0, warnings = '[]', error_code = null where id = $1", [doc.id]),
  ]);
  const body: IngestMessage = { tenantId: "acme", userId: user.id, documentId: doc.id, fromPage: 1 };
  const batch = createMessageBatch<IngestMessage>("docuchat-ingest", [{ id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body }]);
  const ctx = createExecutionContext();
  await worker.queue!(batch, { ...env, ...overrides } as never, ctx);
  await getQueueResult(batch, ctx);
  const [row] = await db.query("select status, error_code, error_message, warnings, ocr_pages from documents where id = $1", [doc.id]);
  return row as {
    status: string;
    error_code: string | null;
    error_message: string | null;
    warnings: Array<{ page: number; code: string }>;
    ocr_pages: number;
  };
}

describe("OCR of scanned pages", () => {
  it("reads a Persian scan into searchable text, marks its page as OCR and meters the tokens", async () => {
    const { token, user, doc } = await ingested("fa-1.scan.pdf");
    expect(doc).toMatchObject({ status: "ready", page_count: 1 });
    const [page] = await pagesOf(doc.id);
    expect(page).toMatchObject({ page: 1, source: "ocr" });
    expect(cer(page!.text, fixtureSource("fa-1.txt"))).toBeLessThanOrEqual(0.1);

    const [usage] = await sql().query(
      "select sum(prompt_tokens)::int as prompt, sum(completion_tokens)::int as completion, min(model) as model from usage_events where user_id = $1 and kind = 'ocr'",
      [user.id],
    );
    expect(usage).toMatchObject({ model: "gpt-4.1-mini" });
    expect((usage as { prompt: number }).prompt).toBeGreaterThan(500);
    expect((usage as { completion: number }).completion).toBeGreaterThan(100);
    // The usage report counts OCR with everything else.
    const report = await json(await call("/v1/usage", { token }));
    expect(JSON.stringify(report)).toContain("gpt-4.1-mini");

    const hits = await search(token, { query: "کتابخانه روزهای پنجشنبه تا چه ساعتی باز است", top_k: 3 });
    expect(hits[0]).toMatchObject({ file_id: doc.id, page_start: 1 });
  });

  it("reads an English scan", async () => {
    const { doc } = await ingested("en-1.scan.pdf");
    expect(doc.status).toBe("ready");
    const [page] = await pagesOf(doc.id);
    expect(page!.source).toBe("ocr");
    expect(cer(page!.text, fixtureSource("en-1.txt"))).toBeLessThanOrEqual(0.05);
  });

  it("keeps citations page-accurate in a document that mixes a typed page and a scanned one", async () => {
    const { token, doc } = await ingested("fa-mixed.pdf");
    expect(doc).toMatchObject({ status: "ready", page_count: 2 });
    expect((await pagesOf(doc.id)).map((p) => p.source)).toEqual(["text_layer", "ocr"]);
    const typed = await search(token, { query: "قطار شبانه از تهران چه ساعتی حرکت می‌کند", top_k: 1, file_ids: [doc.id] });
    expect(typed[0]!.page_start).toBe(1);
    const scanned = await search(token, { query: "جریمهٔ دیرکرد کتاب برای هر روز چقدر است", top_k: 1, file_ids: [doc.id] });
    expect(scanned[0]!.page_start).toBe(2);
  });
});

describe("OCR limits and failures", () => {
  it("skips pages past the per-document OCR limit and says so on the document", async () => {
    const { user, doc } = await ingested("fa-mixed.pdf");
    const row = await reingest(doc, user, { OCR_MAX_PAGES_PER_DOCUMENT: "0" });
    expect(row).toMatchObject({ status: "ready", ocr_pages: 0 });
    expect(row.warnings).toEqual([expect.objectContaining({ page: 2, code: "ocr_limit" })]);
    expect((await pagesOf(doc.id)).map((p) => p.page)).toEqual([1]);
  });

  it("with OCR_MODEL=off a scan fails as no_text, naming OCR as the reason", async () => {
    const { user, doc } = await ingested("en-1.scan.pdf");
    const row = await reingest(doc, user, { OCR_MODEL: "off" });
    expect(row).toMatchObject({ status: "failed", error_code: "no_text" });
    expect(row.error_message).toMatch(/OCR is off/);
    expect(row.warnings).toEqual([expect.objectContaining({ page: 1, code: "ocr_off" })]);
    expect(await count("select 1 from chunks where document_id = $1", [doc.id])).toBe(0);
  });

  it("retries a failed document when the same file is uploaded again", async () => {
    const { token, user, doc } = await ingested("en-1.scan.pdf");
    expect((await reingest(doc, user, { OCR_MODEL: "off" })).status).toBe("failed");
    // OCR is back (the default deployment): the same bytes are queued again instead of answered as a duplicate.
    const again = await upload(token, fixturePdf("en-1.scan.pdf"), "en-1.scan.pdf");
    expect(again.status).toBe(202);
    expect(await json(again)).toMatchObject({ id: doc.id, status: "queued", error: null, warnings: [] });
    const { doc: retried } = await waitForIngestion(token, doc.id, { timeoutMs: 120_000 });
    expect(retried).toMatchObject({ status: "ready", ocr_pages: 1 });
    // A ready document is a plain duplicate again.
    expect((await upload(token, fixturePdf("en-1.scan.pdf"), "en-1.scan.pdf")).status).toBe(200);
  });

  it("fails as ocr_unavailable, never silently empty, when the OCR backend cannot run", async () => {
    const { user, doc } = await ingested("en-1.scan.pdf");
    const row = await reingest(doc, user, { OPENAI_BASE_URL: inject("openaiWithoutOcrUrl") });
    expect(row).toMatchObject({ status: "failed", error_code: "ocr_unavailable" });
    expect(row.error_message).toMatch(/tesseract/);
    expect(row.warnings).toEqual([expect.objectContaining({ page: 1, code: "ocr_unavailable" })]);
  });

  it("fails a decompression bomb quickly as no_text, saying which images are not decoded", async () => {
    const { token } = await login();
    const created = await json(await upload(token, await makeHugeImagePdf(12_000), "bomb.pdf"));
    const { doc } = await waitForIngestion(token, created.id);
    expect(doc).toMatchObject({ status: "failed", error: { code: "no_text", message: expect.stringMatching(/10 megapixels/) }, ocr_pages: 0 });
  });

  it("stops OCR when the daily token budget is used up", async () => {
    const { user, doc } = await ingested("en-1.scan.pdf");
    const row = await reingest(doc, user, { DAILY_TOKEN_BUDGET_PER_USER: "10" });
    expect(row).toMatchObject({ status: "failed", error_code: "quota_exceeded", ocr_pages: 0 });
    expect(row.warnings).toEqual([expect.objectContaining({ page: 1, code: "ocr_budget" })]);
  });
});
