// Users log in by email (created on their first login when the tenant's sign-up policy admits them); every query is
// scoped by tenant.
import { and, eq, ne, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { users } from "../db/schema.ts";
import type { AuthUser } from "../env.ts";

/** Who may be sent a login code: an existing person of the tenant who is not disabled (invited included). */
export async function loginStanding(db: Db, tenantId: string, email: string): Promise<"may_log_in" | "refused" | "unknown"> {
  const [row] = await db
    .select({ status: users.status, kind: users.kind })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.email, email)));
  if (!row) return "unknown";
  return row.kind === "person" && row.status !== "disabled" ? "may_log_in" : "refused";
}

const loggedIn = { id: users.id, email: users.email, tenantId: users.tenantId, role: users.role };
export type LoggedInUser = Pick<AuthUser, "id" | "email" | "tenantId" | "role">;

/**
 * A login that proved the email: an existing person who is not disabled logs in (an invited one becomes active);
 * a new email becomes a member only when `admitsNew` (the tenant's sign-up policy). Null: refused.
 */
export async function logIn(db: Db, tenantId: string, email: string, admitsNew: boolean): Promise<LoggedInUser | null> {
  const [existing] = await db
    .update(users)
    .set({ lastLoginAt: sql`now()`, status: sql`case when ${users.status} = 'invited' then 'active' else ${users.status} end` })
    .where(and(eq(users.tenantId, tenantId), eq(users.email, email), eq(users.kind, "person"), ne(users.status, "disabled")))
    .returning(loggedIn);
  if (existing || !admitsNew) return existing ?? null;
  // No conflict target: an email that exists but was not updated above (disabled, or an API key's identity) stays refused.
  const [created] = await db.insert(users).values({ tenantId, email, lastLoginAt: sql`now()` }).onConflictDoNothing().returning(loggedIn);
  return created ?? null;
}

export async function findUser(db: Db, tenantId: string, userId: string) {
  const [row] = await db
    .select({ id: users.id, email: users.email, tenantId: users.tenantId, role: users.role, status: users.status, createdAt: users.createdAt })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.id, userId)));
  return row ?? null;
}
