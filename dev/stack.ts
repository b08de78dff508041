// The local stack: stand-ins for Neon, Upstash and OpenAI, a migrated database, and the bindings that
// point the Worker at them. Used through local-api.ts by `npm run dev` (persistent), the benchmarks and the
// end-to-end tests (in memory), and directly by the workerd tests' setup. Real services are used instead
// wherever the environment names them.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { migrateDatabase } from "../scripts/lib/db.ts";
import { startNeonStandIn } from "./neon/server.ts";
import { startOpenAIStandIn } from "./openai/server.ts";
import { startUpstashStandIn } from "./upstash/server.ts";

export interface StackOptions {
  /** Folder for PGlite and redis-server data; in-memory when absent. */
  persistDir?: string;
  /** Where DATABASE_URL, REDIS_URL, UPSTASH_*, OPENAI_* may name real services (and NEON_STANDIN_DELAY_MS set the delay). */
  env?: Record<string, string | undefined>;
  /** Milliseconds the Neon stand-in adds to every database round trip (a distant region); NEON_STANDIN_DELAY_MS, else 0. */
  neonDelayMs?: number;
  log?: (line: string) => void;
}

export interface Stack {
  /** Variables for the Worker (wrangler dev --env-file, or miniflare bindings in tests). */
  bindings: Record<string, string>;
  /** Plain Postgres URL of the database behind the Neon stand-in. */
  postgresUrl: string;
  /** Base URL of the OpenAI-compatible API the Worker calls. */
  openaiUrl: string;
  /** What runs behind each service, for the banner. */
  backends: { database: string; redis: string; openai: string };
  close(): Promise<void>;
}

function neonDelay(options: StackOptions, env: Record<string, string | undefined>): number {
  const delay = options.neonDelayMs ?? Number(env.NEON_STANDIN_DELAY_MS ?? 0);
  if (!Number.isInteger(delay) || delay < 0) throw new Error(`NEON_STANDIN_DELAY_MS must be a whole number of milliseconds, not ${delay}`);
  return delay;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const delayMs = neonDelay(options, env);
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const fn of closers.reverse()) await fn().catch(() => {});
  };

  try {
    const neon = await startNeonStandIn({
      dataDir: options.persistDir && join(options.persistDir, "pglite"),
      databaseUrl: env.DATABASE_URL,
      delayMs,
      log,
    });
    closers.push(() => neon.close());
    await migrateDatabase(neon.postgresUrl);

    let redisUrl = env.UPSTASH_REDIS_REST_URL;
    let redisToken = env.UPSTASH_REDIS_REST_TOKEN;
    let redisBackend = "Upstash (UPSTASH_REDIS_REST_URL)";
    if (!redisUrl || !redisToken) {
      const upstash = await startUpstashStandIn({
        token: randomBytes(16).toString("hex"),
        redisUrl: env.REDIS_URL,
        dataDir: options.persistDir && join(options.persistDir, "redis"),
        log,
      });
      closers.push(() => upstash.close());
      ({ url: redisUrl, token: redisToken } = upstash);
      redisBackend = `Upstash stand-in → ${upstash.backend}`;
    }

    let openaiUrl = env.OPENAI_BASE_URL;
    let openaiBackend = `OpenAI-compatible API at ${openaiUrl}`;
    if (!openaiUrl) {
      const openai = await startOpenAIStandIn({ log });
      closers.push(() => openai.close());
      openaiUrl = openai.url;
      openaiBackend = "OpenAI stand-in (deterministic, offline)";
    }

    return {
      bindings: {
        ENVIRONMENT: "development",
        DATABASE_URL: neon.postgresUrl,
        NEON_LOCAL_PROXY: `${neon.host}:${neon.port}`,
        UPSTASH_REDIS_REST_URL: redisUrl,
        UPSTASH_REDIS_REST_TOKEN: redisToken,
        OPENAI_BASE_URL: openaiUrl,
        OPENAI_API_KEY: env.OPENAI_API_KEY ?? "local-stand-in",
        MAIL_PROVIDER: "console",
        DEV_RETURN_LOGIN_CODE: "true",
        CORS_ORIGINS: "*",
      },
      postgresUrl: neon.postgresUrl,
      openaiUrl,
      backends: {
        database: `Neon stand-in → ${neon.backend === "pglite" ? `PGlite + pgvector${options.persistDir ? "" : " (in memory)"}` : "Postgres (DATABASE_URL)"}${delayMs ? `, +${delayMs} ms per round trip` : ""}`,
        redis: redisBackend,
        openai: openaiBackend,
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
