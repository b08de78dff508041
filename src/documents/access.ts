// Who may see and change which documents: the one place that decides it. A document is either private to its
// uploader, or belongs to a collection. Collections are read by every user of the tenant (visibility 'tenant') or
// by their listed members, and by admins; documents are added to them by admins and members with 'write' access.
// An API key reads every collection of its tenant, or only those it is restricted to (and then no private
// documents), and writes where it reads when its scope is read-write. Anything else simply does not exist (404).
import { and, eq, isNull, or, type SQL, sql } from "drizzle-orm";
import { collectionMembers, collections, documents } from "../db/schema.ts";
import type { AuthUser } from "../env.ts";

export type Reader = Pick<AuthUser, "id" | "tenantId" | "role" | "apiKey">;

/** Admins and API keys see every collection (a key within its restriction); members their visible ones. */
export const seesAllCollections = (r: Reader) => Boolean(r.apiKey) || r.role === "owner" || r.role === "admin";

const restriction = (r: Reader) => r.apiKey?.collectionIds ?? null;

/** Subquery: ids of the collections `r` may read. */
export function readableCollectionIds(r: Reader): SQL {
  const membership = sql`exists (select 1 from ${collectionMembers} m where m.tenant_id = c.tenant_id and m.collection_id = c.id and m.user_id = ${r.id})`;
  const restricted = restriction(r);
  return sql`(select c.id from ${collections} c where c.tenant_id = ${r.tenantId}${
    seesAllCollections(r) ? sql`` : sql` and (c.visibility = 'tenant' or ${membership})`
  }${restricted ? sql` and c.id in ${restricted}` : sql``})`;
}

/** Subquery: ids of the collections `r` may add documents to and delete them from. */
export function writableCollectionIds(r: Reader): SQL {
  if (r.apiKey) return r.apiKey.scope === "write" ? readableCollectionIds(r) : sql`(select null::uuid where false)`;
  if (seesAllCollections(r)) return sql`(select c.id from ${collections} c where c.tenant_id = ${r.tenantId})`;
  return sql`(select m.collection_id from ${collectionMembers} m where m.tenant_id = ${r.tenantId} and m.user_id = ${r.id} and m.access = 'write')`;
}

const ownPrivate = (r: Reader) => (restriction(r) ? undefined : and(isNull(documents.collectionId), eq(documents.userId, r.id)));

/** The documents `r` may read. */
export const readableDocuments = (r: Reader) =>
  and(eq(documents.tenantId, r.tenantId), or(ownPrivate(r), sql`${documents.collectionId} in ${readableCollectionIds(r)}`));

/** The documents `r` may rename, tag, retry and delete. */
export const manageableDocuments = (r: Reader) =>
  and(eq(documents.tenantId, r.tenantId), or(ownPrivate(r), sql`${documents.collectionId} in ${writableCollectionIds(r)}`));

/**
 * The same rule for the search SQL (src/search/hybrid.ts), in positional parameters: $1 tenant, $2 user,
 * $sees boolean (seesAllCollections), $restrict uuid[] or null (the API key's restriction).
 */
export const readableDocumentsSql = (sees: string, restrict: string) => `
  d.tenant_id = $1 and (
    (d.collection_id is null and d.user_id = $2 and ${restrict}::uuid[] is null)
    or d.collection_id in (
      select c.id from collections c
      where c.tenant_id = $1
        and (${sees} or c.visibility = 'tenant'
             or exists (select 1 from collection_members m where m.tenant_id = $1 and m.collection_id = c.id and m.user_id = $2))
        and (${restrict}::uuid[] is null or c.id = any(${restrict}::uuid[]))
    )
  )`;
