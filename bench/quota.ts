// npm run bench:quota — whether a quota check grows with the tenant's usage history. A small user with one small
// document measures POST /v1/search (QUOTA_BENCH_SEARCHES sequential, default 100) against an empty usage_events,
// then after 500,000 usage events of the same tenant over the last 24 hours (QUOTA_BENCH_EVENTS), seeded with one
// INSERT ... SELECT generate_series; the Redis buckets are flushed once so that the first check reconciles them.
// Also the check alone, through the Neon stand-in and the Upstash stand-in as the Worker reaches them: the old SQL
// sum over usage_events beside the bucket read (src/usage/quota.ts tokensInWindow), and the one-off reconciliation.
// A control tenant without usage is searched in turn with the measured one, so the machine's own noise shows apart.
// Table on stderr, JSON on stdout.
import { Redis } from "@upstash/redis";
import type { Redis as WorkerRedis } from "@upstash/redis/cloudflare";
import pg from "pg";
import { createTenant } from "../scripts/lib/db.ts";
import type { Config } from "../src/config.ts";
import { createDb } from "../src/db/client.ts";
import { USAGE_BY_HOUR, windowKeysOf } from "../src/usage/buckets.ts";
import { tokensInWindow } from "../src/usage/quota.ts";
import { loginAs, median, percentile, round, uploadReady, withLocalApi } from "./lib.ts";

const SEARCHES = Number(process.env.QUOTA_BENCH_SEARCHES ?? 100);
const EVENTS = Number(process.env.QUOTA_BENCH_EVENTS ?? 500_000);
const CHECKS = 30;
const TENANT = "bench-quota";
const CONTROL_TENANT = "bench-quota-control";

/** The check as it was before the buckets: the tenant's whole window summed on every request. */
const OLD_SUM = `select coalesce(sum(prompt_tokens + completion_tokens + embedding_tokens) filter (where user_id = $2), 0)::int as user_tokens,
            coalesce(sum(prompt_tokens + completion_tokens + embedding_tokens), 0)::int as tenant_tokens
     from usage_events where tenant_id = $1 and created_at > now() - interval '24 hours'`;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

function summary(ms: number[]) {
  const sorted = [...ms].sort((a, b) => a - b);
  return { p50: round(median(sorted), 1), p95: round(percentile(sorted, 95), 1) };
}

async function series(n: number, fn: () => Promise<unknown>) {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) ms.push(await timed(fn));
  return summary(ms);
}

