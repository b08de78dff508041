// The people of a tenant as its admins manage them: listing, inviting, and changing role or status under the owner
// rules. Only users of kind 'person' are people; the identities API keys act as (kind 'api_key') are managed with
// their keys and never appear or change here.

import { and, desc, eq, ilike } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { containsPattern } from "../db/contains.ts";
import { afterPosition } from "../db/keyset.ts";
import { type UserRole, users } from "../db/schema.ts";

export type UserStatus = "invited" | "active" | "disabled";
export type PersonRow = Pick<typeof users.$inferSelect, "id" | "email" | "role" | "status" | "createdAt" | "lastLoginAt">;

const personColumns = {
  id: users.id,
  email: users.email,
  role: users.role,
  status: users.status,
  createdAt: users.createdAt,
  lastLoginAt: users.lastLoginAt,
};

const people = (tenantId: string) => and(eq(users.tenantId, tenantId), eq(users.kind, "person"));

/** `text` as a LIKE pattern matching itself anywhere: its own % _ and \ match only themselves. */

export interface UserFilter {
  email?: string;
  role?: UserRole;
  status?: UserStatus;
}

/** Newest first; the cursor is the (created_at, id) of the last row seen. */
export async function listPeople(db: Db, tenantId: string, filter: UserFilter, limit: number, after?: { at: string; id: string }) {
  return db
    .select(personColumns)
    .from(users)
    .where(
      and(
        people(tenantId),
        filter.email ? ilike(users.email, containsPattern(filter.email)) : undefined,
        filter.role ? eq(users.role, filter.role) : undefined,
        filter.status ? eq(users.status, filter.status) : undefined,
        afterPosition(users.createdAt, users.id, after),
      ),
    )
    .orderBy(desc(users.createdAt), desc(users.id))
    .limit(limit);
}

export async function findPerson(db: Db, tenantId: string, id: string): Promise<PersonRow | null> {
  const [row] = await db
    .select(personColumns)
    .from(users)
    .where(and(people(tenantId), eq(users.id, id)));
  return row ?? null;
}

/** Creates an invited user; null when the email already is a user of the tenant. */
export async function invitePerson(db: Db, tenantId: string, email: string, role: UserRole): Promise<PersonRow | null> {
  const [row] = await db
    .insert(users)
    .values({ tenantId, email, role, status: "invited" })
    .onConflictDoNothing({ target: [users.tenantId, users.email] })
    .returning(personColumns);
  return row ?? null;
}

/** Takes an invitation back when its email could not be sent, unless it was accepted meanwhile. */
export async function withdrawInvite(db: Db, tenantId: string, id: string): Promise<void> {
  await db.delete(users).where(and(people(tenantId), eq(users.id, id), eq(users.status, "invited")));
}

export interface Change {
  role?: UserRole;
  status?: "active" | "disabled";
}

export type ChangeResult = { ok: true; before: PersonRow; after: PersonRow } | { ok: false; problem: "user_not_found" | "owner_only" | "last_owner" };

/**
 * Changes a person's role and/or status, under the owner rules: only an owner may change an owner or make one, and
 * the tenant keeps at least one active owner. Two owners demoting each other at the same moment must not both
 * succeed, and a check in one statement would not stop them (each statement's snapshot can predate the other's
 * commit), so the change runs in a transaction that first locks the tenant's row: changes in a tenant queue behind
 * each other, and each one's check sees every change committed before it. FOR NO KEY UPDATE does not block the rows
 * that merely reference the tenant (usage events, audit entries) from being written meanwhile.
 */
export async function changePerson(db: Db, tenantId: string, id: string, change: Change, actorIsOwner: boolean): Promise<ChangeResult> {
  const sql = db.$client;
  const columns = "id, email, role, status, created_at, last_login_at";
  const [, beforeRows, afterRows] = (await sql.transaction([
    sql.query("select 1 from tenants where id = $1 for no key update", [tenantId]),
    sql.query(`select ${columns} from users where tenant_id = $1 and id = $2 and kind = 'person'`, [tenantId, id]),
    sql.query(
      `update users u set role = coalesce($3::text, u.role), status = coalesce($4::text, u.status)
       where u.tenant_id = $1 and u.id = $2 and u.kind = 'person'
         and ($5::boolean or (u.role <> 'owner' and $3::text is distinct from 'owner'))
         and (
           not (u.role = 'owner' and u.status = 'active')
           or (coalesce($3::text, u.role) = 'owner' and coalesce($4::text, u.status) = 'active')
           or exists (select 1 from users o where o.tenant_id = $1 and o.id <> u.id and o.kind = 'person' and o.role = 'owner' and o.status = 'active')
         )
       returning ${columns}`,
      [tenantId, id, change.role ?? null, change.status ?? null, actorIsOwner],
    ),
  ])) as [unknown, RawPerson[], RawPerson[]];
  const [before] = beforeRows;
  const [after] = afterRows;
  if (!before) return { ok: false, problem: "user_not_found" };
  if (after) return { ok: true, before: fromRaw(before), after: fromRaw(after) };
  const touchesOwner = before.role === "owner" || change.role === "owner";
  return { ok: false, problem: touchesOwner && !actorIsOwner ? "owner_only" : "last_owner" };
}

interface RawPerson {
  id: string;
  email: string;
  role: UserRole;
  status: UserStatus;
  created_at: string | Date;
  last_login_at: string | Date | null;
}

const fromRaw = (r: RawPerson): PersonRow => ({
  id: r.id,
  email: r.email,
  role: r.role,
  status: r.status,
  createdAt: new Date(r.created_at),
  lastLoginAt: r.last_login_at === null ? null : new Date(r.last_login_at),
});
