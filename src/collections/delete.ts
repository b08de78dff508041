// Deleting a collection with everything in it: its rows, then its R2 objects, found by their key prefix.
//
// Why this order is crash-safe: the rows go first, in one transaction, so the documents vanish at once and a
// running ingestion stops (its writes fail on the missing document). The objects are then found by the
// collection's key prefix, not by rows, so a DELETE that crashed after the rows went is finished by a retry:
// deleteCollection sweeps the prefix whether or not the collection still exists.
//
// Why an upload racing the delete leaves nothing: an upload stores its object before it inserts its row. If the
// insert comes after the rows went, it fails on the missing collection and the upload deletes its object; if it
// came before, the object was stored before the rows went, so the sweep that follows lists it (R2 lists are
// strongly consistent).
import type { Db } from "../db/client.ts";
import { collectionObjectPrefix } from "../documents/repository.ts";
import { type CollectionRow, deleteCollectionRows } from "./repository.ts";

/** R2 deletes at most 1000 keys per call. */
export const R2_DELETE_BATCH = 1000;

/** Deletes every object under `prefix`, a list page (up to R2_DELETE_BATCH keys) per delete call; returns how many. */
export async function deleteObjectsUnder(bucket: R2Bucket, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, limit: R2_DELETE_BATCH, cursor });
    if (page.objects.length > 0) await bucket.delete(page.objects.map((o) => o.key));
    deleted += page.objects.length;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return deleted;
}

export interface DeletedCollection {
  /** Null when the rows were already gone (a retry of a DELETE that crashed after them). */
  collection: CollectionRow | null;
  documents: number;
  objects: number;
}

export async function deleteCollection(db: Db, bucket: R2Bucket, tenantId: string, id: string): Promise<DeletedCollection> {
  const rows = await deleteCollectionRows(db, tenantId, id);
  const objects = await deleteObjectsUnder(bucket, collectionObjectPrefix(tenantId, id));
  return { collection: rows?.collection ?? null, documents: rows?.documents ?? 0, objects };
}
