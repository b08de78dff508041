// What the collection routes share: path parameters, the list query, and how a missing collection answers.
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { presentCollection } from "../../collections/present.ts";
import { type CollectionView, listCollections } from "../../collections/repository.ts";
import type { AppEnv } from "../../env.ts";
import { decodeCursor, type pageQuery, paginate } from "../../lib/cursor.ts";
import { ApiError } from "../../lib/errors.ts";

export const CollectionIdParams = z.object({ id: z.uuid().openapi({ param: { name: "id", in: "path" } }) });

export const MemberParams = CollectionIdParams.extend({ user_id: z.uuid().openapi({ param: { name: "user_id", in: "path" } }) });

/** A collection the caller may not read (another tenant's, a members-only one they are not in) is a missing one. */
export function found<T extends object>(collection: T | null): T {
  if (!collection) throw new ApiError(404, "collection_not_found", "No such collection");
  return collection;
}

/** One page of the collections the caller may read (an admin: all of the tenant's). */
export async function collectionPage(c: Context<AppEnv>, { limit, cursor }: z.infer<ReturnType<typeof pageQuery>>) {
  const rows = await listCollections(c.var.services.db, c.var.user, limit + 1, cursor ? decodeCursor(cursor) : undefined);
  const { page, nextCursor } = paginate(rows, limit, (r: CollectionView) => ({ at: r.createdAt, id: r.id }));
  return { collections: page.map(presentCollection), next_cursor: nextCursor };
}
