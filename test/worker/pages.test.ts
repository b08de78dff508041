// GET /v1/files/{id}/pages: the stored text of a window of pages with its source, the document's warnings and
// OCR count, and what OCR adds to the usage report. Happy path, windowing, validation, and owner-only access.
import { beforeAll, describe, expect, it } from "vitest";
import { call, expectErrorShape, json, login, upload, waitForIngestion } from "../support/api.ts";
import { usageReport } from "../support/chat.ts";
import { count, sql } from "../support/db.ts";
import { makeBrokenPagePdf, makeTextPdf } from "../support/pdf-factory.ts";
import { forgetUsageBuckets } from "../support/usage-buckets.ts";

const TEXTS = [
  "Alpine meadows bloom with gentians in early summer.",
  "Glaciers carve U-shaped valleys over thousands of years.",
  "Mountain huts offer shelter to hikers crossing the passes.",
];

interface PagesBody {
  file_id: string;
  from: number;
  to: number;
  pages_total: number | null;
  pages: Array<{ page: number; text: string; source: "text_layer" | "ocr" }>;
  warnings: Array<{ page: number; code: string; message: string }>;
  next_from: number | null;
}

const pagesOf = async (token: string, id: string, query = "", tenant = "acme") => {
  const res = await call(`/v1/files/${id}/pages${query}`, { token, tenant });
  return { res, body: await json<PagesBody>(res) };
};

let owner: Awaited<ReturnType<typeof login>>;
let docId: string;

beforeAll(async () => {
  owner = await login(undefined, "acme");
  docId = (await json(await upload(owner.token, makeTextPdf(TEXTS), "alps.pdf"))).id;
  expect((await waitForIngestion(owner.token, docId)).doc).toMatchObject({ status: "ready", page_count: 3, ocr_pages: 0, warnings: [] });
});

