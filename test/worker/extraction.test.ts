// Text from the text layer, inside workerd with the real pdf.js build: each producer's Persian PDFs against the
// text they were made from (character error rate after one canonical normalisation), the LaTeX manuals,
// forms and annotations, broken pages, and when a page is sent to OCR.
import { describe, expect, it } from "vitest";
import { extractPages } from "../../src/ingest/extract.ts";
import { pageImage } from "../../src/ocr/page-image.ts";
import { MAX_IMAGE_PIXELS, openPdf } from "../../src/pdf/open.ts";
import { needsOcr } from "../../src/pdf/trust.ts";
import { fixturePdf, fixtureSource } from "../support/api.ts";
import { cer } from "../support/cer.ts";
import {
  makeBrokenPagePdf,
  makeColumnsAndTablePdf,
  makeCyclicPagesPdf,
  makeFilledFormPdf,
  makeHugeImagePdf,
  makeTextPdf,
} from "../support/pdf-factory.ts";

async function readAll(bytes: Uint8Array) {
  const pdf = await openPdf(bytes);
  try {
    return await extractPages(pdf, 1, pdf.numPages, { ocr: null, ocrPagesLeft: 0 });
  } finally {
    await pdf.loadingTask.destroy();
  }
}

const textOf = (result: Awaited<ReturnType<typeof readAll>>) => result.pages.map((p) => p.text).join("\n\n");

// The most each producer's fixtures may differ from their source. pdftotext (poppler 22.12) on the same files:
// Chromium 0.05–0.09, LibreOffice 0.16–0.19, Pango 0.21–0.42, XeLaTeX 0.17–0.35 (npm run bench:extract).
const BORN_DIGITAL: Array<[fixture: string, maxCer: number]> = [
  ["fa-1.chromium.pdf", 0.01],
  ["fa-2.chromium.pdf", 0.01],
  ["fa-3.chromium.pdf", 0.01],
  ["fa-1.pango.pdf", 0.01],
  ["fa-2.pango.pdf", 0.01],
  ["fa-3.pango.pdf", 0.01],
  ["fa-1.xelatex.pdf", 0.02],
  ["fa-2.xelatex.pdf", 0.02],
  // Its table is typeset left to right (babel's tabular): cells come out in the order a reader's eye meets them.
  ["fa-3.xelatex.pdf", 0.13],
  ["fa-1.libreoffice.pdf", 0.02],
  ["fa-2.libreoffice.pdf", 0.02],
  // Writer maps its lam-alef ligature to "لا" in a glyph that pdf.js reverses with the run ("کالس"): 0.03.
  ["fa-3.libreoffice.pdf", 0.035],
  ["en-1.chromium.pdf", 0.01],
];

describe("text layer: Persian from every producer", () => {
  it.each(BORN_DIGITAL)("%s reads within its error budget of the source", async (fixture, maxCer) => {
    const result = await readAll(fixturePdf(fixture));
    const source = fixtureSource(`${fixture.split(".")[0]}.txt`);
    expect(cer(textOf(result), source)).toBeLessThanOrEqual(maxCer);
    expect(result.warnings).toEqual([]);
    expect(result.pages.every((p) => p.source === "text_layer")).toBe(true);
  });

  it("keeps ZWNJ words, Latin commands and URLs in Persian lines in their logical order", async () => {
    for (const producer of ["chromium", "pango", "libreoffice"]) {
      const text = textOf(await readAll(fixturePdf(`fa-1.${producer}.pdf`)));
      const source = fixtureSource("fa-1.txt");
      // Every ZWNJ word of the source comes out whole, with its ZWNJ.
      const zwnjWords = [...new Set(source.match(/[\u0600-\u06FF]+\u200C[\u0600-\u06FF\u200C]+/g) ?? [])];
      expect(zwnjWords.length).toBeGreaterThan(3);
      for (const word of zwnjWords) expect(text, `${producer}: ${word}`).toContain(word);
      for (const latin of source.match(/[A-Za-z][\w./:-]*[\w/]/g) ?? []) expect(text, `${producer}: ${latin}`).toContain(latin);
    }
  });

  it("separates Pango's words although the PDF has no space glyphs", async () => {
    const text = textOf(await readAll(fixturePdf("fa-2.pango.pdf")));
    const words = fixtureSource("fa-2.txt")
      .split(/\s+/)
      .filter((w) => /^[\u0600-\u06FF\u200C]{3,}$/.test(w));
    const found = new Set(text.split(/\s+/));
    expect(words.filter((w) => found.has(w)).length / words.length).toBeGreaterThan(0.97);
  });
});

describe("text layer: the LaTeX manuals keep reading well", () => {
  it("lshort-en: words, hyphenation repaired, sentences whole", async () => {
    const text = textOf(await readAll(fixturePdf("lshort-en.pdf")));
    expect(text).toContain("Each letter is considered to be the name of a variable and will be\ntypeset as such.");
    expect(text).not.toMatch(/\p{Ll}-\n\p{Ll}/u);
    expect(text).toMatch(/The Not So Short\s+Introduction to LATEX/);
  });

  it("lshort-fa: Persian in logical order with its ZWNJs", async () => {
    const result = await readAll(fixturePdf("lshort-fa.pdf"));
    const page15 = result.pages.find((p) => p.page === 15)!.text;
    expect(page15).toContain("تک یک برنامهٔ کامپیوتری است که توسط دونالد کنوث");
    expect(page15).toContain("LATEX چگونه کار می‌کند");
    expect(page15).toContain("کنوث در سال 1977 شروع به نوشتن تک کرد");
  });
});

