// Emitting an event: one webhook_deliveries row per enabled endpoint of the tenant subscribed to it, written in one
// statement, then one queue message per row. The row is the durable record: a message that could not be sent, or
// that died in the queue, leaves its delivery pending, and the cron sends it again (resend.ts). Emitting never
// fails what emitted it (an ingestion, a delete): it logs and returns.
import type { Db } from "../db/client.ts";
import type { WebhookEvent } from "../db/schema.ts";
import type { DocumentRow } from "../documents/repository.ts";
import { findIngestDocument } from "../documents/repository.ts";
import type { Env } from "../env.ts";

/** The body every receiver gets (docs: README "Webhooks"). */
export interface WebhookPayload {
  type: WebhookEvent;
  timestamp: string;
  data: {
    id: string;
    tenant_id: string;
    filename: string;
    status: DocumentRow["status"];
    collection_id: string | null;
    error?: { code: string; message: string };
  };
}

const payloadOf = (type: WebhookEvent, doc: DocumentRow): WebhookPayload => ({
  type,
  timestamp: new Date().toISOString(),
  data: {
    id: doc.id,
    tenant_id: doc.tenantId,
    filename: doc.filename,
    status: doc.status,
    collection_id: doc.collectionId,
    ...(doc.errorCode ? { error: { code: doc.errorCode, message: doc.errorMessage ?? "" } } : {}),
  },
});

async function emit(env: Env, db: Db, type: WebhookEvent, doc: DocumentRow): Promise<void> {
  // The webhook-id header: one per event, the same on every attempt, so receivers can drop duplicates.
  const eventId = `msg_${crypto.randomUUID().replaceAll("-", "")}`;
  const rows = (await db.$client.query(
    `insert into webhook_deliveries (tenant_id, endpoint_id, event_id, event_type, payload)
     select tenant_id, id, $2, $3, $4::jsonb from webhook_endpoints where tenant_id = $1 and enabled and $3 = any(events)
     returning id`,
    [doc.tenantId, eventId, type, JSON.stringify(payloadOf(type, doc))],
  )) as Array<{ id: string }>;
  if (rows.length) await env.WEBHOOK_QUEUE.sendBatch(rows.map((r) => ({ body: { tenantId: doc.tenantId, deliveryId: r.id } })));
}

async function emitSafely(env: Env, db: Db, type: WebhookEvent, load: () => Promise<DocumentRow | null>): Promise<void> {
  try {
    const doc = await load();
    if (doc) await emit(env, db, type, doc);
  } catch (err) {
    console.error(JSON.stringify({ level: "error", msg: "webhook event not emitted", type, error: String(err) }));
  }
}

/**
 * After an ingestion ended: document.ready or document.failed, read from the document as it now is. Nothing when it
 * is not (any more) in that state, e.g. a failure that did not apply to a document already ready, or deleted.
 */
export function emitIngestionOutcome(env: Env, db: Db, target: { tenantId: string; documentId: string }, type: "document.ready" | "document.failed") {
  const status = type === "document.ready" ? "ready" : "failed";
  return emitSafely(env, db, type, async () => {
    const doc = await findIngestDocument(db, target.tenantId, target.documentId);
    return doc?.status === status ? doc : null;
  });
}

/** After a document was deleted: its row as it was, with the status it had. */
export const emitDocumentDeleted = (env: Env, db: Db, doc: DocumentRow) => emitSafely(env, db, "document.deleted", async () => doc);
