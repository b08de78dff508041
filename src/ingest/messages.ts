/** Ingestion work item: pages [fromPage, fromPage + PAGES_PER_MESSAGE) of one document. */
export interface IngestMessage {
  tenantId: string;
  userId: string;
  documentId: string;
  fromPage: number;
  /** The upload's request id, carried through every range so one id traces the whole ingestion. */
  requestId?: string;
}
