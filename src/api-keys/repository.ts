// API key rows. A key acts as its own users row (kind 'api_key'), created with it in one transaction, so its
// documents, chat sessions, rate limits and budgets are its own; revoking a key disables that identity too.

import { and, desc, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { afterPosition } from "../db/keyset.ts";
import { apiKeys, collections, users } from "../db/schema.ts";
import type { Cursor } from "../lib/cursor.ts";
import { generateApiKey, hashApiKey } from "./secret.ts";

export type ApiKeyRow = typeof apiKeys.$inferSelect;

export interface NewApiKey {
  tenantId: string;
  createdBy: string;
  name: string;
  scope: "read" | "write";
  collectionIds: string[] | null;
  expiresAt: Date | null;
}

/** The identity's email: unique per key, and under .invalid (RFC 2606), so no mail can ever reach it. */
export const identityEmail = (keyId: string) => `key-${keyId}@api-keys.invalid`;

/** How many of `ids` are collections of the tenant. */
export async function countTenantCollections(db: Db, tenantId: string, ids: string[]): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(collections)
    .where(and(eq(collections.tenantId, tenantId), inArray(collections.id, ids)));
  return row?.n ?? 0;
}

/** Creates the key and its identity; the secret is returned here and never again. */
export async function createApiKey(db: Db, key: NewApiKey): Promise<{ row: ApiKeyRow; secret: string }> {
  const id = crypto.randomUUID();
  const userId = crypto.randomUUID();
  const { secret, prefix } = generateApiKey();
  const [, [row]] = await db.batch([
    db.insert(users).values({ id: userId, tenantId: key.tenantId, email: identityEmail(id), role: "member", status: "active", kind: "api_key" }),
    db
      .insert(apiKeys)
      .values({ id, userId, prefix, hash: await hashApiKey(secret), ...key })
      .returning(),
  ]);
  return { row: row!, secret };
}

/** One page of the tenant's keys, newest first (revoked ones included, with revoked_at). */
export function listApiKeys(db: Db, tenantId: string, limit: number, after?: Cursor): Promise<ApiKeyRow[]> {
  return db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, tenantId), afterPosition(apiKeys.createdAt, apiKeys.id, after)))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .limit(limit);
}

/** What verifying a key needs: the key and its identity's email. */
export async function findApiKeyByHash(db: Db, hash: string) {
  const [row] = await db
    .select({ key: apiKeys, email: users.email })
    .from(apiKeys)
    .innerJoin(users, and(eq(users.tenantId, apiKeys.tenantId), eq(users.id, apiKeys.userId)))
    .where(eq(apiKeys.hash, hash));
  return row ?? null;
}

export type RevokeOutcome = { row: ApiKeyRow; revokedNow: boolean } | null;

/**
 * Revokes the key and disables its identity, in one transaction (a disabled identity also stops its open chat
 * sockets at their next message). Revoking a revoked key keeps its first revoked_at and says so (revokedNow false);
 * null when the tenant has no such key.
 */
export async function revokeApiKey(db: Db, tenantId: string, id: string): Promise<RevokeOutcome> {
  const [existing] = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, id)));
  if (!existing) return null;
  const [revoked] = await db.batch([
    db
      .update(apiKeys)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .returning(),
    db
      .update(users)
      .set({ status: "disabled" })
      .where(and(eq(users.tenantId, tenantId), eq(users.id, existing.userId))),
  ]);
  return revoked[0] ? { row: revoked[0], revokedNow: true } : { row: existing, revokedNow: false };
}

/** Records use at most once a minute per key across isolates; the caller throttles its own isolate further. */
export async function touchApiKey(db: Db, id: string): Promise<void> {
  await db
    .update(apiKeys)
    .set({ lastUsedAt: sql`now()` })
    .where(and(eq(apiKeys.id, id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, sql`now() - interval '1 minute'`))));
}
