/** wrangler.toml: the queue that carries webhook deliveries (src/index.ts dispatches its batches here). */
export const WEBHOOK_QUEUE_NAME = "docuchat-webhooks";

/** One attempt-series of one event to one endpoint: everything else is read from its webhook_deliveries row. */
export interface WebhookMessage {
  tenantId: string;
  deliveryId: string;
}
