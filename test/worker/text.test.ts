// Text normalisation, chunking, and the test PDF factory, exercised inside workerd where they run in production.
import { Tiktoken } from "js-tiktoken/lite";
import cl100k_base from "js-tiktoken/ranks/cl100k_base";
import { getDocumentProxy } from "unpdf";
import { describe, expect, it } from "vitest";
import type { Chunk, PageText } from "../../src/ingest/chunker.ts";
import { chunkPages, countTokens, decodeTokens, encodeTokens } from "../../src/ingest/chunker.ts";
import { normalizeQuery, normalizeText } from "../../src/text/normalize.ts";
import { fixturePdf } from "../support/api.ts";
import { makeBlankPagesPdf, makeEncryptedPdf, makeGarbagePdf, makeImageOnlyPdf, makeTextPdf, truncate } from "../support/pdf-factory.ts";

const ZWNJ = "\u200C";

describe("normalizeText", () => {
  it("turns Arabic presentation forms back into letters", () => {
    expect(normalizeText("ﺑﺎﯾﺪ")).toBe("باید");
    expect(normalizeText("ﻻﺗک ﻧﻤﻮﻧﻪ")).toBe("لاتک نمونه");
  });

  it("restores the ZWNJ that presentation forms show as a non-joining glyph", () => {
    // ﻞ is a final-form lam directly followed by a letter: the word had a ZWNJ there.
    expect(normalizeText("ﻓﺎﯾﻞﻫﺎی")).toBe(`فایل${ZWNJ}های`);
    expect(normalizeText("ﻧﺴﺨﻪﻫﺎی")).toBe(`نسخه${ZWNJ}های`);
    // Joined forms get nothing.
    expect(normalizeText("ﻣﺜﺎﻟی")).toBe("مثالی");
  });

  it("removes bidi controls and invisible junk", () => {
    expect(normalizeText("\u200Fسلام\u200E \u202Bdunya\u202C \u2067x\u2069\u061C")).toBe("سلام dunya x");
    expect(normalizeText("\uFEFFhel\u00ADlo\u200B wor\u2060ld\u0007")).toBe("hello world");
    expect(normalizeText("a\uFFFDb")).toBe("ab");
  });

  it("keeps ZWNJ inside words, once, and never next to whitespace", () => {
    expect(normalizeText(`می${ZWNJ}شود`)).toBe(`می${ZWNJ}شود`);
    expect(normalizeText(`می${ZWNJ}${ZWNJ}${ZWNJ}شود`)).toBe(`می${ZWNJ}شود`);
    expect(normalizeText(`می${ZWNJ} شود ${ZWNJ}کرد${ZWNJ}\nرفت`)).toBe("می شود کرد\nرفت");
    expect(normalizeText(`${ZWNJ}خانه${ZWNJ}`)).toBe("خانه");
  });

  it("unifies Arabic yeh, alef maksura and kaf with the Persian letters; leaves teh marbuta", () => {
    expect(normalizeText("كيك")).toBe("کیک");
    expect(normalizeText("على")).toBe("علی");
    expect(normalizeText("مدرسة")).toBe("مدرسة");
  });

  it("maps Persian and Arabic-Indic digits to ASCII", () => {
    expect(normalizeText("۱۲۳۴۵۶۷۸۹۰")).toBe("1234567890");
    expect(normalizeText("٠١٢٣٤٥٦٧٨٩")).toBe("0123456789");
    expect(normalizeText("۳٫۱۴")).toBe("3.14");
  });

  it("removes tatweel and moves a stray tanwin back onto its word", () => {
    expect(normalizeText("مـــن")).toBe("من");
    expect(normalizeText("ﺑﻌﺪا ًدر")).toBe("بعداً در");
  });

  it("collapses whitespace, trims lines, keeps single newlines and paragraph breaks", () => {
    expect(normalizeText("  a \t\u00A0 b  \n  c \r\n\r\n\n\n d  \f e ")).toBe("a b\nc\n\nd\ne");
    expect(normalizeText("one\n \t \ntwo\u2029three")).toBe("one\n\ntwo\n\nthree");
    expect(normalizeText(" \n\t ")).toBe("");
  });

  it("joins words hyphenated at a line end (lower-case on both sides only)", () => {
    expect(normalizeText("a certain struc-\nture")).toBe("a certain structure");
    expect(normalizeText("see LaTeX-\nBased and 2-\n3")).toBe("see LaTeX-\nBased and 2-\n3");
  });

  it("NFKC folds compatibility characters", () => {
    expect(normalizeText("ﬁle ＡＢＣ")).toBe("file ABC");
  });

  it("is idempotent", () => {
    for (const s of ["ﻓﺎﯾﻞﻫﺎی ﺑﺎﯾﺪ", `  می${ZWNJ}${ZWNJ}شود \n\n\n x`, "struc-\nture ۱۲", "ﺑﻌﺪا ًدر"]) {
      expect(normalizeText(normalizeText(s))).toBe(normalizeText(s));
    }
  });

  it("normalizeQuery puts the query on one line", () => {
    expect(normalizeQuery("  What is\n\nﺑﺎﯾﺪ  \n ۲؟ ")).toBe("What is باید 2؟");
  });
});

