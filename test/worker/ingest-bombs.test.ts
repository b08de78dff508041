// PDFs built to exhaust memory fail the page they are on, with a clear code, not the isolate: a content stream that
// inflates past MAX_STREAM_BYTES (once, twice, or listed many times in a page's /Contents), a page of too many
// text items. The document still ends: ready with its other pages, or failed no_text. (bench:bombs has the memory.)
import { describe, expect, it } from "vitest";
import { MAX_PAGE_TEXT_ITEMS } from "../../src/pdf/limits.ts";
import { json, login, upload, waitForIngestion } from "../support/api.ts";
import { sql } from "../support/db.ts";
import { makeManyTextItemsPdf, makeWhitespaceBombPdf } from "../support/pdf-factory.ts";

async function ingest(bytes: Uint8Array) {
  const owner = await login();
  const created = await json(await upload(owner.token, bytes, "bomb.pdf"));
  const { doc } = await waitForIngestion(owner.token, created.id);
  const pages = (await sql().query("select page, text from document_pages where document_id = $1 order by page", [created.id])) as Array<{
    page: number;
    text: string;
  }>;
  return { doc, pages };
}

describe("decompression bombs", () => {
  it.each([
    ["300 MiB of whitespace in one content stream (299 KB file)", { mib: 300 }],
    ["the same, Flate-compressed twice (under 1 KB of stream)", { mib: 300, layers: 2 as const }],
    ["one 30 MiB stream listed 20 times in the page's /Contents", { mib: 30, repeat: 20 }],
    ["the 300 MiB stream declared an 8x8 image, but drawn as the page's content", { mib: 300, asImage: true }],
  ])("%s: that page fails as page_too_complex, the other page is read", async (_label, bomb) => {
    const { doc, pages } = await ingest(await makeWhitespaceBombPdf(bomb.mib, { ...bomb, text: "A readable first page about decompression bombs." }));
    expect(doc.status).toBe("ready");
    expect(doc.warnings).toEqual([
      {
        page: 2,
        code: "page_too_complex",
        message: expect.stringMatching(/^Page 2 was not read: it draws a stream that decodes to more than 32 MiB/),
      },
    ]);
    expect(pages.map((p) => p.page)).toEqual([1]);
    expect(pages[0]!.text).toContain("decompression bombs");
  });

  it("fails a document whose only page is a bomb as no_text, saying why", async () => {
    const { doc } = await ingest(await makeWhitespaceBombPdf(300));
    expect(doc).toMatchObject({ status: "failed", error: { code: "no_text" } });
    expect(doc.error.message).toMatch(/more than 32 MiB/);
  });
});

describe("text items", () => {
  it(`reads at most ${MAX_PAGE_TEXT_ITEMS} text items of a page (page_truncated), and the document is ready`, async () => {
    // 12,000 letters are ~24,000 items (pdf.js adds a space item between two): over the item limit, while their
    // text (~24,000 characters) is under every character limit.
    const { doc, pages } = await ingest(await makeManyTextItemsPdf(12_000));
    expect(doc.status).toBe("ready");
    expect(doc.warnings).toEqual([expect.objectContaining({ page: 1, code: "page_truncated" })]);
    const letters = pages[0]!.text.replace(/[^a]/g, "").length;
    expect(letters).toBeGreaterThan(5_000);
    expect(letters).toBeLessThan(12_000);
  });
});
