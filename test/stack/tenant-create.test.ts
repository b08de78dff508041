// The operator's bootstrap (npm run tenant:create -- <id> [name] --owner <email>): the library functions the script
// runs, against the local stack's database.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createTenant, ensureOwner } from "../../scripts/lib/db.ts";

const url = inject("workerBindings").DATABASE_URL!;
const client = new pg.Client({ connectionString: url });
beforeAll(() => client.connect());
afterAll(() => client.end());

const userOf = async (tenant: string, email: string) =>
  (await client.query("select role, status from users where tenant_id = $1 and email = $2", [tenant, email])).rows[0];
const tenantId = () => `boot-${crypto.randomUUID().slice(0, 8)}`;

describe("tenant:create --owner", () => {
  it("creates the tenant and its owner, active, and records it in the audit log", async () => {
    const id = tenantId();
    expect(await createTenant(url, id, "Boot Inc")).toMatchObject({ id, name: "Boot Inc", created: true });
    const owner = await ensureOwner(url, id, " First@Boot.Example ");
    expect(owner).toMatchObject({ email: "first@boot.example", previousRole: null });
    expect(await userOf(id, "first@boot.example")).toEqual({ role: "owner", status: "active" });
    const { rows } = await client.query("select actor_user_id, action, target_id, details from audit_log where tenant_id = $1", [id]);
    expect(rows).toEqual([
      {
        actor_user_id: null,
        action: "user.make_owner",
        target_id: owner.id,
        details: { email: "first@boot.example", via: "npm run tenant:create", role: { from: null, to: "owner" } },
      },
    ]);
  });

  it("promotes an existing user of an existing tenant, re-enabling a disabled or invited one", async () => {
    const id = tenantId();
    await createTenant(url, id);
    expect((await createTenant(url, id, "Renamed?")).created).toBe(false);
    for (const status of ["active", "invited", "disabled"]) {
      const email = `${status}@boot.example`;
      await client.query("insert into users (tenant_id, email, role, status) values ($1, $2, 'member', $3)", [id, email, status]);
      const owner = await ensureOwner(url, id, email);
      expect(owner).toMatchObject({ previousRole: "member", previousStatus: status });
      expect(await userOf(id, email)).toEqual({ role: "owner", status: "active" });
    }
    // Running it again (npm run dev does, at every start) changes nothing and audits nothing.
    const audited = async () => (await client.query("select count(*)::int as n from audit_log where tenant_id = $1", [id])).rows[0].n;
    const before = await audited();
    await ensureOwner(url, id, "active@boot.example");
    expect((await client.query("select count(*)::int as n from users where tenant_id = $1", [id])).rows[0].n).toBe(3);
    expect(await audited()).toBe(before);
  });

  it("refuses an invalid email and an API key's identity, leaving nothing behind", async () => {
    const id = tenantId();
    await createTenant(url, id);
    await expect(ensureOwner(url, id, "not-an-email")).rejects.toThrow(/Invalid owner email/);
    await client.query("insert into users (tenant_id, email, kind) values ($1, 'key-1@api-keys.invalid', 'api_key')", [id]);
    await expect(ensureOwner(url, id, "key-1@api-keys.invalid")).rejects.toThrow(/API key/);
    expect(await userOf(id, "key-1@api-keys.invalid")).toEqual({ role: "member", status: "active" });
    expect((await client.query("select count(*)::int as n from audit_log where tenant_id = $1", [id])).rows[0].n).toBe(0);
  });
});
