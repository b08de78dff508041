// Sending a document's ingestion to the queue, for the routes that start one (upload) or start one again
// (upload of the same bytes, retry).
import type { Context } from "hono";
import { type DocumentRow, type Owner, requeueDocument, restoreFailed } from "../../documents/repository.ts";
import type { AppEnv } from "../../env.ts";
import type { IngestMessage } from "../../ingest/messages.ts";
import { ApiError } from "../../lib/errors.ts";

/** Sends the message; when the queue refuses, `undo` runs and the client gets a 503. */
export async function queueIngestion(c: Context<AppEnv>, message: IngestMessage, undo?: () => Promise<void>): Promise<void> {
  try {
    await c.env.INGEST_QUEUE.send(message);
  } catch (err) {
    await undo?.();
    console.error(JSON.stringify({ level: "error", msg: "ingest queue send failed", request_id: c.var.requestId, error: String(err) }));
    throw new ApiError(503, "queue_unavailable", "The document could not be queued for processing; nothing was stored, try again");
  }
}

/**
 * Queues a failed or stalled document again (see requeueDocument): its first message queues the ranges not stored
 * yet. Null when it is neither. If the queue refuses, a failed document is put back as it was; a stalled one stays for the sweeper.
 */
/** `owner` is who asked: their budget pays for the ingestion's OCR. */
export async function restartIngestion(c: Context<AppEnv>, owner: Owner, doc: DocumentRow): Promise<DocumentRow | null> {
  const { db } = c.var.services;
  const requeued = await requeueDocument(db, owner.tenantId, doc.id, c.var.config.INGEST_STALL_MINUTES);
  if (!requeued) return null;
  const message = { ...owner, documentId: doc.id, fromPage: 1, requestId: c.var.requestId };
  await queueIngestion(c, message, doc.status === "failed" ? () => restoreFailed(db, doc) : undefined);
  return requeued;
}