// ---------------------------------------------------------------------------------------------

const reference = new Tiktoken(cl100k_base);

/** Deterministic pseudo-random generator (tests must not flake). */
function rng(seed: number) {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x7fffffff;
  };
}

const WORDS_EN = "the a of document search vector model page chunk token tenant server query answer file system index cache latency".split(" ");
const WORDS_FA = "این که را در از به با برای سند جستجو پاسخ صفحه متن فایل سرور باید می‌شود کتاب".split(" ");

function sentence(words: string[], next: () => number, n: number, end = "."): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(words[Math.floor(next() * words.length)]!);
  const s = out.join(" ");
  return s[0]!.toUpperCase() + s.slice(1) + end;
}

/** Pages whose every word is tagged with its page ("p3w17"), so the page of any character is known. */
function taggedPages(count: number, sentencesPerPage: number): PageText[] {
  const next = rng(7);
  let w = 0;
  return Array.from({ length: count }, (_, i) => {
    const page = i + 1;
    const sentences: string[] = [];
    for (let s = 0; s < sentencesPerPage; s++) {
      const n = 5 + Math.floor(next() * 20);
      sentences.push(`${Array.from({ length: n }, () => `p${page}w${w++}`).join(" ")}.`);
    }
    // A line break inside the page and a paragraph break, as extracted PDF text has.
    const half = Math.floor(sentences.length / 2);
    return { page, text: `${sentences.slice(0, half).join(" ")}\n\n${sentences.slice(half).join("\n")}` };
  });
}

const pageOfWord = (word: string) => Number(/^p(\d+)w/.exec(word)?.[1]);

/** The longest prefix of next that is also a suffix of prev. */
function overlapOf(prev: string, next: string): string {
  for (let k = Math.min(prev.length, next.length); k > 0; k--) {
    if (prev.endsWith(next.slice(0, k))) return next.slice(0, k);
  }
  return "";
}

/** exact: the text has no run over 64 characters, so counts equal tiktoken's own. */
function expectWellFormed(chunks: Chunk[], maxTokens: number, exact = true) {
  for (const c of chunks) {
    expect(c.tokenCount).toBe(countTokens(c.text));
    if (exact) expect(c.tokenCount).toBe(reference.encode(c.text, [], []).length);
    expect(c.tokenCount).toBeLessThanOrEqual(maxTokens);
    expect(c.text).toBe(c.text.trim());
    expect(c.text).not.toContain("\uFFFD");
    expect(c.pageStart).toBeLessThanOrEqual(c.pageEnd);
  }
}

describe("countTokens", () => {
  it("matches tiktoken's cl100k_base", () => {
    const samples = [
      "Hello, world! Tokenizers split text into pieces.",
      normalizeText("ﺳﺎﺧﺘﺎر ﻓﺎﯾﻞﻫﺎی ورودی در لاتک ۱۲۳"),
      "  spaces   and\n\nnewlines\t\ttabs  ",
      "\\documentclass[a4paper,11pt]{article} % comment",
      "emoji 👍🏽 and CJK 漢字かな",
    ];
    for (const s of samples) expect(countTokens(s), s).toBe(reference.encode(s, [], []).length);
  });

  it("encodes runs over 64 characters in slices (bounded cost), close to tiktoken's count", () => {
    const run = "abcdefghij".repeat(20);
    expect(countTokens(run)).toBe(
      countTokens(run.slice(0, 64)) + countTokens(run.slice(64, 128)) + countTokens(run.slice(128, 192)) + countTokens(run.slice(192)),
    );
    const exact = reference.encode(run, [], []).length;
    expect(Math.abs(countTokens(run) - exact) / exact).toBeLessThan(0.2);
  });

  it("treats special-token text as plain text instead of throwing", () => {
    expect(countTokens("before <|endoftext|> after")).toBe(reference.encode("before <|endoftext|> after", [], []).length);
  });

  it("round-trips through encodeTokens/decodeTokens, also for runs longer than a cached piece", () => {
    const long = `${"x".repeat(1000)} ${"سلام".repeat(300)}${" 👍".repeat(50)}`;
    expect(decodeTokens(encodeTokens(long))).toBe(long);
  });
});

