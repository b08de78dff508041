/** Pages per ingestion message: a range this size keeps every invocation far from the CPU and memory limits. */
export const PAGES_PER_MESSAGE = 50;

/** Ingestion work item: pages [fromPage, fromPage + PAGES_PER_MESSAGE) of one document. */
export interface IngestMessage {
  tenantId: string;
  userId: string;
  documentId: string;
  fromPage: number;
  /** The upload's request id, carried through every range so one id traces the whole ingestion. */
  requestId?: string;
}

/**
 * The first page of the range to continue an ingestion from, given its progress. Progress may stand inside a
 * range that was never stored (it is written every few pages), so this is the start of that range; the consumer
 * skips ranges already stored, and a finished count redoes the last range, which then finalizes the document.
 */
export function resumePage(pagesDone: number, pagesTotal: number | null): number {
  const done = pagesTotal ? Math.min(pagesDone, pagesTotal - 1) : pagesDone;
  return Math.floor(done / PAGES_PER_MESSAGE) * PAGES_PER_MESSAGE + 1;
}
