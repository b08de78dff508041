// Daily token budgets (a rolling 24 to 25 hours, see WINDOW_HOURS) per user and per tenant, checked before any model call: the tenant's own
// budgets when its admins set them (src/tenants/settings.ts), else the deployment's.
import type { Config } from "../config.ts";
import type { Owner } from "../documents/repository.ts";
import type { Services } from "../services/index.ts";
import { tenantSettings } from "../tenants/settings.ts";
import { fillBuckets, type HourUsage, hourOf, readWindow, usageByHour, type WindowRead, windowStart } from "./buckets.ts";

export interface QuotaState {
  user: { used: number; limit: number };
  tenant: { used: number; limit: number };
  exceeded: "user" | "tenant" | null;
}

/** What recording and checking usage need of the services. */
export type UsageStores = Pick<Services, "db" | "redis">;

/**
 * The owner's and the tenant's tokens in the window (src/usage/buckets.ts): one Redis round trip, plus, for hours
 * whose bucket is missing, one range scan of usage_events and one write to fill them. Without Redis, usage_events
 * is summed over the same window, loudly: like the rate limit, the check degrades instead of failing.
 */
export async function quotaState(stores: UsageStores, config: Config, owner: Owner): Promise<QuotaState> {
  const [used, settings] = await Promise.all([tokensInWindow(stores, owner, Date.now()), tenantSettings(stores.db, config, owner.tenantId)]);
  const userLimit = settings.daily_token_budget_per_user;
  const tenantLimit = settings.daily_token_budget_per_tenant;
  // A limit of 0 means no limit.
  const exceeded = userLimit > 0 && used.user >= userLimit ? "user" : tenantLimit > 0 && used.tenant >= tenantLimit ? "tenant" : null;
  return { user: { used: used.user, limit: userLimit }, tenant: { used: used.tenant, limit: tenantLimit }, exceeded };
}

/** The owner's and the tenant's tokens in the window at `nowMs` (also bench:quota's measure of the check alone). */
export async function tokensInWindow({ db, redis }: UsageStores, owner: Owner, nowMs: number): Promise<{ user: number; tenant: number }> {
  let read: WindowRead;
  try {
    read = await readWindow(redis, owner.tenantId, owner.userId, nowMs);
  } catch (err) {
    console.error(JSON.stringify({ level: "error", msg: "usage buckets unavailable; summing usage_events", error: String(err) }));
    return sum(await usageByHour(db, owner.tenantId, hourOf(windowStart(nowMs)), hourOf(nowMs)), owner.userId);
  }
  const missing = read.missingHours;
  if (missing.length === 0) return read;
  const readStart = Date.now();
  const usage = await usageByHour(db, owner.tenantId, missing[0]!, missing.at(-1)!);
  const filled = usage.filter((u) => missing.includes(u.hour));
  await fillBuckets(redis, owner.tenantId, missing, filled, readStart).catch((err: unknown) => {
    // The figures are right all the same; the next check tries again.
    console.error(JSON.stringify({ level: "warn", msg: "usage buckets not filled", error: String(err) }));
  });
  const extra = sum(filled, owner.userId);
  return { user: read.user + extra.user, tenant: read.tenant + extra.tenant };
}

function sum(usage: HourUsage[], userId: string): { user: number; tenant: number } {
  let user = 0;
  let tenant = 0;
  for (const u of usage) {
    tenant += u.tokens;
    if (u.userId === userId) user += u.tokens;
  }
  return { user, tenant };
}

/** The tenant's totals are other members' spending: only the user's own figures are told. */
export function quotaMessage(state: QuotaState): string {
  if (state.exceeded === "tenant") return "Your organisation's daily token budget is used up; try again later";
  return `Your daily token budget is used up (${state.user.used} of ${state.user.limit} tokens in the last 24 hours)`;
}
