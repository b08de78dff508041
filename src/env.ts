// Bindings the Worker receives (wrangler.toml [vars], secrets, .dev.vars) and per-request context variables.
import type { Config } from "./config.ts";
import type { IngestMessage } from "./ingest/messages.ts";
import type { Services } from "./services/index.ts";

export interface Env {
  ANALYTICS?: AnalyticsEngineDataset;
  /** The static assets (public/): the demo page and pdf.js's CMaps and standard fonts (public/pdfjs/). */
  ASSETS?: Fetcher;
  DOCUMENTS: R2Bucket;
  INGEST_QUEUE: Queue<IngestMessage>;
  CHAT_SESSIONS: DurableObjectNamespace<import("./chat/session-object.ts").ChatSession>;
  ENVIRONMENT?: string;
  DATABASE_URL?: string;
  NEON_LOCAL_PROXY?: string;
  DB_TIMEOUT_MS?: string;
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
  JWT_SECRET?: string;
  JWT_ISSUER?: string;
  JWT_AUDIENCE?: string;
  MAIL_PROVIDER?: string;
  MAIL_FROM?: string;
  RESEND_API_KEY?: string;
  DEV_RETURN_LOGIN_CODE?: string;
  CORS_ORIGINS?: string;
  LOGIN_CODE_RESEND_SECONDS?: string;
  RATE_LIMIT_AUTH_PER_EMAIL?: string;
  RATE_LIMIT_AUTH_PER_IP?: string;
  RATE_LIMIT_API_PER_USER?: string;
  MAX_JSON_BODY_BYTES?: string;
  OPENAI_BASE_URL?: string;
  OPENAI_API_KEY?: string;
  EMBEDDING_MODEL?: string;
  SEARCH_EXACT_SCAN_MAX_CHUNKS?: string;
  CHAT_MODELS?: string;
  CHAT_DEFAULT_MODEL?: string;
  CHAT_TIMEOUT_MS?: string;
  CHAT_MAX_ANSWER_TOKENS?: string;
  CHAT_HISTORY_TOKENS?: string;
  CHAT_SOURCES?: string;
  OCR_MODEL?: string;
  OCR_MAX_PAGES_PER_DOCUMENT?: string;
  INGEST_STALL_MINUTES?: string;
  INGEST_MAX_SWEEPS?: string;
  DAILY_TOKEN_BUDGET_PER_USER?: string;
  DAILY_TOKEN_BUDGET_PER_TENANT?: string;
}

export interface Tenant {
  id: string;
  name: string;
}

export interface AuthUser {
  id: string;
  email: string;
  tenantId: string;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    config: Config;
    services: Services;
    tenant: Tenant;
    user: AuthUser;
  };
}
