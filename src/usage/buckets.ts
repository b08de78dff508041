// Running token totals for the budget window, so a quota check costs the same whatever the tenant's history: per
// tenant and UTC hour one Redis hash `usage:<tenantId>:<hour>` with the field `tenant` (all its tokens that hour)
// and `user:<userId>` (each user's). usage_events stays the source of truth: a bucket that exists is complete for
// its hour; one that is missing (new hour, expired, Redis lost its data) is filled from usage_events by the next
// check, and recording only adds to buckets that exist, so nothing is counted twice.
//
// The race: an event committed after a fill read usage_events, but counted (no-op: no bucket yet) before the fill
// wrote the bucket, would be missing from that bucket until it expires. So a count that finds no bucket leaves the
// time in a `usage:<tenantId>:<hour>:missed` marker, and a fill whose read began before that (less MISSED_MARGIN_MS
// for clocks of other machines) does not write the bucket: the next check reads that hour again. What remains is
// skew beyond the margin; and until the event is counted, model work in flight still counts by its reservation
// (src/usage/budget.ts, SETTLED_GRACE_MS).
import type { Redis } from "@upstash/redis/cloudflare";
import type { Db } from "../db/client.ts";

export const HOUR_MS = 3_600_000;
/**
 * The window is the current hour and the 24 before it, so it spans 24 to 25 hours: an hour's usage stops counting at
 * the top of the hour 25 hours after it began. The safe side of "rolling 24 hours": no 24 hours can hold more than a
 * budget's worth.
 */
export const WINDOW_HOURS = 25;

export const hourOf = (epochMs: number) => Math.floor(epochMs / HOUR_MS);
/** The window's first instant for a check at `nowMs`: usage_events from then on count. */
export const windowStart = (nowMs: number) => (hourOf(nowMs) - WINDOW_HOURS + 1) * HOUR_MS;

export const bucketKey = (tenantId: string, hour: number) => `usage:${tenantId}:${hour}`;
const windowHours = (nowMs: number) => Array.from({ length: WINDOW_HOURS }, (_, i) => hourOf(windowStart(nowMs)) + i);
/** The tenant's buckets in the window at `nowMs`, oldest first. */
export const windowKeysOf = (tenantId: string, nowMs: number) => windowHours(nowMs).map((h) => bucketKey(tenantId, h));
/** A bucket outlives the window by an hour, so a check at the window's edge never sees it vanish mid-read. */
const bucketExpiry = (hour: number) => String((hour + WINDOW_HOURS + 1) * HOUR_MS);
const userField = (userId: string) => `user:${userId}`;
const missedKey = (tenantId: string, hour: number) => `${bucketKey(tenantId, hour)}:missed`;
/** How far another machine's clock may be behind: a fill that began this much after a missed count still yields. */
const MISSED_MARGIN_MS = 1_000;
/** A marker outlives any fill's read. */
const MISSED_TTL_MS = 60_000;

export interface HourUsage {
  hour: number;
  userId: string | null;
  tokens: number;
}

// KEYS: the event's bucket, its missed marker. ARGV: user field, tokens, now. Adds only to a bucket that exists: a
// missing one will be filled from usage_events, which has the event already, unless a fill is reading it right now.
const COUNT = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[3]) then redis.call('SET', KEYS[2], ARGV[3], 'PX', ${MISSED_TTL_MS}) end
  return 0
