// Organisations for the tests: a fresh tenant per test file (or test), its owner, and users of any role, all
// logged in through the real API. Rows are written straight to the database only where an operator would
// (tenant:create) or where the API under test is not the point.
import { login, uniqueEmail } from "./api.ts";
import { sql } from "./db.ts";

export type Role = "owner" | "admin" | "member";
export type LoggedIn = Awaited<ReturnType<typeof login>>;

/** Adds an active user with `role` to the tenant (as an admin's invite would) and logs them in. */
export async function userOf(tenant: string, role: Role = "member", email = uniqueEmail(role)): Promise<LoggedIn> {
  await sql().query("insert into users (tenant_id, email, role, status) values ($1, $2, $3, 'active')", [tenant, email, role]);
  return login(email, tenant);
}

/** A new active tenant with `settings` (stored as they are) and its owner, logged in. */
export async function createOrg(settings: Record<string, unknown> = {}) {
  const tenant = `org-${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
  await sql().query("insert into tenants (id, name, settings) values ($1, $2, $3::jsonb)", [tenant, `Org ${tenant}`, JSON.stringify(settings)]);
  const owner = await userOf(tenant, "owner");
  return { tenant, owner, user: (role: Role = "member", email?: string) => userOf(tenant, role, email) };
}
