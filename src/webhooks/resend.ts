// Run by the cron: sends again the deliveries whose message was lost — never sent (the queue refused it after the
// row was written) or dropped after the queue's max_retries (our database was down meanwhile). A pending delivery
// whose row has not changed for longer than the longest retry wait (plus a margin) has no message left.
import { getConfig } from "../config.ts";
import type { Env } from "../env.ts";
import { servicesFor } from "../services/index.ts";

/** Deliveries handled per run: a large backlog drains over a few runs. */
const RESEND_BATCH = 100;
const MARGIN_SECONDS = 15 * 60;

export async function resendLostDeliveries(env: Env): Promise<number> {
  const config = getConfig(env);
  const { db } = servicesFor(config);
  const quietSeconds = Math.max(0, ...config.WEBHOOK_RETRY_DELAYS) + MARGIN_SECONDS;
  // Claimed by touching updated_at in the same statement, so overlapping runs never send one delivery twice.
  const lost = (await db.$client.query(
    `with lost as (
       select tenant_id, id from webhook_deliveries
       where status = 'pending' and updated_at < now() - make_interval(secs => $1)
       order by updated_at limit $2 for update skip locked
     )
     update webhook_deliveries d set updated_at = now() from lost l where d.tenant_id = l.tenant_id and d.id = l.id
     returning d.tenant_id, d.id`,
    [quietSeconds, RESEND_BATCH],
  )) as Array<{ tenant_id: string; id: string }>;
  if (lost.length) await env.WEBHOOK_QUEUE.sendBatch(lost.map((d) => ({ body: { tenantId: d.tenant_id, deliveryId: d.id } })));
  if (lost.length) console.log(JSON.stringify({ level: "info", msg: "webhook deliveries sent again", count: lost.length }));
  return lost.length;
}
