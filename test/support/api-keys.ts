// API keys for the tests: created through the admin API as an admin would.
import { expect } from "vitest";
import { call, json } from "./api.ts";
import { sql } from "./db.ts";

export interface CreatedKey {
  id: string;
  key: string;
  prefix: string;
  name: string;
  scope: "read" | "write";
  collection_ids: string[] | null;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  created_at: string;
  created_by: string | null;
}

/** POST /v1/admin/api-keys as `adminToken`; fails unless 201. */
export async function createKey(tenant: string, adminToken: string, body: Record<string, unknown> = {}): Promise<CreatedKey> {
  const res = await call("/v1/admin/api-keys", { tenant, token: adminToken, body: { name: "test key", scope: "write", ...body } });
  expect(res.status, await res.clone().text()).toBe(201);
  return json<CreatedKey>(res);
}

/** DELETE /v1/admin/api-keys/{id}; returns the status. */
export async function revokeKey(tenant: string, adminToken: string, id: string): Promise<number> {
  return (await call(`/v1/admin/api-keys/${id}`, { method: "DELETE", tenant, token: adminToken })).status;
}

/** A collection of the tenant, written as an admin's POST /v1/admin/collections would (that route is not the point here). */
export async function insertCollection(tenant: string, name = `collection ${crypto.randomUUID().slice(0, 8)}`): Promise<string> {
  const [row] = await sql().query("insert into collections (tenant_id, name) values ($1, $2) returning id", [tenant, name]);
  return (row as { id: string }).id;
}