describe("page text", () => {
  it("returns the three pages' texts, read from the text layer", async () => {
    const { res, body } = await pagesOf(owner.token, docId, "?from=1&to=3");
    expect(res.status).toBe(200);
    expect(body).toEqual({
      file_id: docId,
      from: 1,
      to: 3,
      pages_total: 3,
      pages: TEXTS.map((text, i) => ({ page: i + 1, text, source: "text_layer" })),
      warnings: [],
      next_from: null,
    });
  });

  it("defaults to pages 1-50, and windows from/to with next_from", async () => {
    const all = await pagesOf(owner.token, docId);
    expect(all.body).toMatchObject({ from: 1, to: 50, next_from: null });
    expect(all.body.pages.map((p) => p.page)).toEqual([1, 2, 3]);

    const second = await pagesOf(owner.token, docId, "?from=2&to=2");
    expect(second.body).toMatchObject({ from: 2, to: 2, pages_total: 3, next_from: 3 });
    expect(second.body.pages).toEqual([{ page: 2, text: TEXTS[1], source: "text_layer" }]);

    const tail = await pagesOf(owner.token, docId, "?from=3");
    expect(tail.body).toMatchObject({ from: 3, to: 52, next_from: null });
    expect(tail.body.pages.map((p) => p.page)).toEqual([3]);

    // Past the last page: an empty window, not an error.
    const past = await pagesOf(owner.token, docId, "?from=10&to=12");
    expect(past.res.status).toBe(200);
    expect(past.body).toMatchObject({ pages: [], next_from: null });
  });

  it("walks a 60-page document in windows of 50", async () => {
    const { token } = await login();
    const texts = Array.from({ length: 60 }, (_, i) => `Page ${i + 1} describes lighthouse number ${i + 1} on the coast.`);
    const id = (await json(await upload(token, makeTextPdf(texts), "sixty.pdf"))).id;
    expect((await waitForIngestion(token, id)).doc.status).toBe("ready");

    const first = await pagesOf(token, id);
    expect(first.body).toMatchObject({ from: 1, to: 50, pages_total: 60, next_from: 51 });
    expect(first.body.pages.map((p) => p.page)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const second = await pagesOf(token, id, `?from=${first.body.next_from}`);
    expect(second.body).toMatchObject({ from: 51, to: 100, next_from: null });
    expect(second.body.pages.map((p) => p.text)).toEqual(texts.slice(50));
  });

  it("leaves out a page that could not be read, and lists its warning in the window and on the document", async () => {
    const { token } = await login();
    const id = (
      await json(await upload(token, makeBrokenPagePdf(["First page reads fine.", "Never read.", "Third page reads fine too."]), "broken-middle.pdf"))
    ).id;
    const { doc } = await waitForIngestion(token, id);
    expect(doc).toMatchObject({ status: "ready", ocr_pages: 0 });
    expect(doc.warnings).toEqual([{ page: 2, code: "page_unreadable", message: expect.stringContaining("Page 2") }]);

    const { body } = await pagesOf(token, id, "?from=1&to=3");
    // (pdf.js finds the /Count wrong and counts 2 pages; page 1 reads, page 2 never does.)
    expect(body.pages[0]).toEqual({ page: 1, text: "First page reads fine.", source: "text_layer" });
    expect(body.pages.map((p) => p.page)).not.toContain(2);
    expect(body.warnings).toEqual(doc.warnings);
    expect((await pagesOf(token, id, "?from=3&to=3")).body.warnings).toEqual([]);
  });

  it("answers while the document is still being ingested, with the pages stored so far", async () => {
    const { token } = await login();
    const id = (await json(await upload(token, makeTextPdf(["One.", "Two.", "Three."]), "partial.pdf"))).id;
    expect((await waitForIngestion(token, id)).doc.status).toBe("ready");
    // As in the middle of ingestion: processing, and only the first page stored.
    await sql().query("update documents set status = 'processing', pages_done = 1 where id = $1", [id]);
    await sql().query("delete from document_pages where document_id = $1 and page > 1", [id]);
    const { res, body } = await pagesOf(token, id, "?from=1&to=3");
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ pages_total: 3, pages: [{ page: 1, text: "One.", source: "text_layer" }] });
  });

  it("fails a document of blank, image-free pages as no_text, with no chunks and no pages", async () => {
    const { token } = await login();
    const id = (await json(await upload(token, makeTextPdf(["", "", ""]), "blank.pdf"))).id;
    const { doc } = await waitForIngestion(token, id);
    expect(doc).toMatchObject({ status: "failed", error: { code: "no_text" }, chunk_count: 0, ocr_pages: 0, warnings: [] });
    expect(await count("select 1 from chunks where document_id = $1", [id])).toBe(0);
    expect(await count("select 1 from document_pages where document_id = $1", [id])).toBe(0);
    expect((await pagesOf(token, id)).body).toMatchObject({ pages_total: 3, pages: [], warnings: [], next_from: null });
  });
});

describe("document JSON", () => {
  it("lists warnings in page order with ocr_pages", async () => {
    const { token } = await login();
    const id = (await json(await upload(token, makeTextPdf(["Some text.", "More text.", "Last text."]), "warned.pdf"))).id;
    expect((await waitForIngestion(token, id)).doc.status).toBe("ready");
    const warnings = [
      { page: 3, code: "ocr_limit", message: "Page 3 was not OCRed: limit" },
      { page: 1, code: "ocr_failed", message: "Page 1 was not OCRed: failed" },
    ];
    await sql().query("update documents set ocr_pages = 2, warnings = $2::jsonb where id = $1", [id, JSON.stringify(warnings)]);
    const doc = await json(await call(`/v1/files/${id}`, { token }));
    expect(doc).toMatchObject({ ocr_pages: 2, warnings: [warnings[1], warnings[0]] });
    expect((await json(await call("/v1/files", { token }))).files[0]).toMatchObject({ ocr_pages: 2, warnings: [warnings[1], warnings[0]] });
    expect((await pagesOf(token, id, "?from=2&to=3")).body.warnings).toEqual([warnings[0]]);
  });

  it("is described in the OpenAPI document, with the new route", async () => {
    const doc = await json(await call("/openapi.json", { tenant: null }));
    const op = doc.paths["/v1/files/{id}/pages"]?.get;
    expect(op).toBeDefined();
    expect(op.security).toEqual([{ tenant: [], bearerAuth: [] }]);
    expect(op.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual(
      expect.arrayContaining(["path:id", "query:from", "query:to"]),
    );
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["200", "400", "401", "404"]));
    const schema = doc.components.schemas.Document;
    expect(schema.required).toEqual(expect.arrayContaining(["warnings", "ocr_pages"]));
    expect(JSON.stringify(schema.properties.error)).toMatch(/ocr_unavailable.*quota_exceeded/);
    expect(doc.components.schemas.Page.properties.source.enum).toEqual(["text_layer", "ocr"]);
  });
});

