// Character error rate of extracted text against a source text, for the text-extraction tests.
// Pure TypeScript with no Node API, so it runs inside workerd (test/worker) as well as in Node (scripts, test/stack).
//
// Both sides go through one canonical form, canonicalText(), that removes the differences which are not
// extraction errors: how a producer or extractor encodes the same Persian letter, digit or space.
// What stays significant: letters, their order, ZWNJ between letters (می‌شود ≠ میشود), harakat, hamza, punctuation.
import { distance } from "fastest-levenshtein";

/** Maps each listed code point to its canonical replacement ("" removes it). Applied after NFKC. */
const CHAR_MAP: Record<string, string> = {
  "\u064A": "\u06CC", // ARABIC LETTER YEH → FARSI YEH
  "\u0649": "\u06CC", // ARABIC LETTER ALEF MAKSURA → FARSI YEH
  "\u0643": "\u06A9", // ARABIC LETTER KAF → KEHEH
  "\u0640": "", // ARABIC TATWEEL
  "\u00AD": "", // SOFT HYPHEN
  "\uFEFF": "", // BOM / ZERO WIDTH NO-BREAK SPACE
  "\u061C": "", // ARABIC LETTER MARK
  "\u200E": "", // LEFT-TO-RIGHT MARK
  "\u200F": "", // RIGHT-TO-LEFT MARK
  "\u202A": "", // LRE
  "\u202B": "", // RLE
  "\u202C": "", // PDF
  "\u202D": "", // LRO
  "\u202E": "", // RLO
  "\u2066": "", // LRI
  "\u2067": "", // RLI
  "\u2068": "", // FSI
  "\u2069": "", // PDI
};
for (let d = 0; d <= 9; d++) {
  CHAR_MAP[String.fromCharCode(0x06f0 + d)] = String(d); // EXTENDED ARABIC-INDIC (Persian) DIGIT
  CHAR_MAP[String.fromCharCode(0x0660 + d)] = String(d); // ARABIC-INDIC DIGIT
}

const MAPPED = new RegExp(`[${Object.keys(CHAR_MAP).join("")}]`, "gu");
// A run of whitespace together with any ZWNJ touching it (a ZWNJ only means something between two letters).
const SPACE_RUN = /[\s\u200C]*\s[\s\u200C]*/gu;
const EDGE_ZWNJ = /^\u200C+|\u200C+$/gu;

/**
 * The one canonical form for comparing extracted text with a source: Unicode NFKC (which also folds Arabic
 * presentation forms and ligatures such as U+FEFB to their letters, and NBSP and other spaces to U+0020);
 * Arabic yeh and alef maksura → Persian yeh U+06CC, Arabic kaf → keheh U+06A9; Persian and Arabic-Indic digits →
 * ASCII digits; tatweel, bidi controls (U+200E/F, U+202A–202E, U+2066–2069, U+061C), soft hyphen and BOM removed;
 * every run of whitespace, with any ZWNJ next to it, → one space; trimmed.
 */
export function canonicalText(s: string): string {
  return s
    .normalize("NFKC")
    .replace(MAPPED, (c) => CHAR_MAP[c] ?? c)
    .replace(SPACE_RUN, " ")
    .trim()
    .replace(EDGE_ZWNJ, "");
}

/**
 * Character error rate: Levenshtein distance between the canonical forms, divided by the length of the canonical
 * reference (UTF-16 code units; every Persian and Latin character of the fixtures is in the BMP, so that equals
 * characters). 0 is a perfect extraction; it can exceed 1 when the extraction is much longer than the reference.
 * An empty reference gives 0 for an empty extraction and Infinity otherwise.
 */
export function cer(extracted: string, reference: string): number {
  const ref = canonicalText(reference);
  const ext = canonicalText(extracted);
  if (ref.length === 0) return ext.length === 0 ? 0 : Number.POSITIVE_INFINITY;
  return distance(ext, ref) / ref.length;
}

/**
 * Whether `needle` occurs in `haystack` with at most `maxRate` × its length edits (substitutions, insertions,
 * deletions): the approximate search of Sellers (1980), for text that OCR read with a few wrong letters.
 */
export function fuzzyIncludes(haystack: string, needle: string, maxRate: number): boolean {
  const limit = Math.floor(needle.length * maxRate);
  let prev = new Array<number>(haystack.length + 1).fill(0);
  for (let i = 1; i <= needle.length; i++) {
    const row = new Array<number>(haystack.length + 1);
    row[0] = i;
    for (let j = 1; j <= haystack.length; j++) {
      const cost = needle[i - 1] === haystack[j - 1] ? 0 : 1;
      row[j] = Math.min(prev[j - 1]! + cost, prev[j]! + 1, row[j - 1]! + 1);
    }
    prev = row;
  }
  return Math.min(...prev) <= limit;
}
