// Browser origins allowed by CORS and the chat WebSocket: the deployment's CORS_ORIGINS, plus, for a request to a
// tenant, that tenant's allowed_origins (src/tenants/settings.ts).
import type { Context } from "hono";
import { activeTenant, PRINCIPAL_CACHE_MS } from "../auth/principal.ts";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import type { AppEnv } from "../env.ts";
import { effectiveSettings } from "../tenants/settings.ts";
import { TENANT_ID_PATTERN } from "./tenant-id.ts";

export function isOriginAllowed(config: Config, origin: string, tenantOrigins: readonly string[] = []): boolean {
  return config.CORS_ORIGINS.includes("*") || config.CORS_ORIGINS.includes(origin) || tenantOrigins.includes(origin);
}

const ORIGIN_PATTERN = /^https?:\/\/[^/\s]+$/;
const MAX_CACHED_ORIGINS = 1_000;
const listedCache = new Map<string, { listed: boolean; expires: number }>();

/** Whether any active tenant lists the origin; cached like the tenants themselves, and bounded against junk origins. */
async function listedByAnyTenant(db: Db, origin: string): Promise<boolean> {
  const hit = listedCache.get(origin);
  if (hit && hit.expires > Date.now()) return hit.listed;
  const [row] = await db.$client.query(
    `select exists (select 1 from tenants where status = 'active' and settings->'allowed_origins' @> jsonb_build_array($1::text)) as listed`,
    [origin],
  );
  const listed = (row as { listed: boolean }).listed;
  if (listedCache.size >= MAX_CACHED_ORIGINS) listedCache.clear();
  listedCache.set(origin, { listed, expires: Date.now() + PRINCIPAL_CACHE_MS });
  return listed;
}

/** After this isolate changed a tenant's allowed_origins: preflights ask the database again. */
export const forgetListedOrigins = () => listedCache.clear();

/** The allowed origins of the tenant the request names in X-Tenant-ID (none when it names no active tenant). */
async function requestedTenantOrigins(c: Context<AppEnv>): Promise<string[]> {
  const id = c.req.header("X-Tenant-ID");
  if (!id || !TENANT_ID_PATTERN.test(id)) return [];
  const tenant = await activeTenant(c.var.services.db, id);
  return tenant ? effectiveSettings(c.var.config, tenant).allowed_origins : [];
}

/**
 * The CORS decision. A preflight (OPTIONS) carries the names of the headers it will send, not their values, so it
 * cannot say its tenant: it is allowed when the deployment or any active tenant lists the origin. The real request
 * then gets Access-Control-Allow-Origin only when the deployment or the tenant it names lists the origin, so a
 * browser on one tenant's origin can never read another tenant's answers.
 */
export async function corsAllows(c: Context<AppEnv>, origin: string): Promise<boolean> {
  if (!ORIGIN_PATTERN.test(origin)) return false;
  if (isOriginAllowed(c.var.config, origin)) return true;
  if (c.req.method === "OPTIONS") return listedByAnyTenant(c.var.services.db, origin);
  return (await requestedTenantOrigins(c)).includes(origin);
}
