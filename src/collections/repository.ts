// Collection rows and their members. Every query is scoped by tenant; what a member may read is decided by
// src/documents/access.ts, so a collection the caller may not read simply does not exist.

import { and, desc, eq, getTableColumns, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { postgresErrorCode } from "../db/errors.ts";
import { afterPosition } from "../db/keyset.ts";
import { collectionMembers, collections, documents, type UserRole, users } from "../db/schema.ts";
import { type Reader, readableCollectionIds, writableCollectionIds } from "../documents/access.ts";
import type { Cursor } from "../lib/cursor.ts";

export type CollectionRow = typeof collections.$inferSelect;
export type Access = "read" | "write";
export type Visibility = CollectionRow["visibility"];

/** A collection as a reader sees it: what they may do with it and how much it holds. */
export interface CollectionView extends CollectionRow {
  access: Access;
  documentCount: number;
  memberCount: number;
}

export interface MemberView {
  userId: string;
  email: string;
  role: UserRole;
  access: Access;
  createdAt: Date;
}

const inTenant = (tenantId: string, id: string) => and(eq(collections.tenantId, tenantId), eq(collections.id, id));

// Named in full: drizzle writes a single-table select's columns unqualified, which inside these subqueries would
// name the subquery's own table.
const outer = sql.identifier("collections");

const accessOf = (reader: Reader) => sql<Access>`case when ${outer}.id in ${writableCollectionIds(reader)} then 'write' else 'read' end`;

const viewOf = (reader: Reader) => ({
  ...getTableColumns(collections),
  access: accessOf(reader),
  documentCount: sql<number>`(select count(*)::int from ${documents} d where d.tenant_id = ${outer}.tenant_id and d.collection_id = ${outer}.id)`,
  memberCount: sql<number>`(select count(*)::int from ${collectionMembers} m where m.tenant_id = ${outer}.tenant_id and m.collection_id = ${outer}.id)`,
});

const readable = (reader: Reader) => and(eq(collections.tenantId, reader.tenantId), sql`${collections.id} in ${readableCollectionIds(reader)}`);

/** The collections `reader` may read (an admin: all of the tenant's), newest first. */
export async function listCollections(db: Db, reader: Reader, limit: number, from?: Cursor): Promise<CollectionView[]> {
  return db
    .select(viewOf(reader))
    .from(collections)
    .where(and(readable(reader), afterPosition(collections.createdAt, collections.id, from)))
    .orderBy(desc(collections.createdAt), desc(collections.id))
    .limit(limit);
}

/** The collection, when `reader` may read it. */
export async function findCollection(db: Db, reader: Reader, id: string): Promise<CollectionView | null> {
  const [row] = await db
    .select(viewOf(reader))
    .from(collections)
    .where(and(readable(reader), eq(collections.id, id)));
  return row ?? null;
}

/** What `reader` may do with the collection: null when they may not even read it. */
export async function collectionAccess(db: Db, reader: Reader, id: string): Promise<Access | null> {
  const [row] = await db
    .select({ access: accessOf(reader) })
    .from(collections)
    .where(and(readable(reader), eq(collections.id, id)));
  return row?.access ?? null;
}

/** Inserts a collection; null when the tenant already has one of that name. */
export async function insertCollection(
  db: Db,
  tenantId: string,
  values: { name: string; description: string; visibility: Visibility },
): Promise<CollectionRow | null> {
  const [row] = await db
    .insert(collections)
    .values({ ...values, tenantId })
    .onConflictDoNothing({ target: [collections.tenantId, collections.name] })
    .returning();
  return row ?? null;
}

export class CollectionNameTaken extends Error {}

/** Changes a collection; null when it does not exist. Throws CollectionNameTaken when the new name is another's. */
export async function updateCollection(
  db: Db,
  tenantId: string,
  id: string,
  patch: Partial<{ name: string; description: string; visibility: Visibility }>,
): Promise<CollectionRow | null> {
  try {
    const [row] = await db
      .update(collections)
      .set({ ...patch, updatedAt: new Date() })
      .where(inTenant(tenantId, id))
      .returning();
    return row ?? null;
  } catch (err) {
    if (postgresErrorCode(err) === "23505") throw new CollectionNameTaken();
    throw err;
  }
}

/**
 * Deletes the collection's rows in one transaction: its documents (their chunks and pages by cascade), its
 * members, itself. Returns the collection and how many documents went, or null when it did not exist.
 */
export async function deleteCollectionRows(db: Db, tenantId: string, id: string): Promise<{ collection: CollectionRow; documents: number } | null> {
  const [deletedDocuments, [collection]] = await db.batch([
    db
      .delete(documents)
      .where(and(eq(documents.tenantId, tenantId), eq(documents.collectionId, id)))
      .returning({ id: documents.id }),
    db.delete(collections).where(inTenant(tenantId, id)).returning(),
  ]);
  return collection ? { collection, documents: deletedDocuments.length } : null;
}

const memberColumns = {
  userId: collectionMembers.userId,
  email: users.email,
  role: users.role,
  access: collectionMembers.access,
  createdAt: collectionMembers.createdAt,
};

const memberOf = (tenantId: string, collectionId: string) =>
  and(eq(collectionMembers.tenantId, tenantId), eq(collectionMembers.collectionId, collectionId));

/** The collection's listed members, newest first. */
export async function listMembers(db: Db, tenantId: string, collectionId: string, limit: number, from?: Cursor): Promise<MemberView[]> {
  return db
    .select(memberColumns)
    .from(collectionMembers)
    .innerJoin(users, and(eq(users.tenantId, collectionMembers.tenantId), eq(users.id, collectionMembers.userId)))
    .where(and(memberOf(tenantId, collectionId), afterPosition(collectionMembers.createdAt, collectionMembers.userId, from)))
    .orderBy(desc(collectionMembers.createdAt), desc(collectionMembers.userId))
    .limit(limit);
}

/** A person (not an API key's identity) of the tenant. */
export async function findPerson(db: Db, tenantId: string, userId: string): Promise<{ email: string; role: UserRole } | null> {
  const [row] = await db
    .select({ email: users.email, role: users.role })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.id, userId), eq(users.kind, "person")));
  return row ?? null;
}

/** Adds the user to the collection or changes their access; says what their access was before (null: none). */
export async function putMember(
  db: Db,
  tenantId: string,
  collectionId: string,
  userId: string,
  access: Access,
): Promise<{ previous: Access | null; createdAt: Date }> {
  const [before] = await db
    .select({ access: collectionMembers.access })
    .from(collectionMembers)
    .where(and(memberOf(tenantId, collectionId), eq(collectionMembers.userId, userId)));
  const [row] = await db
    .insert(collectionMembers)
    .values({ tenantId, collectionId, userId, access })
    .onConflictDoUpdate({ target: [collectionMembers.collectionId, collectionMembers.userId], set: { access } })
    .returning({ createdAt: collectionMembers.createdAt });
  return { previous: before?.access ?? null, createdAt: row!.createdAt };
}

/** Removes the user from the collection; the access they had, or null when they were not a member. */
export async function deleteMember(db: Db, tenantId: string, collectionId: string, userId: string): Promise<Access | null> {
  const [row] = await db
    .delete(collectionMembers)
    .where(and(memberOf(tenantId, collectionId), eq(collectionMembers.userId, userId)))
    .returning({ access: collectionMembers.access });
  return row?.access ?? null;
}
