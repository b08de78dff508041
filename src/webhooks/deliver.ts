// The webhook queue's consumer: one attempt of one delivery per message, signed as Standard Webhooks says. A 2xx
// answer delivers it; anything else (another status, a redirect, a timeout, a network error) is recorded and the
// message comes back after the next wait of WEBHOOK_RETRY_DELAYS, until they run out: then the delivery failed.
// The delivery row, not the message, counts attempts, so a message sent again by the cron continues the series.
import { Webhook } from "standardwebhooks";
import { type Config, getConfig } from "../config.ts";
import type { Db } from "../db/client.ts";
import type { Env } from "../env.ts";
import { servicesFor } from "../services/index.ts";
import type { WebhookMessage } from "./messages.ts";

/** A receiver that has not answered within this long has failed the attempt. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** When our own side failed (the database): try again after this long, without counting an attempt. */
const INFRASTRUCTURE_RETRY_SECONDS = 30;
const MAX_ERROR_LENGTH = 500;

interface PendingDelivery {
  id: string;
  tenant_id: string;
  event_id: string;
  payload: unknown;
  attempts: number;
  url: string;
  secret: string;
  enabled: boolean;
}

interface AttemptResult {
  ok: boolean;
  responseStatus: number | null;
  error: string | null;
}

export async function handleWebhookBatch(batch: MessageBatch<WebhookMessage>, env: Env): Promise<void> {
  const config = getConfig(env);
  const { db } = servicesFor(config);
  // Each message waits on a different receiver: attempt them side by side.
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        const retryInSeconds = await attemptDelivery(db, config, message.body);
        if (retryInSeconds === null) message.ack();
        else message.retry({ delaySeconds: retryInSeconds });
      } catch (err) {
        console.error(
          JSON.stringify({ level: "error", msg: "webhook delivery not attempted", delivery_id: message.body.deliveryId, error: String(err) }),
        );
        message.retry({ delaySeconds: INFRASTRUCTURE_RETRY_SECONDS });
      }
    }),
  );
}

/** Attempts the delivery once and records the outcome; the seconds until the next attempt, or null when done. */
async function attemptDelivery(db: Db, config: Config, { tenantId, deliveryId }: WebhookMessage): Promise<number | null> {
  const [delivery] = (await db.$client.query(
    `select d.id, d.tenant_id, d.event_id, d.payload, d.attempts, e.url, e.secret, e.enabled
     from webhook_deliveries d join webhook_endpoints e on e.tenant_id = d.tenant_id and e.id = d.endpoint_id
     where d.tenant_id = $1 and d.id = $2 and d.status = 'pending'`,
    [tenantId, deliveryId],
  )) as PendingDelivery[];
  // Its endpoint was deleted (and its deliveries with it), or another message already finished it.
  if (!delivery) return null;
  if (!delivery.enabled) {
    await record(db, delivery, "failed", { ok: false, responseStatus: null, error: "The endpoint was disabled" }, delivery.attempts);
    return null;
  }
  const result = await post(delivery);
  const attempts = delivery.attempts + 1;
  const delays = config.WEBHOOK_RETRY_DELAYS;
  const status = result.ok ? "delivered" : attempts > delays.length ? "failed" : "pending";
  const recorded = await record(db, delivery, status, result, attempts);
  return recorded && status === "pending" ? delays[attempts - 1]! : null;
}

/** Writes the attempt unless another message recorded one meanwhile (then that one carries the series on). */
async function record(db: Db, d: PendingDelivery, status: string, result: AttemptResult, attempts: number): Promise<boolean> {
  const rows = await db.$client.query(
    `update webhook_deliveries set status = $4, attempts = $5, response_status = $6, last_error = $7, updated_at = now(),
       delivered_at = case when $4 = 'delivered' then now() end
     where tenant_id = $1 and id = $2 and status = 'pending' and attempts = $3
     returning id`,
    [d.tenant_id, d.id, d.attempts, status, attempts, result.responseStatus, result.error?.slice(0, MAX_ERROR_LENGTH) ?? null],
  );
  return rows.length > 0;
}

/** One signed POST. Signed anew each attempt: the timestamp is the attempt's, so receivers' replay windows hold. */
async function post(d: PendingDelivery): Promise<AttemptResult> {
  const body = JSON.stringify(d.payload);
  const now = new Date();
  try {
    const res = await fetch(d.url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "User-Agent": "DocuChat-Webhooks/1",
        "webhook-id": d.event_id,
        "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
        "webhook-signature": new Webhook(d.secret).sign(d.event_id, now, body),
      },
      body,
      // A redirect could send the signed event anywhere, an internal address included: it is a failed attempt.
      redirect: "manual",
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    await res.body?.cancel();
    if (res.status >= 200 && res.status < 300) return { ok: true, responseStatus: res.status, error: null };
    const redirect = res.status >= 300 && res.status < 400;
    const error = redirect
      ? `HTTP ${res.status}: redirects are not followed (Location: ${res.headers.get("Location") ?? "none"})`
      : `HTTP ${res.status}`;
    return { ok: false, responseStatus: res.status, error };
  } catch (err) {
    const timedOut = err instanceof DOMException && (err.name === "TimeoutError" || err.name === "AbortError");
    return {
      ok: false,
      responseStatus: null,
      error: timedOut ? `No answer within ${DELIVERY_TIMEOUT_MS / 1000} s` : `Request failed: ${String(err)}`,
    };
  }
}
