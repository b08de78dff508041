// Decoded-size limits on a PDF's streams, applied to the file's bytes before pdf.js opens it. pdf.js keeps every
// byte it has decoded of a stream in one buffer (and concatenates a page's content streams into another), so a
// 306 KB file whose content stream inflates to 300 MB of spaces took an isolate from 292 MB to 1,039 MB: the
// isolate, not the page, failed. Every stream is measured here by decoding and discarding (stream-decoders.ts);
// one over its limit (src/pdf/limits.ts) is defused in place, at the same length so every offset in the file stays
// right: its filter keys are renamed (/Filter → /Xilter) so pdf.js takes the data as it is, and the data becomes
// spaces behind a marked-content tag, DEFUSED_TAG, which the text layer reports as the page's page_too_complex.
//
// Not covered: streams of an encrypted PDF (they can only be measured after decryption, which pdf.js does), and a
// stream whose /Filter is a reference this scan cannot resolve (assumed FlateDecode). Such a bomb still ends its
// document, as ingest_failed through the dead-letter queue, when the isolate dies.

import { MAX_IMAGE_STREAM_BYTES, MAX_PAGE_CONTENT_BYTES, MAX_STREAM_BYTES } from "./limits.ts";
import { type PdfObjects, type PdfStream, type PdfValue, readObjectStream, readObjects, streamEnd } from "./pdf-objects.ts";
import { decodedSize, type FilterSpec, maxDecodedSize } from "./stream-decoders.ts";

/** The marked-content tag a defused stream draws: pdf.js reports it among the page's text items. */
export const DEFUSED_TAG = "DocuChatStreamTooLarge";
const MARKER = Uint8Array.from(`/${DEFUSED_TAG} BMC EMC`, (ch) => ch.charCodeAt(0));

export interface DefusedStream {
  /** Object number of the stream. */
  num: number;
  /** What it decodes to, at least (measuring stops past the limit), or its page's sum for a /Contents array. */
  decodedBytes: number;
}

const nameOf = (v: PdfValue | undefined) => (v && typeof v === "object" && "name" in v ? v.name : null);

/** The stream's filters, in the order they apply; an unresolvable /Filter is taken to be the usual FlateDecode. */
function filterSpecs(filter: PdfValue | undefined, params: PdfValue | undefined): FilterSpec[] {
  if (filter === undefined || filter === null) return [];
  const names = Array.isArray(filter) ? filter.map(nameOf) : [nameOf(filter)];
  if (names.some((n) => n === null)) return [{ name: "FlateDecode" }];
  const paramList = Array.isArray(params) ? params : [params];
  return names.map((name, i) => {
    const p = paramList[i];
    const early = p instanceof Map ? p.get("EarlyChange") : undefined;
    return { name: name!, earlyChange: typeof early === "number" ? early : 1 };
  });
}

/** Where an image is referenced from when it is drawn as one: a resource dictionary's /XObject, or as a mask. */
const IMAGE_PLACE = /(^|\/)(SMask|Mask)$|^XObject\//;