end
redis.call('HINCRBY', KEYS[1], 'tenant', ARGV[2])
if ARGV[1] ~= '' then redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2]) end
return 1`;

/** Adds committed usage to its hour's bucket. Throws when Redis fails (the caller logs it; see recordUsage). */
export async function countInBucket(redis: Redis, tenantId: string, userId: string | null, at: number, tokens: number): Promise<void> {
  const hour = hourOf(at);
  await redis.eval(
    COUNT,
    [bucketKey(tenantId, hour), missedKey(tenantId, hour)],
    [userId ? userField(userId) : "", String(tokens), String(Date.now())],
  );
}

/** Best effort after a failed count: a deleted bucket is refilled from usage_events by the next check. */
export async function dropBucket(redis: Redis, tenantId: string, at: number): Promise<void> {
  await redis.del(bucketKey(tenantId, hourOf(at)));
}

// KEYS: the window's buckets, oldest first. ARGV: the user's field. Answers the tenant's and the user's sums over the
// buckets that exist, then the (1-based) positions of the missing ones.
const READ = `
local tenant, user, missing = 0, 0, {}
for i, key in ipairs(KEYS) do
  local v = redis.call('HMGET', key, 'tenant', ARGV[1])
  if v[1] then
    tenant = tenant + tonumber(v[1])
    if v[2] then user = user + tonumber(v[2]) end
  else
    missing[#missing + 1] = i
  end
end
return {tenant, user, missing}`;

export interface WindowRead {
  tenant: number;
  user: number;
  missingHours: number[];
}

export async function readWindow(redis: Redis, tenantId: string, userId: string, nowMs: number): Promise<WindowRead> {
  const hours = windowHours(nowMs);
  const [tenant, user, missing] = await redis.eval<string[], [number, number, number[]]>(
    READ,
    hours.map((h) => bucketKey(tenantId, h)),
    [userField(userId)],
  );
  return { tenant, user, missingHours: missing.map((i) => hours[i - 1]!) };
}

/** Parameters: tenant, from, to (timestamptz). Exported for bench:quota's EXPLAIN. */
export const USAGE_BY_HOUR = `select floor(extract(epoch from created_at) / 3600)::int as hour, user_id,
       sum(prompt_tokens + completion_tokens + embedding_tokens)::bigint as tokens
  from usage_events where tenant_id = $1 and created_at >= $2::timestamptz and created_at < $3::timestamptz
  group by 1, 2`;

/**
 * The tenant's tokens per hour and user in [fromHour, toHour], from usage_events: one range scan of the
 * (tenant_id, created_at) index. Also the whole window's figures when Redis is unavailable.
 */
export async function usageByHour(db: Db, tenantId: string, fromHour: number, toHour: number): Promise<HourUsage[]> {
  const rows = await db.$client.query(USAGE_BY_HOUR, [
    tenantId,
    new Date(fromHour * HOUR_MS).toISOString(),
    new Date((toHour + 1) * HOUR_MS).toISOString(),
  ]);
  return (rows as Array<{ hour: number; user_id: string | null; tokens: string | number }>).map((r) => ({
    hour: r.hour,
    userId: r.user_id,
    tokens: Number(r.tokens),
  }));
}

// KEYS: per bucket to fill, the bucket and its missed marker. ARGV: the read's start less the margin, then per bucket
// its expiry, its field count and field/value pairs (`tenant` among them), one HSET each (unpack would overflow
// Lua's stack for a tenant of thousands of users). A bucket that exists meanwhile (another check filled it, and
// counting may have added to it), or that a count missed since the read began, is left alone.
const FILL = `
local at = 2
for i = 1, #KEYS, 2 do
  local key, expiry, n = KEYS[i], ARGV[at], tonumber(ARGV[at + 1])
  if redis.call('EXISTS', key) == 0 and tonumber(redis.call('GET', KEYS[i + 1]) or '0') < tonumber(ARGV[1]) then
    for j = at + 2, at + 1 + n * 2, 2 do redis.call('HSET', key, ARGV[j], ARGV[j + 1]) end
    redis.call('PEXPIREAT', key, expiry)
  end
  at = at + 2 + n * 2
end
return 0`;

/**
 * Writes the missing hours' buckets from `usage`, usage_events' figures for them as read from `readStartMs` on; an
 * empty hour gets tenant = 0.
 */
export async function fillBuckets(redis: Redis, tenantId: string, hours: number[], usage: HourUsage[], readStartMs: number): Promise<void> {
  const args: string[] = [String(readStartMs - MISSED_MARGIN_MS)];
  for (const hour of hours) {
    const rows = usage.filter((u) => u.hour === hour);
    const fields = new Map<string, number>([["tenant", 0]]);
    for (const r of rows) {
      fields.set("tenant", fields.get("tenant")! + r.tokens);
      if (r.userId) fields.set(userField(r.userId), (fields.get(userField(r.userId)) ?? 0) + r.tokens);
    }
    args.push(bucketExpiry(hour), String(fields.size), ...[...fields].flatMap(([f, v]) => [f, String(v)]));
  }
  await redis.eval(
    FILL,
    hours.flatMap((h) => [bucketKey(tenantId, h), missedKey(tenantId, h)]),
    args,
  );
}
