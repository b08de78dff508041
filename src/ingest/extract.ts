// PDF → normalised text per page, with unpdf (pdf.js). Pages are released as soon as they are read, so a
// 500-page document stays far inside the isolate's memory.
import { getDocumentProxy } from "unpdf";
import { textLayerText } from "../pdf/text-layer.ts";
import { normalizeText } from "../text/normalize.ts";
import type { PageText } from "./chunker.ts";
import { PermanentIngestError } from "./errors.ts";

export type PdfDocument = Awaited<ReturnType<typeof getDocumentProxy>>;

export async function openPdf(bytes: Uint8Array): Promise<PdfDocument> {
  try {
    return await getDocumentProxy(bytes);
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === "PasswordException") throw new PermanentIngestError("encrypted", "The PDF is password-protected; upload it without encryption");
    throw new PermanentIngestError("invalid_pdf", `The file could not be read as a PDF (${(err as Error).message ?? name})`);
  }
}

/** Reads pages from..to (1-based, inclusive); `onProgress` is told the last page read. */
export async function extractPages(pdf: PdfDocument, from: number, to: number, onProgress?: (page: number) => Promise<void>): Promise<PageText[]> {
  const pages: PageText[] = [];
  for (let n = from; n <= to; n++) {
    const page = await pdf.getPage(n);
    try {
      const text = normalizeText(await textLayerText(page));
      if (text) pages.push({ page: n, text });
    } catch (err) {
      throw new PermanentIngestError("invalid_pdf", `Page ${n} could not be read (${(err as Error).message})`);
    } finally {
      page.cleanup();
    }
    if (onProgress) await onProgress(n);
  }
  return pages;
}
