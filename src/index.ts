// Worker entry point: the HTTP app, the ingestion queues' consumer and the stall sweeper's cron.
import { createApp } from "./app.ts";
import type { Env } from "./env.ts";
import { handleIngestBatch } from "./ingest/consumer.ts";
import type { IngestMessage } from "./ingest/messages.ts";
import { sweepStalledIngestions } from "./ingest/sweeper.ts";

export { ChatSession } from "./chat/session-object.ts";

const app = createApp();

const worker: ExportedHandler<Env, IngestMessage> = {
  fetch: app.fetch,
  queue: handleIngestBatch,
  scheduled: async (_controller, env) => {
    await sweepStalledIngestions(env);
  },
};

export default worker;
