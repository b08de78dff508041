// Keyset pagination cursors: base64 of the [timestamp, id] of the last row of a page, opaque to clients.
// Both values end up in SQL, so decoding is strict: anything this API did not issue is a 400 invalid_cursor,
// never a database error.
import { z } from "@hono/zod-openapi";
import { ApiError } from "./errors.ts";

export interface Cursor {
  /** ISO timestamp, as Date#toISOString writes it. */
  at: string;
  id: string;
}

// Our rows are stamped by the database clock, so a cursor outside these years was forged; and years such as 0000
// or +275760 are valid to JavaScript but not to Postgres.
const EARLIEST = Date.UTC(2000, 0, 1);
const LATEST = Date.UTC(2100, 0, 1);

const payload = (id: z.ZodType<string>) =>
  z.tuple([z.iso.datetime({ precision: 3 }), id]).refine(([at]) => Date.parse(at) >= EARLIEST && Date.parse(at) < LATEST);
const UUID_PAYLOAD = payload(z.uuid());

export const CursorQuery = z
  .string()
  .max(200)
  .optional()
  .openapi({ description: "next_cursor from the previous page; a cursor this API did not issue is a 400 invalid_cursor" });

/** The query of a paged list: `limit` (1-100) and the `cursor` of the page before. Routes extend it with filters. */
export const pageQuery = (defaultLimit = 20) =>
  z.object({ limit: z.coerce.number().int().min(1).max(100).default(defaultLimit), cursor: CursorQuery });

export const encodeCursor = ({ at, id }: { at: Date; id: string }) => btoa(JSON.stringify([at.toISOString(), id])).replace(/=+$/, "");

/** `idSchema` describes the rows' ids: uuids unless said otherwise (the audit log's are bigserials). */
export function decodeCursor(raw: string, idSchema?: z.ZodType<string>): Cursor {
  let decoded: unknown;
  try {
    decoded = JSON.parse(atob(raw));
  } catch {
    // not base64 or not JSON: refused below like any other malformed payload
  }
  const parsed = (idSchema ? payload(idSchema) : UUID_PAYLOAD).safeParse(decoded);
  if (!parsed.success) throw new ApiError(400, "invalid_cursor", "The cursor is not one this API returned");
  const [at, id] = parsed.data;
  return { at, id };
}

/** One page of `rows`, fetched with limit + 1: the extra row only tells whether another page follows. */
export function paginate<T>(rows: T[], limit: number, position: (row: T) => { at: Date; id: string }) {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { page, nextCursor: rows.length > limit && last ? encodeCursor(position(last)) : null };
}
