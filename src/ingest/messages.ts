/** Pages per ingestion message: a range this size keeps every invocation far from the CPU and memory limits. */
export const PAGES_PER_MESSAGE = 50;

/**
 * Ingestion work item: pages [fromPage, fromPage + PAGES_PER_MESSAGE) of one document. The message for page 1
 * starts (or restarts) an ingestion: it learns the page count and queues every range not stored yet.
 */
export interface IngestMessage {
  tenantId: string;
  userId: string;
  documentId: string;
  fromPage: number;
  /** The upload's request id, carried through every range so one id traces the whole ingestion. */
  requestId?: string;
  /**
   * Set by the first range on the ranges it queues when the guard (src/pdf/stream-limits.ts) found nothing to
   * defuse in the object with this etag: such a range reads only the byte ranges pdf.js asks for. Without it (older
   * messages, a defused stream) or when the object is another by now, a range reads the whole file.
   */
  rangeReadsEtag?: string;
}

/** The first page of every range of a document of `pagesTotal` pages. */
export function rangeStarts(pagesTotal: number): number[] {
  return Array.from({ length: Math.ceil(pagesTotal / PAGES_PER_MESSAGE) }, (_, i) => i * PAGES_PER_MESSAGE + 1);
}

/** The last page of the range starting at `fromPage`. */
export const rangeEnd = (fromPage: number, pagesTotal: number) => Math.min(pagesTotal, fromPage + PAGES_PER_MESSAGE - 1);
