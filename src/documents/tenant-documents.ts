// Every document of a tenant, private or in a collection, as its admins oversee them: metadata, status and errors,
// never the content (admins read documents' text and bytes only under src/documents/access.ts, like anyone).

import { and, desc, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { afterPosition } from "../db/keyset.ts";
import { documents, users } from "../db/schema.ts";
import type { DocumentRow } from "./repository.ts";

export type DocumentStatus = DocumentRow["status"];
export type OverseenDocument = DocumentRow & { uploaderEmail: string | null };

/** Newest first; the cursor is the (created_at, id) of the last row seen. */
export async function listTenantDocuments(
  db: Db,
  tenantId: string,
  status: DocumentStatus | undefined,
  limit: number,
  after?: { at: string; id: string },
): Promise<OverseenDocument[]> {
  const rows = await db
    .select({ document: documents, uploaderEmail: users.email })
    .from(documents)
    .leftJoin(users, and(eq(users.tenantId, documents.tenantId), eq(users.id, documents.userId)))
    .where(
      and(
        eq(documents.tenantId, tenantId),
        status ? eq(documents.status, status) : undefined,
        afterPosition(documents.createdAt, documents.id, after),
      ),
    )
    .orderBy(desc(documents.createdAt), desc(documents.id))
    .limit(limit);
  return rows.map((r) => ({ ...r.document, uploaderEmail: r.uploaderEmail }));
}
