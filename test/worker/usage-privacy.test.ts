// GET /v1/usage shows members their own usage and only the share of the tenant's daily budget that is left,
// never the tenant's totals, from which another member's spending could be read.
import { describe, expect, it } from "vitest";
import { fetchWithEnv, json, login, search, uniqueIp } from "../support/api.ts";
import { sql } from "../support/db.ts";
import { forgetUsageBuckets } from "../support/usage-buckets.ts";

/** A tenant of its own, so that no other test's usage moves its budget. */
async function freshTenant() {
  const id = `usage-${crypto.randomUUID().slice(0, 8)}`;
  await sql().query("insert into tenants (id, name) values ($1, $2)", [id, "Usage privacy"]);
  return id;
}

async function spend(tenant: string, userId: string, tokens: number) {
  await sql().query(
    `insert into usage_events (tenant_id, user_id, kind, model, prompt_tokens, completion_tokens) values ($1, $2, 'chat', 'gpt-4o-mini', $3, 0)`,
    [tenant, userId, tokens],
  );
  await forgetUsageBuckets(tenant);
}

async function usage(token: string, tenant: string, tenantBudget: string) {
  const res = await fetchWithEnv(
    "/v1/usage",
    { DAILY_TOKEN_BUDGET_PER_TENANT: tenantBudget, DAILY_TOKEN_BUDGET_PER_USER: "50000" },
    {
      headers: { "X-Tenant-ID": tenant, Authorization: `Bearer ${token}`, "CF-Connecting-IP": uniqueIp() },
    },
  );
  expect(res.status).toBe(200);
  return json(res);
}

/** Every number anywhere in a JSON value. */
const numbersIn = (value: unknown): number[] =>
  typeof value === "number" ? [value] : value && typeof value === "object" ? Object.values(value).flatMap(numbersIn) : [];

describe("GET /v1/usage privacy", () => {
  it("shows a member their own usage and the tenant's share left, never another member's or the tenant's totals", async () => {
    const tenant = await freshTenant();
    const [ada, bob] = [await login(undefined, tenant), await login(undefined, tenant)];
    await spend(tenant, ada.user.id, 1_000);
    await spend(tenant, bob.user.id, 9_000);

    const adas = await usage(ada.token, tenant, "20000");
    expect(adas.last_24h.total_tokens).toBe(1_000);
    expect(adas.daily_budget.user).toEqual({ used: 1_000, limit: 50_000 });
    // Both members' spending counts against the tenant: 10,000 of 20,000 tokens are spent.
    expect(adas.daily_budget.tenant).toEqual({ remaining_fraction: 0.5 });
    // Neither Bob's 9,000 nor the tenant's 10,000 or its limit appear anywhere in Ada's report.
    for (const secret of [9_000, 10_000, 20_000]) expect(numbersIn(adas)).not.toContain(secret);

    const bobs = await usage(bob.token, tenant, "20000");
    expect(bobs.daily_budget).toEqual({ user: { used: 9_000, limit: 50_000 }, tenant: { remaining_fraction: 0.5 } });
    expect(numbersIn(bobs)).not.toContain(1_000);
  });

  it("leaves a member's report unchanged by another member's real usage", async () => {
    const tenant = await freshTenant();
    const [ada, bob] = [await login(undefined, tenant), await login(undefined, tenant)];
    await spend(tenant, ada.user.id, 700);
    const before = await usage(ada.token, tenant, "0");

    await search(bob.token, { query: "what did Bob ask about the quarterly report?" }, tenant); // embeds: Bob's tokens
    const bobs = await usage(bob.token, tenant, "0");
    expect(bobs.last_24h.embedding_tokens).toBeGreaterThan(0);

    const after = await usage(ada.token, tenant, "0");
    expect(after).toEqual(before);
    // An unlimited tenant budget has no share to show.
    expect(after.daily_budget.tenant).toEqual({ remaining_fraction: null });
  });

  it("rounds the share left down to a whole percent, and to 0 once spent", async () => {
    const tenant = await freshTenant();
    const ada = await login(undefined, tenant);
    await spend(tenant, ada.user.id, 6_800);
    expect((await usage(ada.token, tenant, "20000")).daily_budget.tenant).toEqual({ remaining_fraction: 0.66 }); // exactly 66% left
    await spend(tenant, ada.user.id, 3_201);
    expect((await usage(ada.token, tenant, "20000")).daily_budget.tenant).toEqual({ remaining_fraction: 0.49 });
    await spend(tenant, ada.user.id, 15_000);
    expect((await usage(ada.token, tenant, "20000")).daily_budget.tenant).toEqual({ remaining_fraction: 0 });
  });
});
