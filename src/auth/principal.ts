// Whether the tenant and the user behind a token still exist and are active. Checked on every authenticated
// request and before every chat answer; lookups are cached per isolate for PRINCIPAL_CACHE_MS, so a disabled
// tenant or a removed user is refused everywhere within that time.
import { and, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { tenants, users } from "../db/schema.ts";
import type { Tenant } from "../env.ts";

export const PRINCIPAL_CACHE_MS = 30_000;

const tenantCache = new Map<string, { tenant: Tenant | null; expires: number }>();
const userCache = new Map<string, { exists: boolean; expires: number }>();

/** The tenant when it exists and is active, else null. */
export async function activeTenant(db: Db, id: string): Promise<Tenant | null> {
  const hit = tenantCache.get(id);
  if (hit && hit.expires > Date.now()) return hit.tenant;
  const [row] = await db.select({ id: tenants.id, name: tenants.name, status: tenants.status }).from(tenants).where(eq(tenants.id, id));
  const tenant = row?.status === "active" ? { id: row.id, name: row.name } : null;
  tenantCache.set(id, { tenant, expires: Date.now() + PRINCIPAL_CACHE_MS });
  return tenant;
}

/** Whether the user still exists in the tenant (a token can outlive its user). */
export async function userExists(db: Db, tenantId: string, userId: string): Promise<boolean> {
  const key = `${tenantId}/${userId}`;
  const hit = userCache.get(key);
  if (hit && hit.expires > Date.now()) return hit.exists;
  const [row] = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.id, userId)));
  userCache.set(key, { exists: Boolean(row), expires: Date.now() + PRINCIPAL_CACHE_MS });
  return Boolean(row);
}

export type PrincipalProblem = "tenant_unavailable" | "user_not_found";

/** Why the tenant + user may no longer act, or null when they may. */
export async function principalProblem(db: Db, owner: { tenantId: string; userId: string }): Promise<PrincipalProblem | null> {
  if (!(await activeTenant(db, owner.tenantId))) return "tenant_unavailable";
  if (!(await userExists(db, owner.tenantId, owner.userId))) return "user_not_found";
  return null;
}