/** A stream declared an image and referenced (at least once) only where pdf.js decodes it as an image. */
function isImageOnly(s: PdfStream, objects: PdfObjects): boolean {
  const places = objects.refPlaces.get(s.num);
  return nameOf(s.dict.get("Subtype")) === "Image" && !!places?.size && [...places].every((p) => IMAGE_PLACE.test(p));
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Measures the file's streams and defuses, in `bytes`, each one that decodes past its limit, then as many of the
 * largest streams of a /Contents array (or any array of references) as keep the array within its page limit.
 * A stream is decoded only when its bound (its length times its filters' largest ratio) could break a limit.
 * Returns the defused streams.
 */
export function defuseOversizedStreams(bytes: Uint8Array): DefusedStream[] {
  const objects = readObjects(bytes);
  // The last definition of an object is what a file updated incrementally means by it.
  const resolve = (v: PdfValue | undefined): PdfValue | undefined =>
    v && typeof v === "object" && "ref" in v ? objects.values.get(v.ref)?.at(-1) : v;
  const filtersOf = (s: PdfStream) =>
    filterSpecs(resolve(s.dict.get("Filter") ?? s.dict.get("F")), resolve(s.dict.get("DecodeParms") ?? s.dict.get("DP")));
  const limitOf = (s: PdfStream) => (nameOf(s.dict.get("Subtype")) === "Image" ? MAX_IMAGE_STREAM_BYTES : MAX_STREAM_BYTES);
  /** Decoded size when measured, else the bound. */
  const sizes = new Map<PdfStream, { bytes: number; exact: boolean }>();
  const defused = new Map<PdfStream, number>();

  const measure = (s: PdfStream, collect?: (chunk: Uint8Array) => void) => {
    const size = decodedSize(bytes.subarray(s.dataStart, s.dataEnd), filtersOf(s), limitOf(s), collect);
    sizes.set(s, { bytes: size, exact: true });
    if (size > limitOf(s)) defused.set(s, size);
    return size <= limitOf(s);
  };

  for (const s of objects.streams) {
    s.dataEnd = Math.max(s.searchedEnd, streamEnd(bytes, s.dataStart, resolve(s.dict.get("Length")), s.searchedEnd));
  }
  // Object streams first, decoded whatever their size: the objects inside them (page dictionaries, /Contents
  // arrays, filters) are needed below.
  const isObjectStream = (s: PdfStream) => typeof s.dict.get("N") === "number" && typeof s.dict.get("First") === "number";
  for (const s of objects.streams.filter(isObjectStream)) {
    const chunks: Uint8Array[] = [];
    if (measure(s, (c) => chunks.push(c.slice())))
      readObjectStream(concat(chunks), s.dict.get("N") as number, s.dict.get("First") as number, objects);
  }
  for (const s of objects.streams) {
    if (sizes.has(s)) continue;
    // An image drawn only as an image: pdf.js reads no more of it than its pixels (within MAX_IMAGE_PIXELS).
    if (isImageOnly(s, objects)) {
      sizes.set(s, { bytes: 0, exact: true });
      continue;
    }
    const bound = maxDecodedSize(s.dataEnd - s.dataStart, filtersOf(s));
    if (bound > limitOf(s)) measure(s);
    else sizes.set(s, { bytes: bound, exact: false });
  }

  // A page's content streams together (the same stream may be listed many times), measured when their bounds
  // together could break the page limit.
  const byNum = new Map<number, PdfStream[]>();
  for (const s of objects.streams) byNum.set(s.num, [...(byNum.get(s.num) ?? []), s]);
  const sizeOf = (num: number) => Math.max(0, ...(byNum.get(num) ?? []).map((s) => (defused.has(s) ? 0 : (sizes.get(s)?.bytes ?? 0))));
  const sumOf = (refs: number[]) => refs.reduce((n, num) => n + sizeOf(num), 0);
  for (const refs of objects.refArrays) {
    if (sumOf(refs) <= MAX_PAGE_CONTENT_BYTES) continue;
    for (const num of new Set(refs)) for (const s of byNum.get(num) ?? []) if (!sizes.get(s)?.exact) measure(s);
    let sum = sumOf(refs);
    const total = sum;
    for (const num of [...new Set(refs)].sort((a, b) => sizeOf(b) - sizeOf(a))) {
      if (sum <= MAX_PAGE_CONTENT_BYTES) break;
      sum -= sizeOf(num) * refs.filter((r) => r === num).length;
      for (const s of byNum.get(num) ?? []) defused.set(s, total);
    }
  }

  for (const s of defused.keys()) defuse(bytes, s);
  return [...defused].map(([s, decodedBytes]) => ({ num: s.num, decodedBytes }));
}

/** Same length, so the file's offsets stay right: spaces behind the marker, and no filter left to decode them. */
function defuse(bytes: Uint8Array, s: PdfStream): void {
  bytes.fill(0x20, s.dataStart, s.dataEnd);
  if (s.dataEnd - s.dataStart >= MARKER.length) bytes.set(MARKER, s.dataStart);
  for (const key of ["Filter", "F", "DecodeParms", "DP"]) {
    const at = s.keyAt.get(key);
    if (at !== undefined) bytes[at + 1] = 0x58; // "X": /Filter becomes /Xilter
  }
}
