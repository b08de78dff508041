// Text normalisation shared by ingestion (before chunking) and search (queries), so both sides of a
// match see the same characters. Written for English and Persian text extracted from PDFs.

const ZWNJ = "\u200C";

// First code point of every dual-joining letter in the Arabic presentation-form blocks. Each such
// letter has four forms in the order isolated, final, initial, medial.
const DUAL_JOINING_FORM_STARTS = [
  0xfb52, 0xfb56, 0xfb5a, 0xfb5e, 0xfb62, 0xfb66, 0xfb6a, 0xfb6e, 0xfb72, 0xfb76, 0xfb7a, 0xfb7e, 0xfb8e, 0xfb92, 0xfb96, 0xfb9a, 0xfba0, 0xfba6,
  0xfbaa, 0xfbd3, 0xfbe4, 0xfbfc, 0xfe89, 0xfe8f, 0xfe95, 0xfe99, 0xfe9d, 0xfea1, 0xfea5, 0xfeb1, 0xfeb5, 0xfeb9, 0xfebd, 0xfec1, 0xfec5, 0xfec9,
  0xfecd, 0xfed1, 0xfed5, 0xfed9, 0xfedd, 0xfee1, 0xfee5, 0xfee9, 0xfef1,
];
// Isolated and final forms: the glyph does not join the letter after it.
const NON_JOINING_FORMS = new Set(DUAL_JOINING_FORM_STARTS.flatMap((s) => [s, s + 1]));

// A non-joining form directly followed by a letter means the PDF showed a break inside the word:
// the ZWNJ of "فایل‌ها" (or a lost space), which the extracted text no longer carries.
const LOST_NON_JOINER = /[\uFB52-\uFEF2](?=[\u0620-\u064A\u066E-\u06D3\u06D5\u06FA-\u06FC\uFB50-\uFDFF\uFE80-\uFEFC])/g;

// Bidi controls, BOM, soft hyphen, zero-width space, word joiner, Mongolian vowel separator, control
// characters other than tab and newline, U+FFFD (a glyph the extractor could not map) and lone surrogates.
const INVISIBLE =
  /[\u200E\u200F\u061C\u202A-\u202E\u2066-\u2069\uFEFF\u00AD\u200B\u2060\u180E\u0000-\u0008\u000E-\u001F\u007F-\u009F\uFFFD]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const DIGITS = /[\u06F0-\u06F9\u0660-\u0669]/g;
const LETTERS: Record<string, string> = {
  "\u064A": "\u06CC", // Arabic yeh -> Persian yeh
  "\u0649": "\u06CC", // alef maksura -> Persian yeh
  "\u0643": "\u06A9", // Arabic kaf -> Persian kaf (keheh)
  "\u06C0": "\u0647\u0654", // heh with yeh above (ۀ) -> heh + hamza above (هٔ), as most keyboards type it
  "\u066B": ".", // Arabic decimal separator
  "\u066C": ",", // Arabic thousands separator
};

export function normalizeText(text: string): string {
  let s = text.replace(LOST_NON_JOINER, (c) => (NON_JOINING_FORMS.has(c.charCodeAt(0)) ? c + ZWNJ : c));
  s = s.normalize("NFKC");
  s = s
    .replace(/\r\n?|[\u2028\u000B\u000C\u0085]/g, "\n")
    .replace(/\u2029/g, "\n\n")
    .replace(INVISIBLE, "")
    .replace(/\u0640/g, "") // tatweel only stretches glyphs
    .replace(/[\u064A\u0649\u0643\u066B\u066C\u06C0]/g, (c) => LETTERS[c] ?? c)
    .replace(DIGITS, (d) => String(d.charCodeAt(0) & 0xf))
    // pdf.js puts a space before a tanwin/harakat at a word end ("بعدا ًدر"); move the mark back.
    .replace(/(\S)([^\S\n]+)([\u064B-\u065F\u0670]+)/g, "$1$3$2")
    // A mark cannot start a word: an extractor that reversed a letter+mark cluster put it before its letter.
    .replace(/(^|\s)([\u064B-\u065F\u0670]+)([\u0620-\u064A\u066E-\u06D3\u06D5])/gm, "$1$3$2")
    // ZWNJ: one at most, and never next to whitespace or at the ends of the text.
    .replace(/\u200C+/g, ZWNJ)
    .replace(/\s*\u200C\s*/g, (m) => (m.length === 1 ? m : m.replace(ZWNJ, "")))
    .replace(/[^\S\n]+/g, " ")
    .replace(/ ?\n ?/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    // English line-end hyphenation ("struc-\nture") from typeset PDFs.
    .replace(/(\p{Ll})-\n(?=\p{Ll})/gu, "$1");
  return s.replace(/^[\s\u200C]+|[\s\u200C]+$/g, "");
}

/** Like normalizeText, but on one line: a query has no layout to keep. */
export function normalizeQuery(q: string): string {
  return normalizeText(q).replace(/\s+/g, " ");
}
