// Users are created on their first successful login; every query is scoped by tenant.
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { users } from "../db/schema.ts";
import type { AuthUser } from "../env.ts";

export async function upsertUserOnLogin(db: Db, tenantId: string, email: string): Promise<Pick<AuthUser, "id" | "email" | "tenantId" | "role">> {
  const [row] = await db
    .insert(users)
    .values({ tenantId, email, lastLoginAt: sql`now()` })
    .onConflictDoUpdate({ target: [users.tenantId, users.email], set: { lastLoginAt: sql`now()` } })
    .returning({ id: users.id, email: users.email, tenantId: users.tenantId, role: users.role });
  return row!;
}

export async function findUser(db: Db, tenantId: string, userId: string) {
  const [row] = await db
    .select({ id: users.id, email: users.email, tenantId: users.tenantId, createdAt: users.createdAt })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.id, userId)));
  return row ?? null;
}
