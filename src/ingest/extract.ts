// PDF → normalised text per page, with unpdf (pdf.js). Each page is read from its text layer, or by OCR when
// the text layer cannot be trusted (src/pdf/trust.ts decides). Pages are released as soon as they are read,
// and a page that cannot be read becomes a warning, not the end of the document.
import { MAX_DOCUMENT_CHARS, MAX_PAGE_CHARS } from "../documents/limits.ts";
import { OcrError, type OcrErrorCode, type PageOcr } from "../ocr/page-ocr.ts";
import type { PdfDocument, PdfPage } from "../pdf/open.ts";
import { annotationText, PageTooComplexError, readTextLayer } from "../pdf/text-layer.ts";
import { needsOcr } from "../pdf/trust.ts";
import { normalizeText } from "../text/normalize.ts";
import type { PageText } from "./chunker.ts";

/** Why a page has no text in the index: shown to the user on the document. */
export interface PageWarning {
  page: number;
  code: "page_unreadable" | "page_too_complex" | "page_truncated" | "text_limit" | "ocr_off" | "ocr_limit" | OcrErrorCode;
  message: string;
}

export interface ExtractOptions {
  /** OCR for untrusted pages; null when OCR is off. */
  ocr: PageOcr | null;
  /** How many more pages this document may still OCR (the per-document limit minus pages already done). */
  ocrPagesLeft: number;
  /** How many more characters of text this document may index: MAX_DOCUMENT_CHARS minus what is stored (default all). */
  charsLeft?: number;
  onProgress?: (page: number) => Promise<void>;
}

export interface ExtractedPage extends PageText {
  /** How the text was obtained. */
  source: "text_layer" | "ocr";
}

export interface ExtractResult {
  pages: ExtractedPage[];
  warnings: PageWarning[];
  ocr: { pages: number; promptTokens: number; completionTokens: number; model: string | null };
  /** The page on which the document's text limit was reached: reading stopped there. */
  textLimitPage: number | null;
}

const CLEANUP_EVERY_PAGES = 10;

/** Reads pages from..to (1-based, inclusive); `onProgress` is told the last page read. */
export async function extractPages(pdf: PdfDocument, from: number, to: number, options: ExtractOptions): Promise<ExtractResult> {
  const result: ExtractResult = {
    pages: [],
    warnings: [],
    ocr: { pages: 0, promptTokens: 0, completionTokens: 0, model: options.ocr?.model ?? null },
    textLimitPage: null,
  };
  let ocrLeft = options.ocrPagesLeft;
  let charsLeft = options.charsLeft ?? MAX_DOCUMENT_CHARS;
  for (let n = from; n <= to; n++) {
    let page: PdfPage | undefined;
    try {
      page = await pdf.getPage(n);
      const textLayer = await readTextLayer(page);
      const raw = joinText(textLayer.text, await annotationText(page));
      const layer = normalizeText(raw);
      const verdict = await needsOcr(page, raw);
      let text = layer;
      let source: ExtractedPage["source"] = "text_layer";
      if (verdict && !options.ocr) {
        result.warnings.push({ page: n, code: "ocr_off", message: `Page ${n} was not OCRed (${verdict.reason}): OCR is off` });
      } else if (verdict && ocrLeft <= 0) {
        result.warnings.push({
          page: n,
          code: "ocr_limit",
          message: `Page ${n} was not OCRed (${verdict.reason}): the document's OCR page limit is reached`,
        });
      } else if (verdict && options.ocr) {
        ocrLeft--;
        try {
          const read = await options.ocr.transcribe(page, verdict.images);
          result.ocr.pages++;
          result.ocr.promptTokens += read.promptTokens;
          result.ocr.completionTokens += read.completionTokens;
          const ocrText = normalizeText(read.text);
          if (ocrText) [text, source] = [ocrText, "ocr"];
        } catch (err) {
          // transcribe throws OcrErrors only. Transient ones retry the range; permanent ones leave the page with
          // what its text layer had.
          const failure = err as OcrError;
          if (failure.retryable) throw failure;
          result.warnings.push({ page: n, code: failure.code, message: `Page ${n} was not OCRed: ${failure.message}` });
        }
      }
      if ((source === "text_layer" && textLayer.truncated) || text.length > MAX_PAGE_CHARS) {
        text = truncate(text, MAX_PAGE_CHARS);
        result.warnings.push({
          page: n,
          code: "page_truncated",
          message: `Page ${n} has more text than is indexed per page: only its first ${text.length} characters were read`,
        });
      }
      if (text.length >= charsLeft) {
        text = truncate(text, charsLeft);
        result.textLimitPage = n;
        result.warnings.push({
          page: n,
          code: "text_limit",
          message: `The document reached its limit of ${MAX_DOCUMENT_CHARS} characters on page ${n}: the text after it was not read`,
        });
      }
      charsLeft -= text.length;
      if (text) result.pages.push({ page: n, text, source });
    } catch (err) {
      // Only a transient OCR failure gets here as an OcrError: another attempt may get past it.
      if (err instanceof OcrError) throw err;
      if (err instanceof PageTooComplexError)
        result.warnings.push({ page: n, code: "page_too_complex", message: `Page ${n} was not read: ${err.message}` });
      else
        result.warnings.push({ page: n, code: "page_unreadable", message: `Page ${n} could not be read (${(err as Error).message ?? String(err)})` });
    } finally {
      page?.cleanup();
    }
    // pdf.js keeps every font it loaded until the document is cleaned up: a font-heavy 50-page range peaks at
    // 64 MB without this, 46 MB with it every 10 pages, for 3–20% more time (bench:extract).
    const stop = result.textLimitPage !== null;
    if ((n - from + 1) % CLEANUP_EVERY_PAGES === 0 || n === to || stop) await pdf.cleanup();
    if (options.onProgress) await options.onProgress(n);
    if (stop) break;
  }
  return result;
}

const joinText = (...parts: string[]) => parts.filter((p) => p.trim()).join("\n\n");

/** The first `max` UTF-16 units of text, never half of a surrogate pair. */
function truncate(text: string, max: number): string {
  const end = max > 0 && /[\uD800-\uDBFF]/.test(text[max - 1] ?? "") ? max - 1 : max;
  return text.slice(0, Math.max(0, end)).trimEnd();
}
