// A user's right to erasure. What is theirs alone goes: their private documents (rows, chunks, pages, R2 objects),
// chat sessions and messages, collection memberships, and the user row. What the tenant keeps loses its link to
// them: documents they added to collections (and those documents' chunks) stay with no uploader, their usage events
// stay in the tenant's totals with no user, the audit entries they made keep the id but lose the email (entries that
// quoted it say "(erased)" instead), and API keys they created lose their creator.
//
// Order, so that a DELETE that crashed part way is finished by the same DELETE retried:
//   1. (the route) the user is disabled, under the owner rules: from then on they cannot act, so no new documents
//      appear while the rest runs, and a retry finds them still there, disabled.
//   2. the R2 objects of their private documents are deleted, found through the rows, which still exist: objects
//      first, since once the rows were gone nothing would name the objects any more.
//   3. one transaction does every row; the user row is the last thing it deletes, so it either all happened or
//      the user is still there for the retry.
//   4. an upload in flight when the user was disabled may have added a private document between 2 and 3: the
//      transaction returns the keys of the documents it deleted, and those objects go too.
import type { Db } from "../db/client.ts";

/** R2 deletes at most this many keys per call. */
const R2_DELETE_BATCH = 1000;

async function deleteObjects(bucket: R2Bucket, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += R2_DELETE_BATCH) await bucket.delete(keys.slice(i, i + R2_DELETE_BATCH));
}

const PRIVATE_DOCUMENTS = "tenant_id = $1 and user_id = $2 and collection_id is null";

export async function eraseUser(db: Db, bucket: R2Bucket, tenantId: string, userId: string): Promise<void> {
  const sql = db.$client;
  const keysOf = (rows: unknown) => (rows as Array<{ r2_key: string }>).map((r) => r.r2_key);
  const params = [tenantId, userId];

  const deletedFirst = keysOf(await sql.query(`select r2_key from documents where ${PRIVATE_DOCUMENTS}`, params));
  await deleteObjects(bucket, deletedFirst);

  const [deletedDocuments] = await sql.transaction([
    // Their chunks and pages go with them (cascade).
    sql.query(`delete from documents where ${PRIVATE_DOCUMENTS} returning r2_key`, params),
    // Before the user row goes: the documents' (tenant_id, user_id) foreign key cascades, and would take their
    // collection documents with it. Those documents' chunks carry the uploader too.
    sql.query("update chunks set user_id = null where tenant_id = $1 and user_id = $2", params),
    sql.query("update documents set user_id = null where tenant_id = $1 and user_id = $2", params),
    sql.query("update usage_events set user_id = null where tenant_id = $1 and user_id = $2", params),
    sql.query("update audit_log set actor_email = null where tenant_id = $1 and actor_user_id = $2", params),
    // Entries about them may quote their address in details (collection.member.put does): it becomes "(erased)", a
    // string, so the JSON stays valid wherever it stood, value or key.
    sql.query(
      `update audit_log set details = replace(details::text, to_jsonb(u.email)::text, '"(erased)"')::jsonb
       from users u where u.tenant_id = $1 and u.id = $2 and audit_log.tenant_id = $1 and strpos(audit_log.details::text, to_jsonb(u.email)::text) > 0`,
      params,
    ),
    sql.query("update api_keys set created_by = null where tenant_id = $1 and created_by = $2", params),
    // Chat sessions (and their messages) and collection memberships go by cascade.
    sql.query("delete from users where tenant_id = $1 and id = $2", params),
  ]);

  const seen = new Set(deletedFirst);
  const lateArrivals = keysOf(deletedDocuments).filter((key) => !seen.has(key));
  await deleteObjects(bucket, lateArrivals);
}
