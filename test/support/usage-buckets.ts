// A test that writes or deletes usage_events rows by hand bypasses the running totals in Redis, as an operator
// editing the table would; like the operator, it then forgets the tenant's buckets, and the next quota check refills
// them from usage_events (src/usage/buckets.ts).
import { env } from "cloudflare:workers";
import { getConfig } from "../../src/config.ts";
import { servicesFor } from "../../src/services/index.ts";
import { windowKeysOf } from "../../src/usage/buckets.ts";

export const testRedis = () => servicesFor(getConfig(env as never)).redis;

/** The keys of the tenant's buckets in the current window, oldest first. */
export const windowKeys = (tenantId: string) => windowKeysOf(tenantId, Date.now());

export async function forgetUsageBuckets(tenantId: string): Promise<void> {
  await testRedis().del(...windowKeys(tenantId));
}
