// The quota check reads per-hour running totals in Redis instead of summing usage_events: its figures must still be
// usage_events' own over the window, whatever path the usage came by, after Redis lost the buckets, and under
// concurrent recording (through the real Worker, the local stack's Redis and database).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getConfig } from "../../src/config.ts";
import { servicesFor } from "../../src/services/index.ts";
import { bucketKey, fillBuckets, hourOf, usageByHour, WINDOW_HOURS } from "../../src/usage/buckets.ts";
import { BudgetExceededError, reserveTokens } from "../../src/usage/budget.ts";
import { quotaState } from "../../src/usage/quota.ts";
import { recordUsage } from "../../src/usage/record.ts";
import { call, fetchWithEnv, json, login, search, uniqueIp, upload, waitForIngestion } from "../support/api.ts";
import { ChatClient } from "../support/chat.ts";
import { sql } from "../support/db.ts";
import { makeTextPdf } from "../support/pdf-factory.ts";
import { forgetUsageBuckets, testRedis, windowKeys } from "../support/usage-buckets.ts";

const config = getConfig(env as never);
const services = servicesFor(config);

async function freshTenant() {
  const id = `quota-${crypto.randomUUID().slice(0, 8)}`;
  await sql().query("insert into tenants (id, name) values ($1, 'Quota buckets test')", [id]);
  return id;
}

/** usage_events' own figures over the check's window (the current hour and the WINDOW_HOURS - 1 before it). */
async function windowSums(tenant: string, userId: string) {
  const [row] = await sql().query(
    `select coalesce(sum(prompt_tokens + completion_tokens + embedding_tokens) filter (where user_id = $2), 0)::int as user,
            coalesce(sum(prompt_tokens + completion_tokens + embedding_tokens), 0)::int as tenant
     from usage_events where tenant_id = $1 and created_at >= date_trunc('hour', now() at time zone 'utc') at time zone 'utc' - $3 * interval '1 hour'`,
    [tenant, userId, WINDOW_HOURS - 1],
  );
  return row as { user: number; tenant: number };
}

/** A new user of a fresh tenant, with `promptTokens` of chat usage written straight into usage_events (not counted). */
async function userWithRawUsage(promptTokens: number) {
  const tenant = await freshTenant();
  const { user } = await login(undefined, tenant);
  await sql().query("insert into usage_events (tenant_id, user_id, kind, model, prompt_tokens) values ($1, $2, 'chat', 'gpt-4o-mini', $3)", [
    tenant,
    user.id,
    promptTokens,
  ]);
  return { tenant, user };
}

async function checked(tenant: string, userId: string) {
  const state = await quotaState(services, config, { tenantId: tenant, userId });
  return { user: state.user.used, tenant: state.tenant.used };
}

/** How many of the tenant's window buckets Redis holds. */
const bucketsHeld = async (tenant: string) => (await testRedis().exists(...windowKeys(tenant))) as number;

async function userWithDocument(tenant: string) {
  const { token, user } = await login(undefined, tenant);
  const res = await upload(token, makeTextPdf(["The lighthouse on Skarvoy is painted red and white."]), "lighthouse.pdf", { tenant });
  expect(res.status).toBe(202);
  const { doc } = await waitForIngestion(token, (await json(res)).id, { tenant });
  expect(doc.status).toBe("ready");
  return { token, user };
}

