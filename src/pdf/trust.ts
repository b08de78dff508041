// Where OCR is decided: whether a page's text layer can be trusted, or the page must be read from its image.

import type { PdfPage } from "./open.ts";
import { type PlacedImage, placedImages } from "./page-images.ts";

/** Unmapped glyphs: private-use code points, U+FFFD, "(cid:12)"-style escapes, control characters. */
const UNMAPPED = /[\uE000-\uF8FF\uFFFD\u0000-\u0008\u000E-\u001F]|\(cid:\d+\)/gu;
/** Above this share of unmapped characters the text layer is noise. */
const MAX_UNMAPPED_SHARE = 0.3;
/** A page mostly covered by images, with less text than this, is a scan (perhaps with a stamp or a caption). */
const SCAN_MAX_CHARS = 200;
const SCAN_MIN_COVERAGE = 0.5;

export interface OcrVerdict {
  reason: string;
  /** The page's images, when finding out needed them (OCR reuses them). */
  images?: PlacedImage[];
}

/** Why the page should be OCRed, or null when its text layer is good (or the page is simply blank). */
export async function needsOcr(page: PdfPage, text: string): Promise<OcrVerdict | null> {
  const visible = text.replace(/\s+/g, "");
  const unmapped = visible.match(UNMAPPED)?.reduce((n, m) => n + m.length, 0) ?? 0;
  if (visible.length && unmapped / visible.length > MAX_UNMAPPED_SHARE) return { reason: "its text layer is mostly unmapped glyphs" };
  if (visible.length >= SCAN_MAX_CHARS) return null;
  // Little or no text: only a page that is mostly image is worth reading by OCR (a blank page is not).
  const images = await placedImages(page);
  const coverage = images.reduce((sum, img) => sum + img.coverage, 0);
  if (coverage < SCAN_MIN_COVERAGE) return null;
  return { reason: visible.length ? "it is an image with little text on it" : "it has no text layer", images };
}
