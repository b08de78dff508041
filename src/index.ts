// Worker entry point: the HTTP app, the queues' consumers (ingestion, webhooks) and the cron's sweeps.
import { createApp } from "./app.ts";
import { getConfig } from "./config.ts";
import type { Env } from "./env.ts";
import { handleIngestBatch } from "./ingest/consumer.ts";
import type { IngestMessage } from "./ingest/messages.ts";
import { sweepStalledIngestions } from "./ingest/sweeper.ts";
import { backfillSearchForms } from "./search/keyword/backfill.ts";
import { servicesFor } from "./services/index.ts";
import { handleWebhookBatch } from "./webhooks/deliver.ts";
import { WEBHOOK_QUEUE_NAME, type WebhookMessage } from "./webhooks/messages.ts";
import { resendLostDeliveries } from "./webhooks/resend.ts";

export { ChatSession } from "./chat/session-object.ts";

const app = createApp();

const worker: ExportedHandler<Env, IngestMessage | WebhookMessage> = {
  fetch: app.fetch,
  queue: (batch, env) =>
    batch.queue === WEBHOOK_QUEUE_NAME
      ? handleWebhookBatch(batch as MessageBatch<WebhookMessage>, env)
      : handleIngestBatch(batch as MessageBatch<IngestMessage>, env),
  scheduled: async (_controller, env) => {
    // Each runs whatever the others do; a failure of any still fails the invocation, which is logged.
    await Promise.all([sweepStalledIngestions(env), resendLostDeliveries(env), backfillSearchForms(servicesFor(getConfig(env)).db)]);
  },
};

export default worker;
