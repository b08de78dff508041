// Token usage events, per tenant, user and model; the source of usage reports and quotas. Recording is always
// "insert, then count in the hour's bucket" (src/usage/buckets.ts): the two halves live here only, so no caller can
// forget the second.
import type { Db } from "../db/client.ts";
import { usageEvents } from "../db/schema.ts";
import type { Statement } from "../search/hybrid.ts";
import { countInBucket, dropBucket } from "./buckets.ts";
import type { UsageStores } from "./quota.ts";

export type UsageEvent = Omit<typeof usageEvents.$inferInsert, "id" | "createdAt">;

const tokensOf = (e: UsageEvent) => (e.promptTokens ?? 0) + (e.completionTokens ?? 0) + (e.embeddingTokens ?? 0);

/** Inserts the event, then counts it. */
export function recordUsage(stores: UsageStores, event: UsageEvent): Promise<void> {
  return recordUsageWith(stores, [event], async ([insert]) => void (await insert));
}

/**
 * Hands `write` the events' inserts to run in a transaction of its own statements (one round trip for all), then,
 * once `write` has committed them, counts them. When `write` throws, nothing is counted.
 */
export async function recordUsageWith<T>(stores: UsageStores, events: UsageEvent[], write: (inserts: Statement[]) => Promise<T>): Promise<T> {
  // Stamped here rather than by the database's now(), so the row and its count fall in the same hour's bucket.
  const at = Date.now();
  const result = await write(events.map((e) => insertStatement(stores.db, { ...e, createdAt: new Date(at) })));
  await countEvents(stores, events, at);
  return result;
}

function insertStatement(db: Db, event: typeof usageEvents.$inferInsert): Statement {
  const { sql, params } = db.insert(usageEvents).values(event).toSQL();
  return db.$client.query(sql, params);
}

/**
 * One count per user. A failed count is logged, never the request's failure: the bucket would then miss these
 * tokens until it expires, so it is deleted (best effort) for the next check to refill it from usage_events.
 */
async function countEvents({ redis }: UsageStores, events: UsageEvent[], at: number): Promise<void> {
  const perUser = new Map<string, { tenantId: string; userId: string | null; tokens: number }>();
  for (const e of events) {
    const key = `${e.tenantId}:${e.userId ?? ""}`;
    const entry = perUser.get(key) ?? { tenantId: e.tenantId, userId: e.userId ?? null, tokens: 0 };
    entry.tokens += tokensOf(e);
    perUser.set(key, entry);
  }
  await Promise.all(
    [...perUser.values()]
      .filter((u) => u.tokens > 0)
      .map((u) =>
        countInBucket(redis, u.tenantId, u.userId, at, u.tokens).catch(async (err: unknown) => {
          console.error(JSON.stringify({ level: "error", msg: "usage not counted in its bucket", error: String(err) }));
          await dropBucket(redis, u.tenantId, at).catch(() => {});
        }),
      ),
  );
}
