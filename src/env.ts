// Bindings the Worker receives and per-request context variables. Everything wrangler.toml declares comes from
// worker-configuration.d.ts (`npm run cf-typegen`), so the config and the code cannot disagree: a binding removed
// from wrangler.toml is a type error wherever the code uses it. Only what wrangler.toml cannot declare is written here.
import type { Config } from "./config.ts";
import type { UserRole } from "./db/schema.ts";
import type { IngestMessage } from "./ingest/messages.ts";
import type { Services } from "./services/index.ts";
import type { StoredTenantSettings } from "./tenants/settings-schema.ts";
import type { WebhookMessage } from "./webhooks/messages.ts";

type Declared = Cloudflare.Env;

/** Secrets (`wrangler secret put`, or the local stack / .dev.vars) and variables whose defaults live in src/config.ts. */
interface Undeclared {
  DATABASE_URL?: string;
  NEON_LOCAL_PROXY?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
  JWT_SECRET?: string;
  RESEND_API_KEY?: string;
  DEV_RETURN_LOGIN_CODE?: string;
  OPENAI_API_KEY?: string;
  CHAT_HISTORY_TOKENS?: string;
  CHAT_SOURCES?: string;
}

/**
 * [vars] are optional because .dev.vars, tests and the local stack may omit any of them (src/config.ts holds the
 * defaults); the bindings the code cannot run without are required, with the message type the queue carries.
 */
export interface Env extends Partial<Declared>, Undeclared {
  DOCUMENTS: Declared["DOCUMENTS"];
  INGEST_QUEUE: Queue<IngestMessage>;
  WEBHOOK_QUEUE: Queue<WebhookMessage>;
  CHAT_SESSIONS: Declared["CHAT_SESSIONS"];
}

export interface Tenant {
  id: string;
  name: string;
  /** As stored; src/tenants/settings.ts merges them with the deployment's defaults. */
  settings: StoredTenantSettings;
}

/** What an API key may do, when the caller is one (src/api-keys/). */
export interface ApiKeyGrant {
  id: string;
  scope: "read" | "write";
  /** Null: every collection the key's identity may read; otherwise only these, and no private documents. */
  collectionIds: string[] | null;
}

export interface AuthUser {
  id: string;
  email: string;
  tenantId: string;
  /** As the database says now (src/auth/principal.ts), not as the token was issued. */
  role: UserRole;
  /** When the credential stops working (seconds since the epoch), or null for a key that never expires. */
  expiresAt: number | null;
  apiKey?: ApiKeyGrant;
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
