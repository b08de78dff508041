// Daily token budgets (rolling 24 hours) per user and per tenant, checked before any model call: the tenant's own
// budgets when its admins set them (src/tenants/settings.ts), else the deployment's.
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import type { Owner } from "../documents/repository.ts";
import { tenantSettings } from "../tenants/settings.ts";

export interface QuotaState {
  user: { used: number; limit: number };
  tenant: { used: number; limit: number };
  exceeded: "user" | "tenant" | null;
}

export async function quotaState(db: Db, config: Config, owner: Owner): Promise<QuotaState> {
  const [[row], settings] = await Promise.all([
    db.$client.query(
      `select coalesce(sum(prompt_tokens + completion_tokens + embedding_tokens) filter (where user_id = $2), 0)::int as user_tokens,
            coalesce(sum(prompt_tokens + completion_tokens + embedding_tokens), 0)::int as tenant_tokens
     from usage_events where tenant_id = $1 and created_at > now() - interval '24 hours'`,
      [owner.tenantId, owner.userId],
    ),
    tenantSettings(db, config, owner.tenantId),
  ]);
  const { user_tokens: userUsed, tenant_tokens: tenantUsed } = row as { user_tokens: number; tenant_tokens: number };
  const userLimit = settings.daily_token_budget_per_user;
  const tenantLimit = settings.daily_token_budget_per_tenant;
  // A limit of 0 means no limit.
  const exceeded = userLimit > 0 && userUsed >= userLimit ? "user" : tenantLimit > 0 && tenantUsed >= tenantLimit ? "tenant" : null;
  return { user: { used: userUsed, limit: userLimit }, tenant: { used: tenantUsed, limit: tenantLimit }, exceeded };
}

/** The tenant's totals are other members' spending: only the user's own figures are told. */
export function quotaMessage(state: QuotaState): string {
  if (state.exceeded === "tenant") return "Your organisation's daily token budget is used up; try again later";
  return `Your daily token budget is used up (${state.user.used} of ${state.user.limit} tokens in the last 24 hours)`;
}
