// Opening a PDF with pdf.js (unpdf's serverless build), with the failures a user can act on named.
import { getDocumentProxy } from "unpdf";
import { PermanentIngestError } from "../ingest/errors.ts";

export type PdfDocument = Awaited<ReturnType<typeof getDocumentProxy>>;
export type PdfPage = Awaited<ReturnType<PdfDocument["getPage"]>>;

export async function openPdf(bytes: Uint8Array): Promise<PdfDocument> {
  try {
    return await getDocumentProxy(bytes);
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === "PasswordException") throw new PermanentIngestError("encrypted", "The PDF is password-protected; upload it without encryption");
    throw new PermanentIngestError("invalid_pdf", `The file could not be read as a PDF (${(err as Error).message ?? name})`);
  }
}
