// Configuration is validated once per isolate; a bad value fails every request with a message naming it.
import { z } from "zod";
import type { Env } from "./env.ts";

const DURATION_UNITS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** "5/10m" → 5 requests per 600 seconds. */
const rateSpec = z
  .string()
  .regex(/^\d+\/\d+[smhd]$/, 'expected "<count>/<number><s|m|h|d>", e.g. "5/10m"')
  .transform((spec) => {
    const [count, window] = spec.split("/") as [string, string];
    const unit = window.slice(-1) as keyof typeof DURATION_UNITS;
    return { limit: Number(count), windowSeconds: Number(window.slice(0, -1)) * DURATION_UNITS[unit] };
  })
  .refine((r) => r.limit > 0 && r.windowSeconds > 0, "count and window must be positive");

export type RateSpec = z.output<typeof rateSpec>;

/** "5s,30s,2m" → [5, 30, 120] seconds: a queue can delay a message by at most 12 hours. */
const delayList = z
  .string()
  .regex(/^\d+[smh](,\d+[smh])*$/, 'expected durations separated by commas, e.g. "5s,30s,2m"')
  .transform((spec) => spec.split(",").map((d) => Number(d.slice(0, -1)) * DURATION_UNITS[d.slice(-1) as keyof typeof DURATION_UNITS]))
  .refine((delays) => delays.length <= 10, "at most 10 delays")
  .refine((delays) => delays.every((s) => s <= 12 * 3600), "each delay at most 12h");

const url = z.url();

const schema = z
  .object({
    ENVIRONMENT: z.enum(["development", "production"]).default("production"),
    DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// connection string"),
    NEON_LOCAL_PROXY: z
      .string()
      .regex(/^[\w.-]+:\d+$/, 'must be "host:port" of the local Neon stand-in')
      .optional(),
    // Deadline of every database call (connecting included): past it the API answers 503 database_unavailable.
    DB_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
    UPSTASH_REDIS_REST_URL: url,
    UPSTASH_REDIS_REST_TOKEN: z.string().min(1),
    JWT_SECRET: z.string().min(32, "must be at least 32 characters"),
    JWT_ISSUER: z.string().min(1).default("docuchat"),
    JWT_AUDIENCE: z.string().min(1).default("docuchat-api"),
    MAIL_PROVIDER: z.enum(["console", "resend"]).default("console"),
    MAIL_FROM: z.string().min(3).default("DocuChat <login@docuchat.dev>"),
    RESEND_API_KEY: z.string().min(1).optional(),
    DEV_RETURN_LOGIN_CODE: z
      .enum(["true", "false"])
      .default("false")
      .transform((v) => v === "true"),
    CORS_ORIGINS: z
      .string()
      .default("")
      .transform((v) =>
        v
          .split(",")
          .map((o) => o.trim())
          .filter(Boolean),
      ),
    LOGIN_CODE_RESEND_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
    RATE_LIMIT_AUTH_PER_EMAIL: rateSpec.default({ limit: 10, windowSeconds: 600 }),
    RATE_LIMIT_AUTH_PER_IP: rateSpec.default({ limit: 30, windowSeconds: 600 }),
    RATE_LIMIT_API_PER_USER: rateSpec.default({ limit: 120, windowSeconds: 60 }),
    MAX_JSON_BODY_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(10 * 1024 * 1024)
      .default(64 * 1024),
    OPENAI_BASE_URL: url.default("https://api.openai.com/v1"),
    OPENAI_API_KEY: z.string().min(1),
    EMBEDDING_MODEL: z.string().min(1).default("text-embedding-3-small"),
    SEARCH_EXACT_SCAN_MAX_CHUNKS: z.coerce.number().int().min(0).default(2_000),
    // pgvector's own bounds.
    SEARCH_HNSW_EF_SEARCH: z.coerce.number().int().min(1).max(1000).default(400),
    CHAT_MODELS: z
      .string()
      .default("gpt-4o-mini,gpt-4o")
      .transform((v) =>
        v
          .split(",")
          .map((m) => m.trim())
          .filter(Boolean),
      )
      .refine((models) => models.length > 0, "must name at least one model"),
    CHAT_DEFAULT_MODEL: z.string().min(1).default("gpt-4o-mini"),
    CHAT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(60_000),
    CHAT_MAX_ANSWER_TOKENS: z.coerce.number().int().min(100).max(100_000).default(2_000),
    CHAT_HISTORY_TOKENS: z.coerce.number().int().min(0).max(100_000).default(2_000),
    CHAT_SOURCES: z.coerce.number().int().min(1).max(20).default(6),
    // A follow-up question is rewritten into a standalone search query by this chat model ("off": searched as asked).
    CHAT_REWRITE_MODEL: z.string().min(1).default("gpt-4o-mini"),
    // The fused top RERANK_CANDIDATES are scored for relevance (0–1) by this chat model ("off": fused order), and
    // those under RERANK_MIN_SCORE dropped.
    RERANK_MODEL: z.string().min(1).default("off"),
    RERANK_CANDIDATES: z.coerce.number().int().min(1).max(50).default(20),
    RERANK_MIN_SCORE: z.coerce.number().min(0).max(1).default(0.4),
    // A vision-capable chat model reads scanned pages; "off" indexes only pages that have a text layer.
    OCR_MODEL: z.string().min(1).default("gpt-4.1-mini"),
    OCR_MAX_PAGES_PER_DOCUMENT: z.coerce.number().int().min(0).max(500).default(100),
    // An ingestion whose progress has not moved for this long is re-queued by the sweeper (cron), at most
    // INGEST_MAX_SWEEPS times, then failed as ingest_stalled. Longer than a range ever takes, queue wait included.
    INGEST_STALL_MINUTES: z.coerce.number().int().min(1).max(1440).default(15),
    INGEST_MAX_SWEEPS: z.coerce.number().int().min(0).max(20).default(3),
    // Waits between a webhook delivery's attempts; it fails for good after 1 + this many attempts (src/webhooks/deliver.ts).
    WEBHOOK_RETRY_DELAYS: delayList.default([5, 30, 120, 600, 3600, 21_600, 43_200]),
    DAILY_TOKEN_BUDGET_PER_USER: z.coerce.number().int().min(0).default(500_000),
    DAILY_TOKEN_BUDGET_PER_TENANT: z.coerce.number().int().min(0).default(20_000_000),
  })
  .superRefine((c, ctx) => {
    // The dev-only login shortcut and the local proxies can never be carried by a production configuration.
    if (c.ENVIRONMENT === "production" && c.DEV_RETURN_LOGIN_CODE)
      ctx.addIssue({ code: "custom", path: ["DEV_RETURN_LOGIN_CODE"], message: "is only allowed when ENVIRONMENT=development" });
    if (c.ENVIRONMENT === "production" && c.NEON_LOCAL_PROXY)
      ctx.addIssue({ code: "custom", path: ["NEON_LOCAL_PROXY"], message: "is only allowed when ENVIRONMENT=development" });
    if (c.ENVIRONMENT === "production" && c.MAIL_PROVIDER === "console")
      ctx.addIssue({ code: "custom", path: ["MAIL_PROVIDER"], message: 'must be a real provider ("resend") in production' });
    if (!c.CHAT_MODELS.includes(c.CHAT_DEFAULT_MODEL))
      ctx.addIssue({ code: "custom", path: ["CHAT_DEFAULT_MODEL"], message: "must be one of CHAT_MODELS" });
    if (c.MAIL_PROVIDER === "resend" && !c.RESEND_API_KEY)
      ctx.addIssue({ code: "custom", path: ["RESEND_API_KEY"], message: "is required when MAIL_PROVIDER=resend" });
  });

