// The services every handler uses, built once per isolate from the validated config and put on the Hono context.
// None of them holds I/O across requests (each call makes its own fetch), so one instance serves every request
// the isolate handles; rebuilding them per request cost more Worker CPU than most routes' own work.
import { Redis } from "@upstash/redis/cloudflare";
import type OpenAI from "openai";
import { createOpenAI } from "../ai/client.ts";
import type { Config } from "../config.ts";
import { createDb, type Db } from "../db/client.ts";
import { createMailer, type Mailer } from "./mailer.ts";

export interface Services {
  db: Db;
  redis: Redis;
  mailer: Mailer;
  /** Built on first use: most routes never call the model. */
  readonly openai: OpenAI;
}

function createServices(config: Config): Services {
  let openai: OpenAI | undefined;
  return {
    db: createDb(config),
    redis: new Redis({
      url: config.UPSTASH_REDIS_REST_URL,
      token: config.UPSTASH_REDIS_REST_TOKEN,
      // Two quick retries: the request path should fail fast rather than wait seconds for a dead Redis.
      retry: { retries: 2, backoff: (n) => 50 * 2 ** n },
      // Auto-pipelining would batch concurrent requests' commands into one fetch made in one request's context,
      // which workerd cancels when that request ends: a shared client must send each request's commands itself.
      enableAutoPipelining: false,
    }),
    mailer: createMailer(config),
    get openai() {
      openai ??= createOpenAI(config);
      return openai;
    },
  };
}

// Keyed by the config object, which src/config.ts caches per env: tests that pass other variables get their own.
const built = new WeakMap<Config, Services>();

export function servicesFor(config: Config): Services {
  let services = built.get(config);
  if (!services) {
    services = createServices(config);
    built.set(config, services);
  }
  return services;
}
