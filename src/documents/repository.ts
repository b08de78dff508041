// Document rows. Every query is scoped by src/documents/access.ts: a document the caller may not read (another
// tenant's, another user's private one, a collection they are not in) simply does not exist.

import { and, arrayOverlaps, asc, between, desc, eq, exists, ilike, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { containsPattern } from "../db/contains.ts";
import { afterPosition } from "../db/keyset.ts";
import { documentPages, documents } from "../db/schema.ts";
import type { Cursor } from "../lib/cursor.ts";
import { manageableDocuments, type Reader, readableDocuments } from "./access.ts";

export type DocumentRow = typeof documents.$inferSelect;
export type PageRow = Pick<typeof documentPages.$inferSelect, "page" | "text" | "source">;

export interface Owner {
  tenantId: string;
  userId: string;
}

/** Where an upload goes: the uploader's private documents (collectionId null), or a collection. */
export interface Destination extends Owner {
  collectionId?: string | null;
}

/** The documents an upload's bytes are looked for among: the uploader's private ones, or the collection's. */
const atDestination = (to: Destination) =>
  to.collectionId
    ? and(eq(documents.tenantId, to.tenantId), eq(documents.collectionId, to.collectionId))
    : and(eq(documents.tenantId, to.tenantId), eq(documents.userId, to.userId), isNull(documents.collectionId));
const inTenant = (tenantId: string, id: string) => and(eq(documents.tenantId, tenantId), eq(documents.id, id));

/** Every object of a collection lies under this prefix, so deleting the collection finds them without its rows. */
export const collectionObjectPrefix = (tenantId: string, collectionId: string) => `tenants/${tenantId}/collections/${collectionId}/`;

/** R2 key from ids only: the user's file name never reaches the object path. */
export const objectKey = (to: Destination, documentId: string) =>
  to.collectionId
    ? `${collectionObjectPrefix(to.tenantId, to.collectionId)}documents/${documentId}.pdf`
    : `tenants/${to.tenantId}/users/${to.userId}/documents/${documentId}.pdf`;

export async function findDocument(db: Db, reader: Reader, id: string): Promise<DocumentRow | null> {
  const [row] = await db
    .select()
    .from(documents)
    .where(and(readableDocuments(reader), eq(documents.id, id)));
  return row ?? null;
}

/** A document the caller may change (retry, delete, edit); null also when they may only read it. */
export async function findManageableDocument(db: Db, reader: Reader, id: string): Promise<DocumentRow | null> {
  const [row] = await db
    .select()
    .from(documents)
    .where(and(manageableDocuments(reader), eq(documents.id, id)));
  return row ?? null;
}

/** The document an ingestion message names: the message is ours, so only its tenant scopes it. */
export async function findIngestDocument(db: Db, tenantId: string, id: string): Promise<DocumentRow | null> {
  const [row] = await db.select().from(documents).where(inTenant(tenantId, id));
  return row ?? null;
}

/** The document with these bytes at the destination: each private owner, and each collection, stores them once. */
export async function findDocumentBySha(db: Db, to: Destination, sha256: string): Promise<DocumentRow | null> {
  const [row] = await db
    .select()
    .from(documents)
    .where(and(atDestination(to), eq(documents.sha256, sha256)));
  return row ?? null;
}

/**
 * Inserts a queued document; null when the same bytes were uploaded to the same destination concurrently (the
 * partial unique indexes documents_owner_sha256_key and documents_collection_sha256_key).
 */
export async function insertDocument(
  db: Db,
  to: Destination,
  doc: { id: string; filename: string; sizeBytes: number; sha256: string },
): Promise<DocumentRow | null> {
  const sameBytes = to.collectionId
    ? { target: [documents.tenantId, documents.collectionId, documents.sha256], where: sql`${documents.collectionId} is not null` }
    : { target: [documents.tenantId, documents.userId, documents.sha256], where: isNull(documents.collectionId) };
  const [row] = await db
    .insert(documents)
    .values({ ...doc, ...to, r2Key: objectKey(to, doc.id), status: "queued" })
    .onConflictDoNothing(sameBytes)
    .returning();
  return row ?? null;
}

/**
 * Queues a failed or stalled (no progress for `stallMinutes`) document again: what stopped it may be gone (OCR
 * back, budget renewed, a restart). Null when it is neither, e.g. a concurrent retry queued it first. A stalled
 * document, or one stopped by its budget, keeps the ranges it stored and continues with the missing ones (the
 * consumer's startIngestion); any other failure stored nothing and starts over.
 */
export async function requeueDocument(db: Db, tenantId: string, id: string, stallMinutes: number): Promise<DocumentRow | null> {
  const stalled = and(
    inArray(documents.status, ["queued", "processing"]),
    lt(documents.updatedAt, sql`now() - make_interval(mins => ${stallMinutes})`),
  );
  const keepsProgress = sql`(${documents.status} <> 'failed' or (${documents.errorCode} = 'quota_exceeded' and ${documents.pagesDone} < coalesce(${documents.pagesTotal}, 0)))`;
  const [row] = await db
    .update(documents)
    .set({
      status: "queued",
      errorCode: null,
      errorMessage: null,
      ingestSweeps: 0,
      pagesDone: sql`case when ${keepsProgress} then ${documents.pagesDone} else 0 end`,
      ocrPages: sql`case when ${keepsProgress} then ${documents.ocrPages} else 0 end`,
      warnings: sql`case when ${keepsProgress} then ${documents.warnings} else '[]'::jsonb end`,
      updatedAt: new Date(),
    })
    .where(and(inTenant(tenantId, id), or(eq(documents.status, "failed"), stalled)))
    .returning();
  return row ?? null;
}

/** Puts a failed document that requeueDocument queued back as it was, when its message could not be sent. */
export async function restoreFailed(db: Db, before: DocumentRow): Promise<void> {
  await db
    .update(documents)
    .set({
      status: "failed",
      errorCode: before.errorCode,
      errorMessage: before.errorMessage,
      pagesDone: before.pagesDone,
      ocrPages: before.ocrPages,
      warnings: before.warnings,
      updatedAt: new Date(),
    })
    .where(and(inTenant(before.tenantId, before.id), eq(documents.status, "queued")));
}

/** What GET /v1/files narrows the list to; every given filter must hold. */
export interface DocumentFilter {
  /** Carrying at least one of these (normalised) tags. */
  tags?: string[];
  /** In this collection, or (null) private to the caller. */
  collectionId?: string | null;
  status?: DocumentRow["status"];
  /** Filename contains this, ignoring case. */
  nameContains?: string;
}

/** LIKE treats % and _ as wildcards and a backslash as their escape; a name search means them literally. */

function matching(filter: DocumentFilter) {
  const { tags, collectionId, status, nameContains } = filter;
  return and(
    tags?.length ? arrayOverlaps(documents.tags, tags) : undefined,
    collectionId === null ? isNull(documents.collectionId) : collectionId ? eq(documents.collectionId, collectionId) : undefined,
    status ? eq(documents.status, status) : undefined,
    nameContains ? ilike(documents.filename, containsPattern(nameContains)) : undefined,
  );
}

/** Newest first; the cursor is the (created_at, id) of the last row seen, under the same filter. */
export async function listDocuments(
  db: Db,
  reader: Reader,
  limit: number,
  options: { after?: Cursor; filter?: DocumentFilter } = {},
): Promise<DocumentRow[]> {
  const { after, filter = {} } = options;
  return db
    .select()
    .from(documents)
    .where(and(readableDocuments(reader), matching(filter), afterPosition(documents.createdAt, documents.id, after)))
    .orderBy(desc(documents.createdAt), desc(documents.id))
    .limit(limit);
}

/**
 * Renames, tags or sets the metadata of a document the caller may change; null if they may not (or it is gone).
 * updated_at is left alone: it is the time of the last ingestion progress, which the stall sweeper goes by.
 */
export async function updateDocumentDetails(
  db: Db,
  reader: Reader,
  id: string,
  changes: Partial<Pick<DocumentRow, "filename" | "tags" | "metadata">>,
): Promise<DocumentRow | null> {
  const [row] = await db
    .update(documents)
    .set(changes)
    .where(and(manageableDocuments(reader), eq(documents.id, id)))
    .returning();
  return row ?? null;
}

/** Deletes the row (its chunks go with it, by cascade) and returns it, or null if the caller may not delete it. */
export async function deleteDocument(db: Db, reader: Reader, id: string): Promise<DocumentRow | null> {
  const [row] = await db
    .delete(documents)
    .where(and(manageableDocuments(reader), eq(documents.id, id)))
    .returning();
  return row ?? null;
}

/**
 * The stored text of pages from..to (inclusive) of a document the caller may read, in page order: a range scan of
 * the (document_id, page) primary key. Pages without text have no row. The readable document must exist, so this
 * query alone never reveals pages the caller may not read.
 */
export async function listPages(db: Db, reader: Reader, documentId: string, from: number, to: number): Promise<PageRow[]> {
  const ownDocument = db
    .select({ one: sql`1` })
    .from(documents)
    .where(and(readableDocuments(reader), eq(documents.id, documentId)));
  return db
    .select({ page: documentPages.page, text: documentPages.text, source: documentPages.source })
    .from(documentPages)
    .where(
      and(
        eq(documentPages.tenantId, reader.tenantId),
        eq(documentPages.documentId, documentId),
        between(documentPages.page, from, to),
        exists(ownDocument),
      ),
    )
    .orderBy(asc(documentPages.page));
}
