// A page's text layer: pdf.js text items as positioned runs, plus what forms and annotations show on the page.
import type { PDFPageProxy } from "unpdf/pdfjs";
import { ARABIC_LETTERS } from "./bidi.ts";
import { layoutText, type TextRun } from "./layout.ts";
import { MAX_PAGE_READ_CHARS, MAX_PAGE_TEXT_ITEMS, MAX_STREAM_BYTES } from "./limits.ts";
import { DEFUSED_TAG } from "./stream-limits.ts";

type TextContent = Awaited<ReturnType<PDFPageProxy["getTextContent"]>>;
type Item = TextContent["items"][number];

const ARABIC_LETTER = new RegExp(`[${ARABIC_LETTERS}]`, "u");

/** The page draws a stream that was too large to decode (stream-limits.ts): the page is not read. */
export class PageTooComplexError extends Error {}

export interface TextLayer {
  text: string;
  /** Reading stopped at MAX_PAGE_TEXT_ITEMS or MAX_PAGE_READ_CHARS: the page has more text than this. */
  truncated: boolean;
}

/** The page's text from its text layer, laid out in reading order (see layout.ts), read within the page's limits. */
export async function readTextLayer(page: PDFPageProxy): Promise<TextLayer> {
  // Without pdf.js's own normalisation, Arabic presentation forms survive: they show where a ZWNJ was (normalize.ts).
  // Streamed, so that reading can stop at the limits: pdf.js waits for each batch to be taken before making more.
  const reader = (page.streamTextContent({ includeMarkedContent: true, disableNormalization: true }) as ReadableStream<TextContent>).getReader();
  const items: Item[] = [];
  let chars = 0;
  let truncated = false;
  let done = false;
  try {
    while (!truncated) {
      const read = await reader.read();
      done = read.done;
      if (read.done) break;
      for (const item of read.value.items) {
        if (!("str" in item) && (item as { tag?: string }).tag === DEFUSED_TAG)
          throw new PageTooComplexError(`it draws a stream that decodes to more than ${MAX_STREAM_BYTES / 2 ** 20} MiB`);
        items.push(item);
        if ("str" in item) chars += item.str.length;
      }
      truncated = items.length >= MAX_PAGE_TEXT_ITEMS || chars >= MAX_PAGE_READ_CHARS;
    }
  } finally {
    // Stops pdf.js's evaluation of the page (it wants an Error as the reason).
    if (!done) await reader.cancel(new Error("the page's text layer was read up to its limits")).catch(() => {});
  }
  return { text: layoutText(textRuns(items)), truncated };
}

/**
 * Text items as runs. Chromium (Skia) and cairo draw a ZWNJ as a zero-width glyph mapped to a space inside its
 * own ActualText span, which pdf.js reports as an empty marked-content span: between two Arabic letters it is a ZWNJ.
 */
export function textRuns(items: Item[]): TextRun[] {
  const runs: TextRun[] = [];
  let spanStart = -1;
  let emptySpanAt = -1;
  for (const item of items) {
    if (!("str" in item)) {
      if (item.type === "beginMarkedContentProps" || item.type === "beginMarkedContent") spanStart = runs.length;
      else if (item.type === "endMarkedContent" && spanStart === runs.length) emptySpanAt = runs.length;
      continue;
    }
    // Whitespace-only items are pdf.js's guesses, placed as if the text ran left to right: the gaps between
    // the glyphs say where words break (layout.ts).
    if (!item.str.trim()) continue;
    const run = toRun(item);
    const prev = runs.at(-1);
    if (emptySpanAt === runs.length && prev && isZwnjSlot(prev, run)) {
      // It fills the space between the two letters, whichever way the stream runs (logical order in cairo,
      // visual in Skia), so the glyph's own advance (LibreOffice draws a space there) is not a word break.
      const [left, right] = prev.x <= run.x ? [prev, run] : [run, prev];
      const x = left.x + left.width;
      runs.push({ ...run, text: "\u200C", x, width: Math.max(0, right.x - x) });
    }
    emptySpanAt = -1;
    runs.push(run);
  }
  return runs;
}

/** Two Arabic letters side by side on one baseline: the touching edges of two runs. */
function isZwnjSlot(prev: TextRun, run: TextRun): boolean {
  const [left, right] = prev.x <= run.x ? [prev, run] : [run, prev];
  if (!ARABIC_LETTER.test(edgeChar(left, "right")) || !ARABIC_LETTER.test(edgeChar(right, "left"))) return false;
  const size = Math.max(prev.size, run.size);
  const gap = Math.max(prev.x - (run.x + run.width), run.x - (prev.x + prev.width));
  return prev.angle === run.angle && Math.abs(prev.y - run.y) < 0.3 * size && gap < size;
}

/** The character drawn at one side of a run: a right-to-left run ends on its left. */
function edgeChar(run: TextRun, side: "left" | "right"): string {
  const chars = [...run.text.replace(/[\s\p{M}]+$/u, "")];
  const first = (side === "left") === (run.dir === "ltr");
  return (first ? chars[0] : chars.at(-1)) ?? "";
}

function toRun(item: Extract<Item, { str: string }>): TextRun {
  const [a = 1, b = 0, c = 0, d = 1, e = 0, f = 0] = item.transform as number[];
  const angle = Math.round((Math.atan2(b, a) * 180) / Math.PI);
  // Coordinates in the run's own frame, so rotated text still has a baseline and a left-to-right axis.
  const rad = (angle * Math.PI) / 180;
  const cos = Math.cos(rad);
  const sin = Math.sin(rad);
  return {
    text: item.str,
    x: e * cos + f * sin,
    y: f * cos - e * sin,
    width: item.width,
    size: Math.hypot(c, d) || item.height || 1,
    dir: item.dir === "rtl" ? "rtl" : "ltr",
    angle,
  };
}

/** Values typed into form fields and the text of free-text and note annotations: a filled-in form's answers. */
export async function annotationText(page: PDFPageProxy): Promise<string> {
  const annotations = (await page.getAnnotations({ intent: "display" })) as Array<Record<string, unknown>>;
  const texts: string[] = [];
  for (const a of annotations) {
    const subtype = a.subtype;
    if (subtype === "Widget") {
      const value = a.fieldValue;
      const label = typeof a.alternativeText === "string" && a.alternativeText ? `${a.alternativeText}: ` : "";
      if (typeof value === "string" && value.trim() && a.fieldType === "Tx") texts.push(label + value.trim());
      else if (Array.isArray(value) && value.length && a.fieldType === "Ch") texts.push(label + value.join(", "));
    } else if (subtype === "FreeText" || subtype === "Text") {
      const contents = (a.contentsObj as { str?: string } | undefined)?.str;
      if (contents?.trim()) texts.push(contents.trim());
    }
  }
  return texts.join("\n");
}
