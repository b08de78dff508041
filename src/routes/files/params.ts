// The {id} path parameter shared by the single-document routes.
import { z } from "@hono/zod-openapi";
import type { DocumentRow } from "../../documents/repository.ts";
import { ApiError } from "../../lib/errors.ts";

export const FileIdParams = z.object({ id: z.uuid().openapi({ param: { name: "id", in: "path" } }) });

/** Another user's or tenant's document is indistinguishable from a missing one. */
export function found(doc: DocumentRow | null): DocumentRow {
  if (!doc) throw new ApiError(404, "file_not_found", "No such file");
  return doc;
}
