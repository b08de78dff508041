// The {id} path parameter shared by the single-document routes, and how a missing or unchangeable one answers.
import { z } from "@hono/zod-openapi";
import type { Db } from "../../db/client.ts";
import type { Reader } from "../../documents/access.ts";
import { type DocumentRow, findDocument, findManageableDocument } from "../../documents/repository.ts";
import { ApiError } from "../../lib/errors.ts";

export const FileIdParams = z.object({ id: z.uuid().openapi({ param: { name: "id", in: "path" } }) });

/** A document the caller may not read (another user's or tenant's) is indistinguishable from a missing one. */
export function found(doc: DocumentRow | null): DocumentRow {
  if (!doc) throw new ApiError(404, "file_not_found", "No such file");
  return doc;
}

/** Said when the caller can read the document (a collection's) but may not change it. */
export const readOnlyDocument = () => new ApiError(403, "forbidden", "You can read this document but not change it");

/** A document the caller may change: 404 when they cannot even read it, 403 when they can only read it. */
export async function documentToChange(db: Db, reader: Reader, id: string): Promise<DocumentRow> {
  const doc = await findManageableDocument(db, reader, id);
  if (doc) return doc;
  found(await findDocument(db, reader, id));
  throw readOnlyDocument();
}
