// The stall sweeper, run by the cron trigger: an ingestion whose progress has not moved for INGEST_STALL_MINUTES is
// queued again (its first message queues the ranges not stored yet), at most INGEST_MAX_SWEEPS times, then failed
// as ingest_stalled. It ends what no consumer can: a message lost in a restart, or an isolate that died (memory,
// CPU) before it could mark anything.
import { getConfig } from "../config.ts";
import type { Env } from "../env.ts";
import { servicesFor } from "../services/index.ts";
import { emitIngestionOutcome } from "../webhooks/emit.ts";
import { recordFailure } from "./consumer.ts";
import { markFailed } from "./store.ts";

/** Documents handled per run and per step: a large backlog drains over a few runs instead of one long one. */
const SWEEP_BATCH = 100;

interface StalledRow {
  tenant_id: string;
  user_id: string;
  id: string;
}

export async function sweepStalledIngestions(env: Env): Promise<{ requeued: number; failed: number }> {
  const config = getConfig(env);
  const { db } = servicesFor(config);
  const stall = config.INGEST_STALL_MINUTES;
  const maxSweeps = config.INGEST_MAX_SWEEPS;
  const stalled = "status in ('queued', 'processing') and updated_at < now() - make_interval(mins => $1)";

  // The only queries across tenants: finding the work. Every write is scoped to the row's own tenant and owner.
  const exhausted = (await db.$client.query(
    `select tenant_id, user_id, id from documents where ${stalled} and ingest_sweeps >= $2 order by updated_at limit $3`,
    [stall, maxSweeps, SWEEP_BATCH],
  )) as StalledRow[];
  let failed = 0;
  for (const d of exhausted) {
    const message = `Ingestion made no progress for ${stall} minutes after being re-queued ${maxSweeps} times; retry it (POST /v1/files/${d.id}/retry) or upload the file again`;
    const job = { tenantId: d.tenant_id, userId: d.user_id, documentId: d.id, fromPage: 1 };
    if (await markFailed(db, job, "ingest_stalled", message, { stalledMinutes: stall })) {
      recordFailure(env, job, "ingest_stalled");
      await emitIngestionOutcome(env, db, job, "document.failed");
      failed++;
    }
  }

  // Claimed and counted in one statement (touching updated_at), so overlapping runs never re-queue a document twice;
  // back to queued, so that its first message starts it again.
  const requeued = (await db.$client.query(
    `with claimed as (
       select tenant_id, id from documents where ${stalled} and ingest_sweeps < $2 order by updated_at limit $3 for update skip locked
     )
     update documents d set status = 'queued', ingest_sweeps = d.ingest_sweeps + 1, updated_at = now()
     from claimed c
     where d.tenant_id = c.tenant_id and d.id = c.id
     returning d.tenant_id, d.user_id, d.id`,
    [stall, maxSweeps, SWEEP_BATCH],
  )) as StalledRow[];
  if (requeued.length) {
    await env.INGEST_QUEUE.sendBatch(
      requeued.map((d) => ({
        body: { tenantId: d.tenant_id, userId: d.user_id, documentId: d.id, fromPage: 1 },
      })),
    );
  }
  console.log(JSON.stringify({ level: "info", msg: "ingest sweep", requeued: requeued.length, failed, stall_minutes: stall }));
  return { requeued: requeued.length, failed };
}
