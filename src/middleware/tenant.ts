// Resolves X-Tenant-ID to an active tenant. Lookups are cached per isolate for a short time,
// so a newly disabled tenant is refused within TENANT_CACHE_MS everywhere.
import { eq } from "drizzle-orm";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { tenants } from "../db/schema.ts";
import type { AppEnv, Tenant } from "../env.ts";
import { ApiError } from "../lib/errors.ts";
import { TENANT_ID_PATTERN } from "../lib/tenant-id.ts";

export const TENANT_HEADER = "X-Tenant-ID";
const TENANT_CACHE_MS = 30_000;

const cache = new Map<string, { tenant: Tenant | null; expires: number }>();

/** The active tenant named `id`, or the error every tenant-scoped route answers with. */
export async function resolveTenant(c: Context<AppEnv>, id: string | undefined): Promise<Tenant> {
  if (!id) throw new ApiError(400, "tenant_required", `The ${TENANT_HEADER} header is required`);
  if (!TENANT_ID_PATTERN.test(id))
    throw new ApiError(400, "invalid_tenant_id", `${TENANT_HEADER} must be 1-63 lowercase letters, digits, '-' or '_'`);

  let entry = cache.get(id);
  if (!entry || entry.expires < Date.now()) {
    const [row] = await c.var.services.db
      .select({ id: tenants.id, name: tenants.name, status: tenants.status })
      .from(tenants)
      .where(eq(tenants.id, id));
    entry = { tenant: row?.status === "active" ? { id: row.id, name: row.name } : null, expires: Date.now() + TENANT_CACHE_MS };
    cache.set(id, entry);
  }
  // Unknown and disabled tenants look the same from outside.
  if (!entry.tenant) throw new ApiError(404, "tenant_not_found", `Tenant '${id}' does not exist or is disabled`);
  return entry.tenant;
}

export const requireTenant = createMiddleware<AppEnv>(async (c, next) => {
  c.set("tenant", await resolveTenant(c, c.req.header(TENANT_HEADER)));
  await next();
});