describe("validation", () => {
  it.each([
    ["?from=1&to=51", "51 pages"],
    ["?from=10&to=60", "51 pages, not from 1"],
    ["?from=1&to=1000000", "far too many pages"],
    ["?from=5&to=4", "to before from"],
    ["?from=0", "from 0"],
    ["?from=-1", "negative from"],
    ["?from=abc", "from not a number"],
    ["?from=1.5", "fractional from"],
    ["?from=", "empty from"],
    ["?to=0", "to 0"],
    ["?to=two", "to not a number"],
    ["?from=501", "from past the page limit"],
  ])("refuses %s (%s) with 400 validation_failed", async (query, _label) => {
    const { res, body } = await pagesOf(owner.token, docId, query);
    expect(res.status).toBe(400);
    expectErrorShape(body, "validation_failed");
  });

  it("accepts exactly 50 pages", async () => {
    const { res, body } = await pagesOf(owner.token, docId, "?from=1&to=50");
    expect(res.status).toBe(200);
    expect(body.pages).toHaveLength(3);
  });

  it("refuses a malformed id (400) and answers 404 file_not_found for an unknown one", async () => {
    expect((await call("/v1/files/not-a-uuid/pages", { token: owner.token })).status).toBe(400);
    const { res, body } = await pagesOf(owner.token, crypto.randomUUID());
    expect(res.status).toBe(404);
    expectErrorShape(body, "file_not_found");
  });
});

describe("access", () => {
  it.each([
    ["another user of the same tenant", "acme"],
    ["a user of another tenant", "globex"],
  ])("%s gets 404 file_not_found", async (_label, tenant) => {
    const { token } = await login(undefined, tenant);
    const { res, body } = await pagesOf(token, docId, "?from=1&to=3", tenant);
    expect(res.status).toBe(404);
    expectErrorShape(body, "file_not_found");
    expect(JSON.stringify(body)).not.toContain("Alpine");
  });

  it("refuses a request without a token (401) and the owner's token through another tenant (403)", async () => {
    const anonymous = await call(`/v1/files/${docId}/pages`);
    expect(anonymous.status).toBe(401);
    expectErrorShape(await json(anonymous), "unauthorized");
    expect((await call(`/v1/files/${docId}/pages`, { token: owner.token, tenant: "globex" })).status).toBe(403);
  });
});

describe("OCR usage", () => {
  it("reports OCR tokens per model and counts them in the totals and the daily budget", async () => {
    const { token, user } = await login();
    await sql().query(
      "insert into usage_events (tenant_id, user_id, kind, model, prompt_tokens, completion_tokens) values ('acme', $1, 'ocr', 'gpt-4.1-mini', 1200, 80)",
      [user.id],
    );
    await forgetUsageBuckets("acme");
    const usage = await usageReport(token);
    expect(usage.last_24h).toMatchObject({ requests: 1, prompt_tokens: 1200, completion_tokens: 80, embedding_tokens: 0, total_tokens: 1280 });
    expect(usage.last_24h.by_model).toEqual({
      "gpt-4.1-mini": { requests: 1, prompt_tokens: 1200, completion_tokens: 80, embedding_tokens: 0, total_tokens: 1280 },
    });
    expect(usage.last_7d).toEqual(usage.last_24h);
    expect(usage.daily_budget.user.used).toBe(1280);
  });
});
