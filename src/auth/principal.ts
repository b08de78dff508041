// Whether the tenant and the user behind a credential still exist and may act, and with which role. Checked on
// every authenticated request and before every chat answer; lookups are cached per isolate for PRINCIPAL_CACHE_MS,
// so a disabled tenant, a disabled or removed user, or a changed role takes effect everywhere within that time (and
// at once in the isolate that made the change, which forgets its entry).
import { and, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { tenants, type UserRole, users } from "../db/schema.ts";
import type { Tenant } from "../env.ts";

export const PRINCIPAL_CACHE_MS = 30_000;

export interface Standing {
  role: UserRole;
  status: "invited" | "active" | "disabled";
  kind: "person" | "api_key";
}

const tenantCache = new Map<string, { tenant: Tenant | null; expires: number }>();
const userCache = new Map<string, { standing: Standing | null; expires: number }>();

/** The tenant, with its settings, when it exists and is active; else null. */
export async function activeTenant(db: Db, id: string): Promise<Tenant | null> {
  const hit = tenantCache.get(id);
  if (hit && hit.expires > Date.now()) return hit.tenant;
  const [row] = await db
    .select({ id: tenants.id, name: tenants.name, status: tenants.status, settings: tenants.settings })
    .from(tenants)
    .where(eq(tenants.id, id));
  const tenant = row?.status === "active" ? { id: row.id, name: row.name, settings: row.settings } : null;
  tenantCache.set(id, { tenant, expires: Date.now() + PRINCIPAL_CACHE_MS });
  return tenant;
}

/** The user's role, status and kind, or null when the user no longer exists (a token can outlive its user). */
export async function userStanding(db: Db, tenantId: string, userId: string): Promise<Standing | null> {
  const key = `${tenantId}/${userId}`;
  const hit = userCache.get(key);
  if (hit && hit.expires > Date.now()) return hit.standing;
  const [row] = await db
    .select({ role: users.role, status: users.status, kind: users.kind })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.id, userId)));
  const standing = row ?? null;
  userCache.set(key, { standing, expires: Date.now() + PRINCIPAL_CACHE_MS });
  return standing;
}

/** After this isolate changed a tenant (settings, status): its next request reads it again. */
export const forgetTenant = (id: string) => void tenantCache.delete(id);
/** After this isolate changed a user (role, status, deletion): its next request reads it again. */
export const forgetUser = (tenantId: string, userId: string) => void userCache.delete(`${tenantId}/${userId}`);

export type PrincipalProblem = "tenant_unavailable" | "user_not_found" | "user_disabled";

/** Why the tenant + user may no longer act, or null when they may. */
export async function principalProblem(db: Db, owner: { tenantId: string; userId: string }): Promise<PrincipalProblem | null> {
  if (!(await activeTenant(db, owner.tenantId))) return "tenant_unavailable";
  const standing = await userStanding(db, owner.tenantId, owner.userId);
  if (!standing) return "user_not_found";
  if (standing.status === "disabled") return "user_disabled";
  return null;
}
