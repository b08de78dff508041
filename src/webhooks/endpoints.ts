// Webhook endpoints and their delivery log. Every query is scoped to the caller's tenant: another tenant's endpoint
// does not exist.

import { and, desc, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { afterPosition } from "../db/keyset.ts";
import { type WebhookEvent, webhookDeliveries, webhookEndpoints } from "../db/schema.ts";
import type { Cursor } from "../lib/cursor.ts";

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

export const MAX_ENDPOINTS_PER_TENANT = 10;

export interface EndpointInput {
  url: string;
  events: WebhookEvent[];
  description: string;
  secret: string;
}

/**
 * Inserts the endpoint unless the tenant already has MAX_ENDPOINTS_PER_TENANT: null then. The count and the insert
 * run under a per-tenant lock in one transaction, so concurrent creations cannot pass the limit together.
 */
export async function insertEndpoint(db: Db, tenantId: string, input: EndpointInput): Promise<EndpointRow | null> {
  const sql = db.$client;
  const [, inserted] = await sql.transaction([
    sql.query("select pg_advisory_xact_lock(hashtext('webhook_endpoints:' || $1))", [tenantId]),
    sql.query(
      `insert into webhook_endpoints (tenant_id, url, events, description, secret)
       select $1, $2, $3, $4, $5 where (select count(*) from webhook_endpoints where tenant_id = $1) < $6
       returning id`,
      [tenantId, input.url, input.events, input.description, input.secret, MAX_ENDPOINTS_PER_TENANT],
    ),
  ]);
  const id = (inserted as Array<{ id: string }>)[0]?.id;
  return id ? findEndpoint(db, tenantId, id) : null;
}

const inTenant = (tenantId: string, id: string) => and(eq(webhookEndpoints.tenantId, tenantId), eq(webhookEndpoints.id, id));

export async function findEndpoint(db: Db, tenantId: string, id: string): Promise<EndpointRow | null> {
  const [row] = await db.select().from(webhookEndpoints).where(inTenant(tenantId, id));
  return row ?? null;
}

/** At most MAX_ENDPOINTS_PER_TENANT rows: no paging needed. Oldest first, as they were added. */
export function listEndpoints(db: Db, tenantId: string): Promise<EndpointRow[]> {
  return db.select().from(webhookEndpoints).where(eq(webhookEndpoints.tenantId, tenantId)).orderBy(webhookEndpoints.createdAt, webhookEndpoints.id);
}

export type EndpointChanges = Partial<Pick<EndpointRow, "url" | "events" | "description" | "enabled">>;

export async function updateEndpoint(db: Db, tenantId: string, id: string, changes: EndpointChanges): Promise<EndpointRow | null> {
  const [row] = await db
    .update(webhookEndpoints)
    .set({ ...changes, updatedAt: new Date() })
    .where(inTenant(tenantId, id))
    .returning();
  return row ?? null;
}

/** Its deliveries go with it (cascade): pending ones are then never sent. */
export async function deleteEndpoint(db: Db, tenantId: string, id: string): Promise<EndpointRow | null> {
  const [row] = await db.delete(webhookEndpoints).where(inTenant(tenantId, id)).returning();
  return row ?? null;
}

/** Newest first; the cursor is the (created_at, id) of the last row seen. */
export function listDeliveries(db: Db, tenantId: string, endpointId: string, limit: number, after?: Cursor): Promise<DeliveryRow[]> {
  const d = webhookDeliveries;
  return db
    .select()
    .from(d)
    .where(and(eq(d.tenantId, tenantId), eq(d.endpointId, endpointId), afterPosition(d.createdAt, d.id, after)))
    .orderBy(desc(d.createdAt), desc(d.id))
    .limit(limit);
}
