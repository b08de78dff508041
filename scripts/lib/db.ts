// Database operations shared by the npm scripts, the local stack and the test setup. They speak plain
// Postgres (pg), so they work against Neon (DATABASE_URL with sslmode=require) and the local stack alike.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
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
