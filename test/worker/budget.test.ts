// Token-budget reservations against the real Redis stand-in and database: concurrent work cannot overspend a
// budget by more than one reservation (test config: 500,000 tokens per user a day).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getConfig } from "../../src/config.ts";
import { servicesFor } from "../../src/services/index.ts";
import { BudgetExceededError, reserveTokens } from "../../src/usage/budget.ts";
import { login, uniqueEmail } from "../support/api.ts";
import { sql } from "../support/db.ts";
import { forgetUsageBuckets } from "../support/usage-buckets.ts";

const config = getConfig(env as never);
const services = servicesFor(config);

/** A fresh user of `tenant` who has already spent `spent` tokens today. */
async function userWhoSpent(spent: number, tenant = "acme") {
  const { user } = await login(uniqueEmail(), tenant);
  if (spent)
    await sql().query("insert into usage_events (tenant_id, user_id, kind, model, embedding_tokens) values ($1, $2, 'embedding', 'test', $3)", [
      tenant,
      user.id,
      spent,
    ]);
  await forgetUsageBuckets(tenant);
  return { tenantId: tenant, userId: user.id };
}

async function freshTenant() {
  const id = `budget-${crypto.randomUUID().slice(0, 8)}`;
  await sql().query("insert into tenants (id, name) values ($1, 'Budget test')", [id]);
  return id;
}

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => "reserved",
    (err: unknown) => (err instanceof BudgetExceededError ? err.code : `unexpected: ${String(err)}`),
  );

describe("budget reservations", () => {
  it("lets one of 30 concurrent reservations through when 100 tokens are left", async () => {
    const owner = await userWhoSpent(config.DAILY_TOKEN_BUDGET_PER_USER - 100);
    const results = await Promise.all(Array.from({ length: 30 }, () => outcome(reserveTokens(services, config, owner, 3_000))));
    expect(results.filter((r) => r === "reserved")).toHaveLength(1);
    expect(results.filter((r) => r === "quota_exceeded")).toHaveLength(29);
  });

  it("overspends by at most one reservation, and reports the outstanding tokens as used", async () => {
    const owner = await userWhoSpent(config.DAILY_TOKEN_BUDGET_PER_USER - 10_000);
    let reserved = 0;
    let refusal: BudgetExceededError | null = null;
    while (!refusal) {
      try {
        await reserveTokens(services, config, owner, 4_000);
        reserved += 4_000;
      } catch (err) {
        refusal = err as BudgetExceededError;
      }
    }
    expect(reserved).toBe(12_000); // 0, 4,000 and 8,000 outstanding were under the 10,000 left; 12,000 was not
    expect(refusal.state.exceeded).toBe("user");
    expect(refusal.state.user.used).toBe(config.DAILY_TOKEN_BUDGET_PER_USER + 2_000);
    expect(refusal.message).toMatch(/daily token budget is used up/);
  });

  it("stops counting a settled reservation once its grace period is over", async () => {
    const owner = await userWhoSpent(config.DAILY_TOKEN_BUDGET_PER_USER - 100);
    const reservation = await reserveTokens(services, config, owner, 3_000);
    await expect(outcome(reserveTokens(services, config, owner, 10))).resolves.toBe("quota_exceeded");
    await reservation.settle();
    await reservation.settle(); // idempotent
    await new Promise((r) => setTimeout(r, 5_500));
    await expect(outcome(reserveTokens(services, config, owner, 10))).resolves.toBe("reserved");
  }, 15_000);

  it("shares a tenant budget between its users, and keeps other tenants out of it", async () => {
    const tight = { ...config, DAILY_TOKEN_BUDGET_PER_USER: 0, DAILY_TOKEN_BUDGET_PER_TENANT: 1_000 };
    const [tenant, other] = [await freshTenant(), await freshTenant()];
    const [a, b] = [await userWhoSpent(0, tenant), await userWhoSpent(0, tenant)];
    await reserveTokens(services, tight, a, 800);
    await reserveTokens(services, tight, b, 800);
    const refused = await reserveTokens(services, tight, b, 800).catch((err: BudgetExceededError) => err);
    expect(refused).toBeInstanceOf(BudgetExceededError);
    expect((refused as BudgetExceededError).state.exceeded).toBe("tenant");
    // Another tenant's user is untouched by this tenant's reservations.
    await expect(outcome(reserveTokens(services, tight, await userWhoSpent(0, other), 800))).resolves.toBe("reserved");
  });

  it("refuses at once when usage_events alone already exceed the budget", async () => {
    const owner = await userWhoSpent(config.DAILY_TOKEN_BUDGET_PER_USER);
    await expect(outcome(reserveTokens(services, config, owner, 1))).resolves.toBe("quota_exceeded");
  });
});