describe("text layer: columns and tables", () => {
  it("reads two columns in column order and a table row by row", async () => {
    const left = ["The left column starts here and", "goes on down the page until it", "ends with the word alpha."];
    const right = ["The right column begins after it", "and ends with the word omega."];
    const result = await readAll(
      makeColumnsAndTablePdf(left, right, [
        ["Name", "Day", "Time"],
        ["Calligraphy", "Monday", "16:00"],
        ["Python", "Sunday", "17:00"],
      ]),
    );
    const text = result.pages[0]!.text;
    expect(text).toContain(left.join("\n"));
    expect(text).toContain(right.join("\n"));
    expect(text.indexOf("alpha")).toBeLessThan(text.indexOf("The right column"));
    expect(text).toContain("Name Day Time\nCalligraphy Monday 16:00\nPython Sunday 17:00");
  });
});

describe("text layer: forms, annotations, broken pages", () => {
  it("indexes filled-in form values and free-text annotations with their page", async () => {
    const result = await readAll(makeFilledFormPdf("Applicant name:", "Ada Lovelace", "Approved by the committee"));
    expect(result.pages).toHaveLength(1);
    expect(result.pages[0]!.text).toContain("Applicant name:");
    expect(result.pages[0]!.text).toContain("Ada Lovelace");
    expect(result.pages[0]!.text).toContain("Approved by the committee");
  });

  it("reads the pages that can be read and records the broken one", async () => {
    const result = await readAll(makeBrokenPagePdf(["First page about apples.", "Second page.", "Third page about pears."]));
    expect(result.pages.map((p) => p.page)).toContain(1);
    expect(result.pages[0]!.text).toContain("apples");
    expect(result.warnings).toEqual([expect.objectContaining({ page: 2, code: "page_unreadable" })]);
  });

  it("turns a page tree that loops into a warning, not a crash or a retry", async () => {
    const result = await readAll(makeCyclicPagesPdf());
    expect(result.pages).toEqual([]);
    expect(result.warnings[0]).toMatchObject({ page: 1, code: "page_unreadable", message: expect.stringMatching(/circular/i) });
  });
});

describe("when the text layer cannot be trusted", () => {
  it("sends a scanned page to OCR, and not a page with a good text layer or a blank one", async () => {
    const scan = await openPdf(fixturePdf("fa-1.scan.pdf"));
    const scanVerdict = await needsOcr(await scan.getPage(1), "");
    expect(scanVerdict?.reason).toMatch(/no text layer/);
    expect(scanVerdict?.images?.[0]?.coverage).toBeGreaterThan(0.9);

    const born = await openPdf(fixturePdf("fa-1.chromium.pdf"));
    expect(await needsOcr(await born.getPage(1), fixtureSource("fa-1.txt"))).toBeNull();
    const blank = await openPdf(makeTextPdf([" "]));
    expect(await needsOcr(await blank.getPage(1), "")).toBeNull();
  });

  it("sends a page whose text is mostly unmapped glyphs to OCR", async () => {
    const pdf = await openPdf(makeTextPdf(["x"]));
    const page = await pdf.getPage(1);
    expect((await needsOcr(page, "\uE001\uE002\uE003 \uFFFD\uFFFD ab (cid:12)(cid:13)"))?.reason).toMatch(/unmapped/);
    expect(await needsOcr(page, "A normal sentence with one odd glyph \uE001 in it, and plenty of real text around it.")).toBeNull();
  });
});

describe("page images for OCR", () => {
  it("scales a scan down to 1600 px on its long side, as a grayscale PNG", async () => {
    const pdf = await openPdf(fixturePdf("fa-1.scan.pdf"));
    const image = await pageImage(await pdf.getPage(1));
    expect(image).not.toBeNull();
    expect(Math.max(image!.width, image!.height)).toBe(1600);
    expect([...image!.png.slice(1, 4)].map((c) => String.fromCharCode(c)).join("")).toBe("PNG");
    expect(image!.png[25]).toBe(0); // IHDR colour type 0: grayscale
  });

  it("refuses to decode a tiny file whose image would decode into hundreds of megabytes", async () => {
    const side = 12_000; // 144 megapixels of white from a few hundred KB of Flate
    const bytes = await makeHugeImagePdf(side);
    expect(bytes.length).toBeLessThan(1_000_000);
    expect(side * side).toBeGreaterThan(MAX_IMAGE_PIXELS);
    const pdf = await openPdf(bytes);
    const before = performance.now();
    expect(await pageImage(await pdf.getPage(1))).toBeNull();
    expect(performance.now() - before).toBeLessThan(5_000);
  });
});
