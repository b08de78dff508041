// Worker entry point.
import { createApp } from "./app.ts";
import type { Env } from "./env.ts";
import { handleIngestBatch } from "./ingest/consumer.ts";

import type { IngestMessage } from "./ingest/messages.ts";

export { ChatSession } from "./chat/session-object.ts";

const app = createApp();

const worker: ExportedHandler<Env, IngestMessage> = {
  fetch: app.fetch,
  queue: handleIngestBatch,
};

export default worker;
