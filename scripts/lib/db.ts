// Database operations shared by the npm scripts, the local stack and the test setup. They speak plain
// Postgres (pg), so they work against Neon (DATABASE_URL with sslmode=require) and the local stack alike.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import { z } from "zod";
import { normalizeEmail } from "../../src/lib/email.ts";
import { TENANT_ID_PATTERN } from "../../src/lib/tenant-id.ts";

export const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const STACK_STATE_FILE = `${PROJECT_ROOT}.docuchat/stack.json`;
const MIGRATIONS_FOLDER = `${PROJECT_ROOT}migrations`;

/** DATABASE_URL if set, else the running local stack's database; otherwise a message saying what to do. */
export function resolveDatabaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DATABASE_URL) return env.DATABASE_URL;
  if (existsSync(STACK_STATE_FILE)) return (JSON.parse(readFileSync(STACK_STATE_FILE, "utf8")) as { postgresUrl: string }).postgresUrl;
  throw new Error("No database: set DATABASE_URL, or start the local stack with `npm run dev` in another terminal.");
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export function migrateDatabase(url: string): Promise<void> {
  return withClient(url, (client) => migrate(drizzle(client), { migrationsFolder: MIGRATIONS_FOLDER }));
}

export interface TenantRow {
  id: string;
  name: string;
  status: string;
  created: boolean;
}

/** Creates the tenant, or leaves an existing one as it is and reports created: false. */
export function createTenant(url: string, id: string, name = id, status: "active" | "disabled" = "active"): Promise<TenantRow> {
  if (!TENANT_ID_PATTERN.test(id)) throw new Error(`Invalid tenant id '${id}': use 1-63 lowercase letters, digits, '-' or '_'.`);
  return withClient(url, async (client) => {
    const inserted = await client.query<TenantRow>(
      "insert into tenants (id, name, status) values ($1, $2, $3) on conflict (id) do nothing returning id, name, status",
      [id, name, status],
    );
    if (inserted.rows[0]) return { ...inserted.rows[0], created: true };
    const existing = await client.query<TenantRow>("select id, name, status from tenants where id = $1", [id]);
    return { ...existing.rows[0]!, created: false };
  });
}

export interface OwnerRow {
  id: string;
  email: string;
  /** The user's role before: null when the user was created now. */
  previousRole: string | null;
  previousStatus: string | null;
}

/**
 * Makes `email` an active owner of the tenant: creates the user, or promotes (and re-enables) an existing one. An
 * operator's action, so a change is written to the tenant's audit log with no actor.
 */
export async function ensureOwner(url: string, tenantId: string, rawEmail: string): Promise<OwnerRow> {
  const email = normalizeEmail(rawEmail);
  // The same rule as the login routes' bodies.
  if (!z.email().max(254).safeParse(email).success) throw new Error(`Invalid owner email '${rawEmail}'.`);
  return withClient(url, async (client) => {
    await client.query("begin");
    try {
      const before = await client.query<{ role: string; status: string; kind: string }>(
        "select role, status, kind from users where tenant_id = $1 and email = $2 for update",
        [tenantId, email],
      );
      const previous = before.rows[0];
      if (previous?.kind === "api_key") throw new Error(`'${email}' is an API key's identity, not a person.`);
      const upserted = await client.query<{ id: string }>(
        `insert into users (tenant_id, email, role, status) values ($1, $2, 'owner', 'active')
         on conflict (tenant_id, email) do update set role = 'owner', status = 'active'
         returning id`,
        [tenantId, email],
      );
      const id = upserted.rows[0]!.id;
      // Running it again for an active owner changes nothing, so it is not an action to audit.
      if (previous?.role !== "owner" || previous.status !== "active")
        await client.query(
          `insert into audit_log (tenant_id, action, target_type, target_id, details) values ($1, 'user.make_owner', 'user', $2, $3::jsonb)`,
          [tenantId, id, JSON.stringify({ email, via: "npm run tenant:create", role: { from: previous?.role ?? null, to: "owner" } })],
        );
      await client.query("commit");
      return { id, email, previousRole: previous?.role ?? null, previousStatus: previous?.status ?? null };
    } catch (err) {
      await client.query("rollback");
      throw err;
    }
  });
}
