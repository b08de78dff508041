// What pdf.js reads besides the PDF (CMaps, standard fonts) comes from the Worker's static assets, and where a
// PDF may start: inside workerd, with the ASSETS binding that wrangler.toml declares.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { openPdf, type PdfResources } from "../../src/pdf/open.ts";
import { assetResources } from "../../src/pdf/resources.ts";
import { readTextLayer } from "../../src/pdf/text-layer.ts";
import { expectErrorShape, json, login, search, upload, waitForIngestion } from "../support/api.ts";
import { sql } from "../support/db.ts";
import { makeCjkPdf, makeTextPdf, withLeadingBytes } from "../support/pdf-factory.ts";

const CHINESE = "中文文本测试";
/** The binding from wrangler.toml's [assets] (test/env.d.ts types bindings loosely). */
const workerAssets = () => assetResources({ ASSETS: env.ASSETS as Fetcher | undefined });

/** The Worker's resources, recording every path pdf.js asked for and whether it was there. */
function recorded() {
  const inner = workerAssets()!;
  const asked: Array<{ path: string; found: boolean }> = [];
  const resources: PdfResources = {
    async fetchAsset(path) {
      const bytes = await inner.fetchAsset(path);
      asked.push({ path, found: !!bytes?.length });
      return bytes;
    },
  };
  return { resources, asked };
}

async function pageText(bytes: Uint8Array, resources?: PdfResources): Promise<string> {
  const pdf = await openPdf(bytes, resources);
  try {
    const page = await pdf.getPage(1);
    return (await readTextLayer(page)).text;
  } finally {
    await pdf.loadingTask.destroy();
  }
}

describe("pdf.js data from the static assets", () => {
  it("has the ASSETS binding, serving pdf.js's CMaps and standard fonts from public/pdfjs/", async () => {
    expect(env.ASSETS).toBeDefined();
    const resources = workerAssets()!;
    for (const path of ["pdfjs/cmaps/UniGB-UCS2-H.bcmap", "pdfjs/cmaps/Adobe-Japan1-UCS2.bcmap", "pdfjs/standard_fonts/FoxitSymbol.pfb"]) {
      expect((await resources.fetchAsset(path))?.length, path).toBeGreaterThan(100);
    }
    expect(await resources.fetchAsset("pdfjs/cmaps/No-Such-CMap.bcmap")).toBeNull();
    // The cache hands out copies: changing one does not change the next.
    const first = (await resources.fetchAsset("pdfjs/cmaps/UniGB-UCS2-H.bcmap"))!;
    first.fill(0);
    expect((await resources.fetchAsset("pdfjs/cmaps/UniGB-UCS2-H.bcmap"))!.some((b) => b !== 0)).toBe(true);
  });

  it("reads Chinese in a non-embedded CID font (UniGB-UCS2-H) with the CMaps, and loses it without them", async () => {
    const bytes = makeCjkPdf([CHINESE, "第二行文字"]);
    const { resources, asked } = recorded();
    expect(await pageText(bytes.slice(), resources)).toBe(`${CHINESE}\n第二行文字`);
    // code -> CID, then CID -> Unicode.
    expect(asked).toEqual(
      expect.arrayContaining([
        { path: "pdfjs/cmaps/UniGB-UCS2-H.bcmap", found: true },
        { path: "pdfjs/cmaps/Adobe-GB1-UCS2.bcmap", found: true },
      ]),
    );
    expect(await pageText(bytes.slice())).not.toContain("中文");
  });

  it("loads the standard font data for a non-embedded standard font, and the text is unchanged", async () => {
    const bytes = makeTextPdf(["Plain Helvetica, not embedded"]);
    const { resources, asked } = recorded();
    expect(await pageText(bytes.slice(), resources)).toBe("Plain Helvetica, not embedded");
    expect(asked.filter((a) => a.path.startsWith("pdfjs/standard_fonts/"))).toEqual([
      { path: "pdfjs/standard_fonts/LiberationSans-Regular.ttf", found: true },
    ]);
    expect(await pageText(bytes.slice())).toBe("Plain Helvetica, not embedded");
  });

  it("never looks up a name pdf.js did not take from its own lists", async () => {
    // pdf.js refuses unknown CMap names itself; the page is still read (without that font's text).
    const bytes = new TextDecoder("latin1").decode(makeCjkPdf([CHINESE])).replace("/Encoding /UniGB-UCS2-H", "/Encoding /..-..-etc-XH");
    const { resources, asked } = recorded();
    const text = await pageText(
      Uint8Array.from(bytes, (ch) => ch.charCodeAt(0)),
      resources,
    );
    expect(text).not.toContain("中文");
    expect(asked.filter((a) => a.path.includes(".."))).toEqual([]);
  });

  it("ingests the Chinese PDF uploaded through the API: ready, its text in the index, found by search", async () => {
    const { token } = await login();
    const res = await upload(token, makeCjkPdf([CHINESE, "第二行文字"]), "chinese.pdf");
    expect(res.status).toBe(202);
    const { id } = await json(res);
    const { doc } = await waitForIngestion(token, id);
    expect(doc.status).toBe("ready");
    const rows = (await sql().query("select text from chunks where document_id = $1", [id])) as Array<{ text: string }>;
    expect(rows.map((r) => r.text).join("\n")).toContain(CHINESE);
    const results = await search(token, { query: "中文" });
    expect(results[0]?.file_id).toBe(id);
    expect(results[0]?.text).toContain(CHINESE);
  });
});

describe("the %PDF- header within the first 1024 bytes", () => {
  const pdf = () => makeTextPdf(["Header offset probe: the words after the junk bytes.", "A second page."]);

  it.each([
    ["100 junk bytes", 100],
    ["1019 junk bytes (the header's last byte is byte 1024)", 1019],
  ])("accepts a PDF after %s (202) and ingests it to ready", async (_, junk) => {
    const { token } = await login();
    const res = await upload(token, withLeadingBytes(pdf(), `${"x".repeat(junk - 1)}\n`), "offset.pdf");
    expect(res.status).toBe(202);
    const { id } = await json(res);
    const { doc } = await waitForIngestion(token, id);
    expect(doc.status).toBe("ready");
    expect(doc.page_count).toBe(2);
    const results = await search(token, { query: "Header offset probe" });
    expect(results[0]?.text).toContain("Header offset probe");
  });

  it.each([
    ["1020 junk bytes (the header ends past byte 1024)", 1020],
    ["2000 junk bytes", 2000],
  ])("refuses a PDF after %s with 415", async (_, junk) => {
    const { token } = await login();
    const res = await upload(token, withLeadingBytes(pdf(), "x".repeat(junk)), "late.pdf");
    expect(res.status).toBe(415);
    expectErrorShape(await json(res), "unsupported_media_type");
  });
});