export type Config = z.output<typeof schema>;

const NOT_SET = "is required but not set";
export const LOCAL_HINT =
  " — for local development run `npm run dev`, which starts the local stack and sets every variable; or copy .dev.vars.example to .dev.vars and fill it in";

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses the Worker's bindings; the error message lists every offending variable by name. */
export function parseConfig(env: Env): Config {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => {
    const name = i.path.join(".") || "(config)";
    // Judged by the raw binding: a coerced number's issue carries no input even when a value was set.
    const unset = i.path.length === 1 && (env as unknown as Record<string, unknown>)[String(i.path[0])] === undefined;
    const message = i.code === "invalid_type" && unset ? NOT_SET : i.code === "invalid_type" ? `is not a valid ${i.expected}` : i.message;
    return `${name} ${message}`;
  });
  // Unset secrets mostly mean a plain `wrangler dev` without the local stack: say how to get one.
  const hint = problems.some((p) => p.endsWith(NOT_SET)) ? LOCAL_HINT : "";
  throw new ConfigError(`Invalid configuration: ${problems.join("; ")}${hint}`);
}

const cache = new WeakMap<object, Config | ConfigError>();

/**
 * The env object is stable per isolate, so parse once and reuse. A bad configuration is remembered too, and logged
 * once as a plain line, so the terminal of a misconfigured `wrangler dev` says what is wrong without scrolling logs.
 */
export function getConfig(env: Env): Config {
  let entry = cache.get(env);
  if (!entry) {
    try {
      entry = parseConfig(env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      console.error(err.message);
      entry = err;
    }
    cache.set(env, entry);
  }
  if (entry instanceof ConfigError) throw entry;
  return entry;
}
