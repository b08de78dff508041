// Token usage events, per tenant, user and model; the source of usage reports and quotas.
import type { Db } from "../db/client.ts";
import { usageEvents } from "../db/schema.ts";

export type UsageEvent = typeof usageEvents.$inferInsert;

export function usageInsert(db: Db, event: UsageEvent) {
  return db.insert(usageEvents).values(event);
}
