// Opening a PDF with pdf.js (unpdf's serverless build), with the failures a user can act on named.
import { getDocumentProxy } from "unpdf";
import type { PDFDataRangeTransport } from "unpdf/pdfjs";
import { PermanentIngestError } from "../ingest/errors.ts";
import { MAX_IMAGE_PIXELS } from "./limits.ts";
import { RANGE_CHUNK_BYTES } from "./r2-range-source.ts";
import { PDFJS_ASSET_DIR, type PdfResources } from "./resources.ts";
import { defuseOversizedStreams } from "./stream-limits.ts";

export { MAX_IMAGE_PIXELS } from "./limits.ts";
export type { PdfResources } from "./resources.ts";
export { assetResources } from "./resources.ts";

export type PdfDocument = Awaited<ReturnType<typeof getDocumentProxy>>;
export type PdfPage = Awaited<ReturnType<PdfDocument["getPage"]>>;

type BinaryKind = "cMapUrl" | "standardFontDataUrl" | "wasmUrl";
const FOLDER: Record<BinaryKind, string | null> = { cMapUrl: "cmaps/", standardFontDataUrl: "standard_fonts/", wasmUrl: null };
/** pdf.js asks for names from its own lists (CMaps, standard fonts); anything else is refused, never looked up. */
const SAFE_FILENAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * pdf.js's BinaryDataFactory (what its worker asks for with `FetchBinaryData` when `useWorkerFetch` is false)
 * reading from `resources`. pdf.js constructs it itself, so the class closes over the resources.
 */
function binaryDataFactory(resources: PdfResources) {
  return class ResourcesBinaryDataFactory {
    async fetch({ kind, filename }: { kind: BinaryKind; filename: string }): Promise<Uint8Array> {
      const folder = FOLDER[kind];
      // unpdf's build has its wasm decoders inline; it never asks for them.
      if (!folder) throw new Error(`pdf.js asked for ${kind} data (${filename}), which DocuChat does not provide`);
      if (!SAFE_FILENAME.test(filename) || filename.includes("..")) throw new Error(`pdf.js asked for an unexpected ${kind} file name`);
      const path = `${PDFJS_ASSET_DIR}${folder}${filename}`;
      const bytes = await resources.fetchAsset(path);
      // pdf.js catches this: the font is then read as without the data (a warning), the page as before.
      if (!bytes) throw new Error(`${path} is not among the static assets`);
      return bytes;
    }
  };
}

/**
 * Opens the PDF (its bytes are changed in place: streams that would decode past the limits are defused first, see
 * stream-limits.ts). With `resources` (the Worker: assetResources(env); Node: scripts/lib/pdf-resources.ts) pdf.js
 * gets the predefined CMaps and the standard fonts, without which CJK text in non-embedded CID fonts is lost;
 * without them it reads what it can, as before.
 */
export async function openPdf(bytes: Uint8Array, resources?: PdfResources): Promise<PdfDocument> {
  return (await openGuardedPdf(bytes, resources)).pdf;
}

/** openPdf, telling how many streams were defused: none, and the same bytes may be opened by ranges later. */
export async function openGuardedPdf(bytes: Uint8Array, resources?: PdfResources): Promise<{ pdf: PdfDocument; defused: number }> {
  const defused = defuseOversizedStreams(bytes);
  if (defused.length)
    console.warn(JSON.stringify({ level: "warn", msg: "pdf streams over the decoding limits defused", streams: defused.slice(0, 10) }));
  return { pdf: await load({ data: bytes }, resources), defused: defused.length };
}

/**
 * Opens a PDF read by ranges (r2-range-source.ts), whose whole bytes openGuardedPdf found nothing to defuse in:
 * pdf.js reads only what it needs (no prefetching of the rest, no streaming of the whole file).
 */
export function openPdfRanges(range: PDFDataRangeTransport, resources?: PdfResources): Promise<PdfDocument> {
  return load({ range, rangeChunkSize: RANGE_CHUNK_BYTES, disableAutoFetch: true, disableStream: true }, resources);
}

/** getDocumentProxy with DocuChat's options, and the failures a user can act on named. */
async function load(source: NonNullable<Parameters<typeof getDocumentProxy>[1]>, resources?: PdfResources): Promise<PdfDocument> {
  const options = {
    ...source,
    // A few bytes of Flate can decode into gigabytes of pixels, and pdf.js needs 6–9 bytes a pixel to decode an
    // image: it skips images over this size rather than take the isolate's 128 MB (bench:extract).
    maxImageSize: MAX_IMAGE_PIXELS,
    ...(resources && {
      BinaryDataFactory: binaryDataFactory(resources),
      useWorkerFetch: false,
      // Only their being set matters to pdf.js (with a trailing slash); the factory knows the folders.
      cMapUrl: `/${PDFJS_ASSET_DIR}${FOLDER.cMapUrl}`,
      cMapPacked: true,
      standardFontDataUrl: `/${PDFJS_ASSET_DIR}${FOLDER.standardFontDataUrl}`,
      // A Worker has no system fonts: pdf.js must load the standard font data instead of assuming them.
      useSystemFonts: false,
    }),
  };
  try {
    return await getDocumentProxy(undefined, options);
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === "PasswordException") throw new PermanentIngestError("encrypted", "The PDF is password-protected; upload it without encryption");
    throw new PermanentIngestError("invalid_pdf", `The file could not be read as a PDF (${(err as Error).message ?? name})`);
  }
}