const result = await withLocalApi(
  async (api) => {
    const { bindings } = api.stack;
    /** A user of `tenant` with one small document, and their search. */
    const member = async (tenant: string) => {
      await createTenant(api.stack.postgresUrl, tenant);
      const token = await loginAs(api.url, "quota-bench@example.com", tenant);
      const headers = { "X-Tenant-ID": tenant, Authorization: `Bearer ${token}` };
      const me = (await (await fetch(`${api.url}/v1/me`, { headers })).json()) as { id: string };
      await uploadReady(api.url, headers, "en-1.chromium.pdf");
      const search = async () => {
        const res = await fetch(`${api.url}/v1/search`, {
          method: "POST",
          headers: { ...headers, "Content-Type": "application/json" },
          body: JSON.stringify({ query: "How is the document structured?" }),
        });
        if (res.status !== 200) throw new Error(`search answered ${res.status}: ${await res.text()}`);
        await res.arrayBuffer();
      };
      return { owner: { tenantId: tenant, userId: me.id }, search };
    };
    const { owner, search } = await member(TENANT);
    // A tenant without usage, searched in turn with the measured one: the machine's noise (other work on it, the
    // database's growth) shows in both, the quota check's growth in the measured one only.
    const control = await member(CONTROL_TENANT);

    // The Worker's own clients, from Node: the check alone as the Worker makes it.
    const db = createDb({ DATABASE_URL: bindings.DATABASE_URL, NEON_LOCAL_PROXY: bindings.NEON_LOCAL_PROXY, DB_TIMEOUT_MS: 60_000 } as Config);
    const redis = new Redis({ url: bindings.UPSTASH_REDIS_REST_URL!, token: bindings.UPSTASH_REDIS_REST_TOKEN! }) as unknown as WorkerRedis;
    const stores = { db, redis };
    const measure = async () => {
      for (let i = 0; i < 5; i++) await Promise.all([search(), control.search()]); // warm-up
      const measured: number[] = [];
      const other: number[] = [];
      for (let i = 0; i < SEARCHES; i++) {
        measured.push(await timed(search));
        other.push(await timed(control.search));
      }
      return {
        search_ms: summary(measured),
        control_search_ms: summary(other),
        old_sql_sum_ms: await series(CHECKS, () => db.$client.query(OLD_SUM, [owner.tenantId, owner.userId])),
        bucket_check_ms: await series(CHECKS, () => tokensInWindow(stores, owner, Date.now())),
      };
    };

    const empty = await measure();

    const pgClient = new pg.Client({ connectionString: api.stack.postgresUrl });
    await pgClient.connect();
    const seedMs = await timed(() =>
      // Mostly the tenant's 50 other members, a tenth of them the measured user's, spread evenly over 24 hours.
      pgClient.query(
        `insert into usage_events (tenant_id, user_id, kind, model, prompt_tokens, completion_tokens, created_at)
         select $1, case when i % 10 = 0 then $2::uuid else md5((i % 50)::text)::uuid end, 'chat', 'gpt-4o-mini', 10, 2,
                now() - (i * interval '24 hours' / $3::int)
         from generate_series(1, $3::int) i`,
        [TENANT, owner.userId, EVENTS],
      ),
    );
    await pgClient.query("analyze usage_events");
    // The reconciliation of one hour (a new hour's bucket), as the planner runs it.
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const { rows: plan } = await pgClient.query(`explain ${USAGE_BY_HOUR}`, [
      TENANT,
      new Date(hour).toISOString(),
      new Date(hour + 3_600_000).toISOString(),
    ]);
    const planText = plan.map((r: { "QUERY PLAN": string }) => r["QUERY PLAN"]);
    await pgClient.end();

    await redis.del(...windowKeysOf(TENANT, Date.now()));
    const reconcileMs = await timed(() => tokensInWindow(stores, owner, Date.now()));
    const seeded = await measure();
    return { empty, seeded, seedMs, reconcileMs, planText };
  },
  { DAILY_TOKEN_BUDGET_PER_USER: "0", DAILY_TOKEN_BUDGET_PER_TENANT: "0" },
);

const rows = [
  ["POST /v1/search p50 / p95 (ms)", result.empty.search_ms, result.seeded.search_ms],
  ["  control: a tenant without usage", result.empty.control_search_ms, result.seeded.control_search_ms],
  ["old check: SQL sum p50 / p95 (ms)", result.empty.old_sql_sum_ms, result.seeded.old_sql_sum_ms],
  ["new check: bucket read p50 / p95 (ms)", result.empty.bucket_check_ms, result.seeded.bucket_check_ms],
] as const;
console.error(`\n${"".padEnd(40)}${"empty usage_events".padEnd(22)}${`${EVENTS.toLocaleString("en")} events`}`);
for (const [label, a, b] of rows) console.error(`${label.padEnd(40)}${`${a.p50} / ${a.p95}`.padEnd(22)}${b.p50} / ${b.p95}`);
console.error(`one-off reconciliation of 25 hours after a flush: ${round(result.reconcileMs, 1)} ms; seeding: ${round(result.seedMs / 1000, 1)} s`);
console.error(`plan of one hour's reconciliation:\n  ${result.planText.join("\n  ")}`);
console.log(
  JSON.stringify({
    searches: SEARCHES,
    events: EVENTS,
    empty: result.empty,
    seeded: result.seeded,
    search_p50_ratio: round(result.seeded.search_ms.p50 / result.empty.search_ms.p50, 2),
    control_search_p50_ratio: round(result.seeded.control_search_ms.p50 / result.empty.control_search_ms.p50, 2),
    reconcile_ms: round(result.reconcileMs, 1),
    seed_s: round(result.seedMs / 1000, 1),
    reconcile_hour_plan: result.planText,
  }),
);
