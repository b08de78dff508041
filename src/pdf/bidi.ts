// Visual ↔ logical order with bidi-js (UAX #9). PDFs draw right-to-left text in visual order; applying the
// algorithm's reordering to a visual line gives back the logical text, with numbers and Latin words inside a
// Persian line kept left to right (the L2 reversal is its own inverse for the levels real lines have).
import bidiFactory from "bidi-js";

const bidi = bidiFactory();

export type Direction = "ltr" | "rtl";

/** Arabic-script letters, in their base and presentation forms (not marks, digits or punctuation). */
export const ARABIC_LETTERS = "\u0620-\u064A\u066E-\u06D3\u06D5\u06FA-\u06FC\uFB50-\uFDFF\uFE70-\uFEFC";

const STRONG_RTL = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/gu;
const HAS_RTL = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/u;
const STRONG_LTR = /\p{L}/gu;

/** The direction most of the strong characters of the text have. */
export function dominantDirection(text: string): Direction {
  const rtl = text.match(STRONG_RTL)?.length ?? 0;
  const letters = text.match(STRONG_LTR)?.length ?? 0;
  return rtl > letters - rtl ? "rtl" : "ltr";
}

/** Applies the UAX #9 line reordering to text laid out in `direction`. */
export function reorder(text: string, direction: Direction): string {
  if (direction === "ltr" && !HAS_RTL.test(text)) return text;
  const units = text.split("");
  const levels = bidi.getEmbeddingLevels(text, direction);
  for (const [start, end] of bidi.getReorderSegments(text, levels)) {
    const reversed = reverseClusters(units.slice(start, end + 1));
    units.splice(start, reversed.length, ...reversed);
  }
  return units.join("");
}

const MARK = /[\p{M}\uDC00-\uDFFF]/u;

/**
 * Reverses a run of UTF-16 code units cluster by cluster: a letter keeps its combining marks (and a surrogate
 * pair its halves) after it, as logical order wants, whichever order the PDF drew them in.
 */
function reverseClusters(units: string[]): string[] {
  const clusters: string[][] = [];
  for (const u of units) {
    const last = clusters.at(-1);
    if (last && MARK.test(u) && !MARK.test(last[0]!)) last.push(u);
    else clusters.push([u]);
  }
  return clusters.reverse().flat();
}
