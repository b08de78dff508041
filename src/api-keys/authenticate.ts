// API keys: `Authorization: Bearer dc_live_…`. The key is looked up by its SHA-256, so no comparison of secrets
// happens here and constant-time comparison is moot: an attacker can only time an index lookup of a hash they
// cannot steer. Lookups (found or not) are cached per isolate for PRINCIPAL_CACHE_MS, like roles, so a revoked key
// stops within that time everywhere, and at once in the isolate that revoked it (forgetApiKey).
import type { Context } from "hono";
import { PRINCIPAL_CACHE_MS, userStanding } from "../auth/principal.ts";
import { unauthorized } from "../auth/unauthorized.ts";
import type { AppEnv, AuthUser } from "../env.ts";
import { ApiError } from "../lib/errors.ts";
import { findApiKeyByHash, touchApiKey } from "./repository.ts";
import { hashApiKey, isWellFormedApiKey } from "./secret.ts";

export { API_KEY_PREFIX } from "./secret.ts";

type KnownKey = NonNullable<Awaited<ReturnType<typeof findApiKeyByHash>>>;

const lookups = new Map<string, { found: KnownKey | null; expires: number }>();
/** Negative results are cached too, so guessed keys could fill the map: the oldest entries go first. */
const MAX_CACHED_LOOKUPS = 10_000;

/** last_used_at is a hint, not a log: written at most once a minute per key, off the request's path. */
const TOUCH_INTERVAL_MS = 60_000;
const lastTouched = new Map<string, number>();

// One answer for unknown, revoked, expired and disabled keys: the caller learns nothing about which it was.
const invalidKey = () => unauthorized("The API key is invalid, expired or revoked");

async function lookUp(c: Context<AppEnv>, hash: string): Promise<KnownKey | null> {
  const hit = lookups.get(hash);
  if (hit && hit.expires > Date.now()) return hit.found;
  const found = await findApiKeyByHash(c.var.services.db, hash);
  lookups.delete(hash);
  if (lookups.size >= MAX_CACHED_LOOKUPS) lookups.delete(lookups.keys().next().value!);
  lookups.set(hash, { found, expires: Date.now() + PRINCIPAL_CACHE_MS });
  return found;
}

function recordUse(c: Context<AppEnv>, keyId: string): void {
  const now = Date.now();
  if ((lastTouched.get(keyId) ?? 0) > now - TOUCH_INTERVAL_MS) return;
  lastTouched.set(keyId, now);
  const touched = touchApiKey(c.var.services.db, keyId).catch((err) =>
    console.warn(JSON.stringify({ level: "warn", msg: "api key last_used_at not recorded", request_id: c.var.requestId, error: String(err) })),
  );
  c.executionCtx.waitUntil(touched);
}

/** 401 for a key that is unknown, revoked, expired or whose identity is disabled or gone; 403 for another tenant's. */
export async function authenticateApiKey(c: Context<AppEnv>, token: string): Promise<AuthUser> {
  if (!isWellFormedApiKey(token)) throw invalidKey();
  const found = await lookUp(c, await hashApiKey(token));
  if (!found) throw invalidKey();
  const { key, email } = found;
  if (key.revokedAt || (key.expiresAt && key.expiresAt.getTime() <= Date.now())) throw invalidKey();
  if (key.tenantId !== c.var.tenant.id) throw new ApiError(403, "tenant_mismatch", "The API key was issued for another tenant");
  const standing = await userStanding(c.var.services.db, key.tenantId, key.userId);
  if (standing?.kind !== "api_key" || standing.status !== "active") throw invalidKey();
  recordUse(c, key.id);
  return {
    id: key.userId,
    email,
    tenantId: key.tenantId,
    role: standing.role,
    expiresAt: key.expiresAt ? Math.floor(key.expiresAt.getTime() / 1000) : null,
    apiKey: { id: key.id, scope: key.scope, collectionIds: key.collectionIds },
  };
}

/** After this isolate revoked a key: its next request with it is refused at once. */
export const forgetApiKey = (hash: string) => void lookups.delete(hash);
