// Token-budget reservations. The budget's source of truth is usage_events (what was really spent, as its running
// totals in Redis count it: src/usage/buckets.ts); what concurrent work is about to spend lives in Redis, one sorted
// set per user and per tenant of `<id>:<tokens>` members scored by their expiry. One Lua script checks spent +
// outstanding against the limit and reserves, atomically, so that work started together can overspend a budget by at
// most one reservation's worth.
import type { Redis } from "@upstash/redis/cloudflare";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import type { Owner } from "../documents/repository.ts";
import { CodedError } from "../lib/coded-error.ts";
import { type QuotaState, quotaMessage, quotaState } from "./quota.ts";

/** A reservation that is never settled (its isolate died) stops counting after this long. */
export const RESERVATION_TTL_MS = 10 * 60_000;
/**
 * A settled reservation keeps counting this much longer: a concurrent reserver may have read the spent tokens just
 * before the settled usage was recorded, and must still see it here. Counting it twice for a moment is the safe side.
 */
const SETTLED_GRACE_MS = 5_000;

export class BudgetExceededError extends CodedError<"quota_exceeded"> {
  readonly state: QuotaState;
  constructor(state: QuotaState) {
    super("quota_exceeded", quotaMessage(state), false);
    this.state = state;
  }
}

export interface Reservation {
  /** Call once the actual usage is in usage_events (or the work ended). Idempotent; never throws. */
  settle(): Promise<void>;
}

const userKey = (o: Owner) => `budget:reserved:${o.tenantId}:user:${o.userId}`;
const tenantKey = (o: Owner) => `budget:reserved:${o.tenantId}:tenant`;

// KEYS: user set, tenant set. ARGV: now, expires at, member, user spent, user limit, tenant spent, tenant limit
// (limits of 0 are unlimited). Answers 0 (reserved), 1 (user budget spent) or 2 (tenant budget spent), then the
// tokens outstanding for the user and for the tenant before this reservation.
const RESERVE = `
local function outstanding(key)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
  local total = 0
  for _, member in ipairs(redis.call('ZRANGE', key, 0, -1)) do
    total = total + tonumber(string.match(member, ':(%d+)$'))
  end
  return total
end
local user, tenant = outstanding(KEYS[1]), outstanding(KEYS[2])
local userLimit, tenantLimit = tonumber(ARGV[5]), tonumber(ARGV[7])
if userLimit > 0 and tonumber(ARGV[4]) + user >= userLimit then return {1, user, tenant} end
if tenantLimit > 0 and tonumber(ARGV[6]) + tenant >= tenantLimit then return {2, user, tenant} end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, ARGV[2], ARGV[3])
  redis.call('PEXPIREAT', key, ARGV[2])
end
return {0, user, tenant}`;

// KEYS: user set, tenant set. ARGV: member, new expiry. Shortens the member's life to the grace period.
const SETTLE = `
for _, key in ipairs(KEYS) do
  if redis.call('ZSCORE', key, ARGV[1]) then redis.call('ZADD', key, 'XX', ARGV[2], ARGV[1]) end
end
return 0`;

/**
 * Reserves `estimate` tokens for the owner, or throws BudgetExceededError when the user's or the tenant's rolling
 * 24-hour budget is spent counting both usage_events and the reservations of work still running.
 */
export async function reserveTokens(services: { db: Db; redis: Redis }, config: Config, owner: Owner, estimate: number): Promise<Reservation> {
  const spent = await quotaState(services, config, owner);
  if (spent.exceeded) throw new BudgetExceededError(spent);
  const keys = [userKey(owner), tenantKey(owner)];
  const member = `${crypto.randomUUID()}:${Math.max(0, Math.ceil(estimate))}`;
  const now = Date.now();
  let reply: [number, number, number];
  try {
    reply = await services.redis.eval<string[], [number, number, number]>(RESERVE, keys, [
      String(now),
      String(now + RESERVATION_TTL_MS),
      member,
      String(spent.user.used),
      String(spent.user.limit),
      String(spent.tenant.used),
      String(spent.tenant.limit),
    ]);
  } catch (err) {
    // Like the API rate limit, this fails open, loudly: the budget is then checked against usage_events alone.
    console.error(JSON.stringify({ level: "error", msg: "budget reservations unavailable", error: String(err) }));
    return { settle: async () => {} };
  }
  const [verdict, userOutstanding, tenantOutstanding] = reply;
  if (verdict !== 0) {
    // Reported as if the outstanding tokens were spent already: they are about to be.
    const state: QuotaState = {
      user: { used: spent.user.used + userOutstanding, limit: spent.user.limit },
      tenant: { used: spent.tenant.used + tenantOutstanding, limit: spent.tenant.limit },
      exceeded: verdict === 1 ? "user" : "tenant",
    };
    throw new BudgetExceededError(state);
  }
  let settled = false;
  return {
    async settle() {
      if (settled) return;
      settled = true;
      await services.redis.eval(SETTLE, keys, [member, String(Date.now() + SETTLED_GRACE_MS)]).catch((err: unknown) => {
        // The reservation then simply expires on its own.
        console.error(JSON.stringify({ level: "warn", msg: "budget reservation not settled", error: String(err) }));
      });
    },
  };
}
