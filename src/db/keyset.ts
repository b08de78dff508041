// Keyset paging, newest first: the rows strictly after the (created_at, id) of the last row a page showed, the
// position a cursor carries (src/lib/cursor.ts). Every paged list orders by (created_at desc, id desc).
import { and, type Column, eq, lt, or } from "drizzle-orm";
import type { Cursor } from "../lib/cursor.ts";

export const afterPosition = (createdAt: Column, id: Column, after?: Cursor) =>
  after ? or(lt(createdAt, new Date(after.at)), and(eq(createdAt, new Date(after.at)), lt(id, after.id))) : undefined;