describe("quota buckets", () => {
  it("counts upload, search and chat exactly as usage_events has them, and reconciles after Redis lost the buckets", async () => {
    const tenant = await freshTenant();
    const { token, user } = await userWithDocument(tenant);
    await search(token, { query: "lighthouse colours" }, tenant);
    const chat = await ChatClient.open({ token, tenant });
    expect((await chat.ask("What colour is the lighthouse?")).done?.status).toBe("complete");
    chat.close();
    await search(token, { query: "Skarvoy" }, tenant);

    const truth = await windowSums(tenant, user.id);
    expect(truth.user).toBeGreaterThan(0);
    expect(await bucketsHeld(tenant)).toBe(WINDOW_HOURS); // the counts went to buckets, not a fallback
    expect(await checked(tenant, user.id)).toEqual(truth);
    const usage = await json(await call("/v1/usage", { token, tenant }));
    expect(usage.daily_budget.user.used).toBe(truth.user);

    await forgetUsageBuckets(tenant);
    expect(await bucketsHeld(tenant)).toBe(0);
    expect(await checked(tenant, user.id)).toEqual(truth);
    expect(await bucketsHeld(tenant)).toBe(WINDOW_HOURS);
    // The refilled buckets keep counting.
    await search(token, { query: "red and white" }, tenant);
    expect(await checked(tenant, user.id)).toEqual(await windowSums(tenant, user.id));
  }, 60_000);

  it("counts events of a few hours ago and not those older than the window", async () => {
    const tenant = await freshTenant();
    const { user } = await login(undefined, tenant);
    await sql().query(
      `insert into usage_events (tenant_id, user_id, kind, model, prompt_tokens, created_at) values
         ($1, $2, 'chat', 'gpt-4o-mini', 300, now() - interval '3 hours'),
         ($1, $2, 'chat', 'gpt-4o-mini', 50000, now() - interval '26 hours'),
         ($1, null, 'chat', 'gpt-4o-mini', 20, now() - interval '5 hours')`,
      [tenant, user.id],
    );
    await forgetUsageBuckets(tenant);
    expect(await checked(tenant, user.id)).toEqual({ user: 300, tenant: 320 });
    // From the buckets now, the same.
    expect(await checked(tenant, user.id)).toEqual({ user: 300, tenant: 320 });
  });

  it("leaves a missing bucket to be filled from usage_events, so usage recorded meanwhile counts once", async () => {
    const { tenant, user } = await userWithRawUsage(500);
    await forgetUsageBuckets(tenant);
    await recordUsage(services, { tenantId: tenant, userId: user.id, kind: "chat", model: "gpt-4o-mini", promptTokens: 40, completionTokens: 2 });
    expect(await bucketsHeld(tenant)).toBe(0);
    expect(await checked(tenant, user.id)).toEqual({ user: 542, tenant: 542 });
    await recordUsage(services, { tenantId: tenant, userId: user.id, kind: "embedding", model: "test", embeddingTokens: 8 });
    expect(await checked(tenant, user.id)).toEqual({ user: 550, tenant: 550 });
  });

  it("does not fill a bucket from a read that an event committed after", async () => {
    const tenant = await freshTenant();
    const { user } = await login(undefined, tenant);
    await forgetUsageBuckets(tenant);
    // A check's fill, interleaved by hand: it reads usage_events, an event commits (its count finds no bucket), then
    // the fill writes. Written, the bucket would miss the event for a day.
    const hour = hourOf(Date.now());
    const readStart = Date.now();
    const read = await usageByHour(services.db, tenant, hour, hour);
    await recordUsage(services, { tenantId: tenant, userId: user.id, kind: "chat", model: "gpt-4o-mini", promptTokens: 90 });
    await fillBuckets(services.redis, tenant, [hour], read, readStart);
    expect(await testRedis().exists(bucketKey(tenant, hour))).toBe(0);
    expect(await checked(tenant, user.id)).toEqual({ user: 90, tenant: 90 });
  });

  it("counts 20 concurrent searches once each", async () => {
    const tenant = await freshTenant();
    const { token, user } = await userWithDocument(tenant);
    const before = await checked(tenant, user.id); // the buckets exist: the searches add to them
    expect(before).toEqual(await windowSums(tenant, user.id));
    await Promise.all(Array.from({ length: 20 }, (_, i) => search(token, { query: `lighthouse question ${i}` }, tenant)));
    const truth = await windowSums(tenant, user.id);
    expect(truth.user).toBeGreaterThan(before.user);
    expect(await checked(tenant, user.id)).toEqual(truth);
  }, 60_000);

  it("never shows another tenant's usage", async () => {
    const [mine, theirs] = [await freshTenant(), await freshTenant()];
    const { user } = await login(undefined, mine);
    const before = await checked(mine, user.id);
    const other = await userWithDocument(theirs);
    await search(other.token, { query: "lighthouse" }, theirs);
    expect((await checked(theirs, other.user.id)).tenant).toBeGreaterThan(0);
    expect(await checked(mine, user.id)).toEqual(before);
    expect(before).toEqual({ user: 0, tenant: 0 });
  }, 60_000);

  it("still refuses at the limit, counted from the buckets", async () => {
    const tenant = await freshTenant();
    const { token, user } = await userWithDocument(tenant);
    await search(token, { query: "lighthouse" }, tenant);
    const { user: spent } = await checked(tenant, user.id);
    const ask = (budget: number) =>
      fetchWithEnv(
        "/v1/search",
        { DAILY_TOKEN_BUDGET_PER_USER: String(budget) },
        {
          method: "POST",
          headers: { "X-Tenant-ID": tenant, Authorization: `Bearer ${token}`, "CF-Connecting-IP": uniqueIp(), "Content-Type": "application/json" },
          body: JSON.stringify({ query: "lighthouse" }),
        },
      );
    expect((await ask(spent + 1_000)).status).toBe(200);
    const refused = await ask(spent);
    expect(refused.status).toBe(429);
    expect((await json(refused)).error.code).toBe("quota_exceeded");
    const tight = { ...config, DAILY_TOKEN_BUDGET_PER_USER: spent };
    await expect(reserveTokens(services, tight, { tenantId: tenant, userId: user.id }, 1)).rejects.toBeInstanceOf(BudgetExceededError);
  }, 60_000);

  it("sums usage_events when Redis is unavailable", async () => {
    const { tenant, user } = await userWithRawUsage(700);
    const down = servicesFor({ ...config, UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9" });
    const state = await quotaState(down, config, { tenantId: tenant, userId: user.id });
    expect({ user: state.user.used, tenant: state.tenant.used }).toEqual({ user: 700, tenant: 700 });
  });
});