describe("chunkPages", () => {
  it("returns nothing for no text", () => {
    expect(chunkPages([])).toEqual([]);
    expect(
      chunkPages([
        { page: 1, text: "" },
        { page: 2, text: "  \n\n \t" },
      ]),
    ).toEqual([]);
  });

  it("keeps a short document in one chunk", () => {
    const chunks = chunkPages([{ page: 3, text: "Solar panels convert sunlight into electricity." }]);
    expect(chunks).toEqual([{ text: "Solar panels convert sunlight into electricity.", pageStart: 3, pageEnd: 3, tokenCount: 7 }]);
  });

  it("skips empty pages but keeps real page numbers", () => {
    const chunks = chunkPages([
      { page: 1, text: "" },
      { page: 2, text: "First page with text." },
      { page: 3, text: " " },
      { page: 4, text: "Last page with text." },
    ]);
    expect(chunks).toEqual([
      {
        text: "First page with text.\nLast page with text.",
        pageStart: 2,
        pageEnd: 4,
        tokenCount: countTokens("First page with text.\nLast page with text."),
      },
    ]);
  });

  it("never exceeds maxTokens, with defaults and custom sizes", () => {
    const pages = taggedPages(12, 30);
    expectWellFormed(chunkPages(pages), 400);
    for (const [maxTokens, overlapTokens] of [
      [100, 20],
      [50, 0],
      [30, 10],
      [8, 2],
    ] as const) {
      expectWellFormed(chunkPages(pages, { maxTokens, overlapTokens }), maxTokens);
    }
  });

  it("tracks the pages of the first and last character of every chunk", () => {
    const chunks = chunkPages(taggedPages(12, 30));
    expect(chunks.length).toBeGreaterThan(5);
    let spanning = 0;
    for (const c of chunks) {
      const words = c.text.split(/\s+/);
      expect(c.pageStart).toBe(pageOfWord(words[0]!));
      expect(c.pageEnd).toBe(pageOfWord(words[words.length - 1]!));
      if (c.pageEnd > c.pageStart) spanning++;
    }
    expect(spanning).toBeGreaterThan(0);
  });

  it("starts each chunk with about overlapTokens tokens from the end of the previous one", () => {
    const chunks = chunkPages(taggedPages(12, 30));
    for (let i = 1; i < chunks.length; i++) {
      const overlap = overlapOf(chunks[i - 1]!.text, chunks[i]!.text);
      // Whole trailing sentences (at least half the budget) or a token tail, starting at a word.
      expect(countTokens(overlap)).toBeGreaterThanOrEqual(15);
      expect(countTokens(overlap)).toBeLessThanOrEqual(40);
      expect(chunks[i]!.text.split(/\s+/)[0]).toMatch(/^p\d+w\d+\.?$/);
    }
    // Without overlap, chunks partition the text: every word appears exactly once.
    const words = chunkPages(taggedPages(12, 30), { overlapTokens: 0 }).flatMap((c) => c.text.split(/\s+/));
    expect(new Set(words).size).toBe(words.length);
    expect(words.join(" ")).toBe(
      taggedPages(12, 30)
        .map((p) => p.text)
        .join(" ")
        .split(/\s+/)
        .join(" "),
    );
  });

  it("ends chunks at sentence ends and keeps paragraph breaks", () => {
    const next = rng(3);
    const text = Array.from({ length: 8 }, () => Array.from({ length: 6 }, () => sentence(WORDS_EN, next, 12)).join(" ")).join("\n\n");
    const chunks = chunkPages([{ page: 1, text }], { maxTokens: 120, overlapTokens: 20 });
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks) expect(c.text).toMatch(/\.$/);
    expect(chunks.some((c) => c.text.includes(".\n\n"))).toBe(true);
  });

  it("breaks at Persian sentence ends (؟ ؛ .) too", () => {
    const next = rng(11);
    const ends = ["؟", "؛", "."];
    const text = normalizeText(Array.from({ length: 60 }, (_, i) => sentence(WORDS_FA, next, 10, ends[i % 3])).join(" "));
    const chunks = chunkPages([{ page: 1, text }], { maxTokens: 120, overlapTokens: 20 });
    expectWellFormed(chunks, 120);
    for (const c of chunks) expect(c.text).toMatch(/[؟؛.]$/);
  });

  it("falls back to line breaks for text without sentence ends", () => {
    // A code listing: lines, no punctuation.
    const lines = Array.from({ length: 200 }, (_, i) => `\\item entry number ${i} with some words`);
    const chunks = chunkPages([{ page: 5, text: lines.join("\n") }], { maxTokens: 100, overlapTokens: 10 });
    expectWellFormed(chunks, 100);
    for (const c of chunks) {
      expect(lines).toContain(c.text.split("\n").at(-1));
      // Filled, not cut short: a long "sentence" is split at its lines.
      if (c !== chunks.at(-1)) expect(c.tokenCount).toBeGreaterThan(80);
    }
  });

  it("splits a very long sentence (no punctuation, no newlines) at words", () => {
    const next = rng(5);
    const text = sentence(WORDS_EN, next, 3000, "");
    const chunks = chunkPages([
      { page: 1, text },
      { page: 2, text: "Short tail." },
    ]);
    expectWellFormed(chunks, 400);
    expect(chunks.length).toBeGreaterThan(5);
    const noOverlap = chunkPages([{ page: 1, text }], { overlapTokens: 0 });
    expect(noOverlap.map((c) => c.text).join(" ")).toBe(text);
    expect(chunks.at(-1)?.pageEnd).toBe(2);
  });

  it("splits a giant word by tokens without breaking characters", () => {
    const word = "سلام".repeat(2500) + "abc".repeat(500);
    const chunks = chunkPages([{ page: 9, text: word }], { maxTokens: 100, overlapTokens: 0 });
    expectWellFormed(chunks, 100, false);
    expect(chunks.map((c) => c.text).join("")).toBe(word);
    const overlapping = chunkPages([{ page: 9, text: word }], { maxTokens: 100, overlapTokens: 20 });
    expectWellFormed(overlapping, 100, false);
    expect(overlapping.length).toBeGreaterThan(chunks.length);
  });

  it("is deterministic", () => {
    const pages = taggedPages(6, 25);
    expect(chunkPages(pages)).toEqual(chunkPages(structuredClone(pages)));
  });

  it("rejects impossible options", () => {
    expect(() => chunkPages([], { maxTokens: 0 })).toThrow(RangeError);
    expect(() => chunkPages([], { maxTokens: 100, overlapTokens: 100 })).toThrow(RangeError);
    expect(() => chunkPages([], { overlapTokens: -1 })).toThrow(RangeError);
    expect(() => chunkPages([], { maxTokens: 3, overlapTokens: 0 })).toThrow(RangeError);
    // The smallest size allowed still fits any character.
    const text = `${"👍🏽".repeat(10)} ok 漢字かな`;
    const chunks = chunkPages([{ page: 1, text }], { maxTokens: 4, overlapTokens: 0 });
    expectWellFormed(chunks, 4);
    expect(
      chunks
        .map((c) => c.text)
        .join("")
        .replace(/\s/g, ""),
    ).toBe(text.replace(/\s/g, ""));
  });
});

