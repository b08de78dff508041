// A PDF in R2 read piece by piece: pdf.js asks for the byte ranges it needs (the cross-reference table, the pages
// it is given), and only those are read, instead of the whole file for every ingestion range. Every read is pinned
// to the etag of the object the first range read whole: the guard (stream-limits.ts) found nothing to defuse in
// those bytes only, so another object under the key must not be read unguarded.
import { PDFDataRangeTransport } from "unpdf/pdfjs";

/**
 * pdf.js's rangeChunkSize, and the first read. Each miss is a round trip to R2 while the page waits: a later
 * 50-page range of bench:ingest's 22.7 MB, 420-page PDF read 4.5 MB in 39-59 requests with 64 KB, 6.7 MB in 17-21
 * with 256 KB, 8.9 MB in 5-7 with 1 MB. Bytes past the need cost little (R2 bills requests, not egress).
 */
export const RANGE_CHUNK_BYTES = 1024 * 1024;

interface Pinned {
  bucket: R2Bucket;
  key: string;
  etag: string;
}

/** The bytes [offset, offset + length) of the pinned object, or null when it is gone or no longer that object. */
async function read({ bucket, key, etag }: Pinned, offset: number, length: number): Promise<Uint8Array | null> {
  const object = await bucket.get(key, { range: { offset, length }, onlyIf: { etagMatches: etag } });
  // A failed precondition gives the object's metadata without its body.
  if (!object || !("body" in object)) return null;
  return new Uint8Array(await object.arrayBuffer());
}

export class R2RangeTransport extends PDFDataRangeTransport {
  /** Bytes read from R2 so far (the ingest data point's bytes_read). */
  bytesRead: number;
  /**
   * Rejects when a read fails (an R2 error, or another object under the key): pdf.js cannot be told, it would
   * wait for the bytes forever. The work with the document races it.
   */
  readonly failed: Promise<never>;
  readonly #pinned: Pinned;
  #fail: (err: unknown) => void = () => {};

  constructor(pinned: Pinned, first: Uint8Array, size: number) {
    super(size, first);
    this.#pinned = pinned;
    this.bytesRead = first.length;
    this.failed = new Promise<never>((_, reject) => {
      this.#fail = reject;
    });
    this.failed.catch(() => {}); // whoever races it sees it; it is never an unhandled rejection
  }

  override requestDataRange(begin: number, end: number): void {
    read(this.#pinned, begin, end - begin)
      .then((chunk) => {
        if (!chunk) throw new Error(`The PDF under ${this.#pinned.key} was replaced or deleted while its pages were read`);
        this.bytesRead += chunk.length;
        this.onDataRange(begin, chunk);
      })
      .catch(this.#fail);
  }
}

/** The transport for the object under `key`, or null when it is gone or no longer the one with `etag`. */
export async function openR2Ranges(bucket: R2Bucket, key: string, etag: string): Promise<R2RangeTransport | null> {
  const pinned = { bucket, key, etag };
  const object = await bucket.head(key);
  if (!object || object.etag !== etag) return null;
  const first = await read(pinned, 0, Math.min(RANGE_CHUNK_BYTES, object.size));
  return first && new R2RangeTransport(pinned, first, object.size);
}
