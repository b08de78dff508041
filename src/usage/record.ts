// Token usage events, per tenant, user and model; the source of usage reports and quotas.
import type { Db } from "../db/client.ts";
import { usageEvents } from "../db/schema.ts";
import type { Statement } from "../search/hybrid.ts";

export type UsageEvent = typeof usageEvents.$inferInsert;

export function usageInsert(db: Db, event: UsageEvent) {
  return db.insert(usageEvents).values(event);
}

/** The same insert as a statement of the HTTP driver, to run in a transaction with others (`sql.transaction`). */
export function usageStatement(db: Db, event: UsageEvent): Statement {
  const { sql, params } = usageInsert(db, event).toSQL();
  return db.$client.query(sql, params);
}