// ---------------------------------------------------------------------------------------------

/** getDocumentProxy transfers (detaches) the buffer it is given, so hand it a copy. */
const open = (bytes: Uint8Array) => getDocumentProxy(bytes.slice());

async function pageTexts(bytes: Uint8Array): Promise<string[]> {
  const pdf = await open(bytes);
  try {
    const out: string[] = [];
    for (let n = 1; n <= pdf.numPages; n++) {
      const content = await (await pdf.getPage(n)).getTextContent();
      out.push(content.items.map((item) => ("str" in item ? item.str + (item.hasEOL ? "\n" : "") : "")).join(""));
    }
    return out;
  } finally {
    await pdf.loadingTask.destroy();
  }
}

async function openError(bytes: Uint8Array): Promise<{ name: string; message: string; code: unknown }> {
  try {
    const pdf = await open(bytes);
    await pdf.loadingTask.destroy();
  } catch (err) {
    const e = err as { name: string; message: string; code?: unknown };
    return { name: e.name, message: e.message, code: e.code };
  }
  throw new Error("the PDF opened");
}

describe("pdf-factory through unpdf", () => {
  it("makeTextPdf: one page per string, text extractable, long lines wrapped", async () => {
    const long = "Solar panels convert sunlight into electricity using photovoltaic cells. ".repeat(6).trim();
    const texts = await pageTexts(makeTextPdf(["Hello (world) \\ backslash.", long, "Line one\n\nLine two"]));
    expect(texts).toHaveLength(3);
    expect(normalizeText(texts[0]!)).toBe("Hello (world) \\ backslash.");
    expect(normalizeText(texts[1]!).split("\n").length).toBeGreaterThan(3);
    expect(normalizeText(texts[1]!).replace(/\n/g, " ")).toBe(long);
    expect(normalizeText(texts[2]!)).toBe("Line one\nLine two");
  });

  it("makeBlankPagesPdf: 501 small pages, each with a little text", async () => {
    const bytes = makeBlankPagesPdf(501);
    expect(bytes.length).toBeLessThan(100_000);
    const pdf = await open(bytes);
    try {
      expect(pdf.numPages).toBe(501);
      const last = await (await pdf.getPage(501)).getTextContent();
      expect(last.items.map((i) => ("str" in i ? i.str : "")).join("")).toBe("Page");
    } finally {
      await pdf.loadingTask.destroy();
    }
  });

  it("makeImageOnlyPdf: an image and no text items at all", async () => {
    const pdf = await open(makeImageOnlyPdf());
    try {
      expect(pdf.numPages).toBe(1);
      const page = await pdf.getPage(1);
      expect((await page.getTextContent()).items).toHaveLength(0);
      const ops = await page.getOperatorList();
      expect(ops.fnArray.length).toBeGreaterThan(0); // the image is drawn
    } finally {
      await pdf.loadingTask.destroy();
    }
  });

  it("makeEncryptedPdf: pdf.js asks for a password (PasswordException)", async () => {
    expect(await openError(makeEncryptedPdf())).toEqual({ name: "PasswordException", message: "No password given", code: 1 });
  });

  it("invalid and truncated files: InvalidPDFException", async () => {
    const invalid = { name: "InvalidPDFException", message: "Invalid PDF structure.", code: undefined };
    expect(await openError(makeGarbagePdf())).toEqual(invalid);
    expect(await openError(new TextEncoder().encode("not a pdf"))).toEqual(invalid);
    const text = makeTextPdf(["Some text."]);
    expect(await openError(truncate(text, 200))).toEqual(invalid);
    expect(await openError(truncate(text, text.length - 40))).toEqual(invalid);
    expect(await openError(truncate(fixturePdf("first-latex-doc-en.pdf"), 4000))).toEqual(invalid);
    expect(await openError(new Uint8Array(0))).toEqual({ ...invalid, message: "The PDF file is empty, i.e. its size is zero bytes." });
  });

  it("getDocumentProxy detaches the buffer it is given", async () => {
    const bytes = makeTextPdf(["x"]);
    const pdf = await getDocumentProxy(bytes);
    await pdf.loadingTask.destroy();
    expect(bytes.byteLength).toBe(0);
  });
});

