// Request-scoped services, built from the validated config and put on the Hono context.
import { Redis } from "@upstash/redis/cloudflare";
import type { Config } from "../config.ts";
import { createDb, type Db } from "../db/client.ts";
import { createMailer, type Mailer } from "./mailer.ts";

export interface Services {
  db: Db;
  redis: Redis;
  mailer: Mailer;
}

export function createServices(config: Config): Services {
  return {
    db: createDb(config),
    // Two quick retries: the request path should fail fast rather than wait seconds for a dead Redis.
    redis: new Redis({
      url: config.UPSTASH_REDIS_REST_URL,
      token: config.UPSTASH_REDIS_REST_TOKEN,
      retry: { retries: 2, backoff: (n) => 50 * 2 ** n },
    }),
    mailer: createMailer(config),
  };
}
