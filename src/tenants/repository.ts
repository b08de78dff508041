// Reads and changes of a tenant's row by its admins. Every change is one statement that merges into the stored
// settings, so two admins changing different keys at once both land.
import type { Db } from "../db/client.ts";
import type { StoredTenantSettings } from "./settings-schema.ts";

export interface TenantState {
  name: string;
  settings: StoredTenantSettings;
}

/** The tenant's name and stored settings as the database has them now (not through the tenant cache). */
export async function readTenantState(db: Db, id: string): Promise<TenantState | null> {
  const [row] = await db.$client.query("select name, settings from tenants where id = $1", [id]);
  return (row as TenantState | undefined) ?? null;
}

export interface SettingsChange {
  name?: string;
  /** Keys to store. */
  set: StoredTenantSettings;
  /** Keys to remove, so they take the deployment's default again. */
  reset: string[];
}

/** Applies the change atomically; answers the row as it was just before and just after. */
export async function changeTenantSettings(db: Db, id: string, change: SettingsChange): Promise<{ before: TenantState; after: TenantState } | null> {
  // The sub-select locks the row, so `before` is exactly the state this update replaced.
  const [row] = await db.$client.query(
    `update tenants t set name = coalesce($2, t.name), settings = (t.settings || $3::jsonb) - $4::text[]
     from (select name, settings from tenants where id = $1 for update) old
     where t.id = $1
     returning old.name as old_name, old.settings as old_settings, t.name, t.settings`,
    [id, change.name ?? null, JSON.stringify(change.set), change.reset],
  );
  if (!row) return null;
  const r = row as { old_name: string; old_settings: StoredTenantSettings; name: string; settings: StoredTenantSettings };
  return { before: { name: r.old_name, settings: r.old_settings }, after: { name: r.name, settings: r.settings } };
}
