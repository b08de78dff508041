// PDF → normalised text per page, with unpdf (pdf.js). Each page is read from its text layer, or by OCR when
// the text layer cannot be trusted (src/pdf/trust.ts decides). Pages are released as soon as they are read,
// and a page that cannot be read becomes a warning, not the end of the document.
import { OcrError, type OcrErrorCode, type PageOcr } from "../ocr/page-ocr.ts";
import type { PdfDocument, PdfPage } from "../pdf/open.ts";
import { annotationText, textLayerText } from "../pdf/text-layer.ts";
import { needsOcr } from "../pdf/trust.ts";
import { normalizeText } from "../text/normalize.ts";
import type { PageText } from "./chunker.ts";

/** Why a page has no text in the index: shown to the user on the document. */
export interface PageWarning {
  page: number;
  code: "page_unreadable" | "ocr_off" | "ocr_limit" | OcrErrorCode;
  message: string;
}

export interface ExtractOptions {
  /** OCR for untrusted pages; null when OCR is off. */
  ocr: PageOcr | null;
  /** How many more pages this document may still OCR (the per-document limit minus pages already done). */
  ocrPagesLeft: number;
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
}

const CLEANUP_EVERY_PAGES = 10;

/** Reads pages from..to (1-based, inclusive); `onProgress` is told the last page read. */
export async function extractPages(pdf: PdfDocument, from: number, to: number, options: ExtractOptions): Promise<ExtractResult> {
  const result: ExtractResult = { pages: [], warnings: [], ocr: { pages: 0, promptTokens: 0, completionTokens: 0, model: options.ocr?.model ?? null } };
  let ocrLeft = options.ocrPagesLeft;
  for (let n = from; n <= to; n++) {
    let page: PdfPage | undefined;
    try {
      page = await pdf.getPage(n);
      const raw = joinText(await textLayerText(page), await annotationText(page));
      const layer = normalizeText(raw);
      const verdict = await needsOcr(page, raw);
      let text = layer;
      let source: ExtractedPage["source"] = "text_layer";
      if (verdict && !options.ocr) {
        result.warnings.push({ page: n, code: "ocr_off", message: `Page ${n} was not OCRed (${verdict.reason}): OCR is off` });
      } else if (verdict && ocrLeft <= 0) {
        result.warnings.push({ page: n, code: "ocr_limit", message: `Page ${n} was not OCRed (${verdict.reason}): the document's OCR page limit is reached` });
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
      if (text) result.pages.push({ page: n, text, source });
    } catch (err) {
      // Only a transient OCR failure gets here as an OcrError: another attempt may get past it.
      if (err instanceof OcrError) throw err;
      result.warnings.push({ page: n, code: "page_unreadable", message: `Page ${n} could not be read (${(err as Error).message ?? String(err)})` });
    } finally {
      page?.cleanup();
    }
    // pdf.js keeps every font it loaded until the document is cleaned up: a font-heavy 50-page range peaks at
    // 64 MB without this, 46 MB with it every 10 pages, for 3–20% more time (bench:extract).
    if ((n - from + 1) % CLEANUP_EVERY_PAGES === 0 || n === to) await pdf.cleanup();
    if (options.onProgress) await options.onProgress(n);
  }
  return result;
}

const joinText = (...parts: string[]) => parts.filter((p) => p.trim()).join("\n\n");