describe("extraction → normalisation → chunking", () => {
  it("tracks pages of a generated PDF", async () => {
    const pages = Array.from({ length: 6 }, (_, i) => Array.from({ length: 40 }, (_, s) => `Page ${i + 1} sentence ${s} is here.`).join(" "));
    const texts = await pageTexts(makeTextPdf(pages));
    const chunks = chunkPages(
      texts.map((t, i) => ({ page: i + 1, text: normalizeText(t) })),
      { maxTokens: 200, overlapTokens: 30 },
    );
    expectWellFormed(chunks, 200);
    for (const c of chunks) {
      const mentioned = [...c.text.matchAll(/Page (\d+) sentence/g)].map((m) => Number(m[1]));
      expect(c.pageEnd).toBe(mentioned.at(-1));
      expect(c.pageStart).toBeLessThanOrEqual(mentioned[0]!);
    }
    expect(chunks[0]!.pageStart).toBe(1);
    expect(chunks.at(-1)!.pageEnd).toBe(6);
  });

  it("chunks the real Persian lshort-fa.pdf", async () => {
    const texts = await pageTexts(fixturePdf("lshort-fa.pdf"));
    expect(texts).toHaveLength(147);
    const pages = texts.map((t, i) => ({ page: i + 1, text: normalizeText(t) })).filter((p) => p.text);
    const all = pages.map((p) => p.text).join("\n");
    expect(all).not.toMatch(/[\uFB50-\uFDFF\uFE70-\uFEFF\u200E\u200F\u202A-\u202E\u2066-\u2069\u064A\u0643\u06F0-\u06F9]/);
    expect(all).toContain("باید");
    expect(all).toContain(`فایل${ZWNJ}های`);
    const chunks = chunkPages(pages);
    expectWellFormed(chunks, 400);
    expect(chunks.length).toBeGreaterThan(300);
    expect(chunks[0]!.pageStart).toBe(pages[0]!.page);
    expect(chunks.at(-1)!.pageEnd).toBe(pages.at(-1)!.page);
  });
});
