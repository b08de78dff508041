// API keys, the happy paths and bad input: an admin creates a key, and a backend uploads, lists, searches, chats
// and reads its usage with it, as its own identity; keys are listed (paged) and revoked.
import { beforeAll, describe, expect, it } from "vitest";
import { call, json, search, upload, waitForIngestion } from "../support/api.ts";
import { type CreatedKey, createKey, insertCollection, revokeKey } from "../support/api-keys.ts";
import { ChatClient, eventually, usageReport } from "../support/chat.ts";
import { sql } from "../support/db.ts";
import { createOrg, type LoggedIn } from "../support/org.ts";
import { makeTextPdf } from "../support/pdf-factory.ts";

const FACT = "The Ballymore turbine overhaul is scheduled for the second week of March.";
const COLLECTION_FACT = "Harbour crane seven was certified by the Lisbon inspectorate in 2019.";

let tenant: string;
let owner: LoggedIn;
let key: CreatedKey;
let docId: string;

beforeAll(async () => {
  ({ tenant, owner } = await createOrg());
  key = await createKey(tenant, owner.token, { name: "ingestion backend", scope: "write" });
  const res = await upload(key.key, makeTextPdf([FACT]), "turbines.pdf", { tenant });
  expect(res.status).toBe(202);
  docId = (await json(res)).id;
  expect((await waitForIngestion(key.key, docId, { tenant })).doc.status).toBe("ready");
});

describe("creating a key", () => {
  it("answers the secret once, with its public fields", async () => {
    expect(key).toMatchObject({
      name: "ingestion backend",
      scope: "write",
      collection_ids: null,
      expires_at: null,
      revoked_at: null,
      created_by: owner.user.id,
    });
    expect(key.key).toMatch(/^dc_live_[0-9A-Za-z]{43}$/);
    expect(key.key.startsWith(key.prefix)).toBe(true);
    expect(key.prefix).toMatch(/^dc_live_[0-9A-Za-z]{8}$/);
  });

  it("takes a restriction to collections and an expiry", async () => {
    const collection = await insertCollection(tenant);
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const restricted = await createKey(tenant, owner.token, {
      name: "reader",
      scope: "read",
      collection_ids: [collection, collection],
      expires_at: expiresAt,
    });
    expect(restricted).toMatchObject({ scope: "read", collection_ids: [collection], expires_at: expiresAt });
  });

  it("writes api_key.create to the audit log, without the secret", async () => {
    const rows = await sql().query("select * from audit_log where tenant_id = $1 and action = 'api_key.create' and target_id = $2", [tenant, key.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor_user_id: owner.user.id,
      target_type: "api_key",
      details: { name: "ingestion backend", prefix: key.prefix },
    });
    expect(JSON.stringify(rows[0])).not.toContain(key.key.slice(key.prefix.length));
  });

  it.each([
    ["name", { name: "" }],
    ["name", { name: "x".repeat(101) }],
    ["scope", { scope: "admin" }],
    ["collection_ids", { collection_ids: [] }],
    ["collection_ids", { collection_ids: ["not-a-uuid"] }],
    ["collection_ids", { collection_ids: Array.from({ length: 101 }, () => crypto.randomUUID()) }],
    ["expires_at", { expires_at: "tomorrow" }],
    ["expires_at", { expires_at: new Date(Date.now() - 1000).toISOString() }],
    ["expires_at", { expires_at: new Date(Date.now() + 2 * 366 * 86_400_000).toISOString() }],
  ])("refuses a bad %s with 400 validation_failed naming it", async (field, body) => {
    const res = await call("/v1/admin/api-keys", { tenant, token: owner.token, body: { name: "k", scope: "read", ...body } });
    expect(res.status).toBe(400);
    const { error } = await json(res);
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain(field);
  });

  it("refuses collections that are not the tenant's with 404 collection_not_found", async () => {
    const other = await createOrg();
    const theirs = await insertCollection(other.tenant);
    for (const ids of [[theirs], [await insertCollection(tenant), crypto.randomUUID()]]) {
      const res = await call("/v1/admin/api-keys", { tenant, token: owner.token, body: { name: "k", scope: "read", collection_ids: ids } });
      expect(res.status).toBe(404);
      expect((await json(res)).error.code).toBe("collection_not_found");
    }
  });
});

describe("using a key", () => {
  it("lists and gets its own document", async () => {
    const files = (await json(await call("/v1/files", { tenant, token: key.key }))).files;
    expect(files.map((f: { id: string }) => f.id)).toEqual([docId]);
    expect((await call(`/v1/files/${docId}`, { tenant, token: key.key })).status).toBe(200);
  });

  it("acts as its own identity: its documents are not its creator's", async () => {
    expect((await json(await call("/v1/files", { tenant, token: owner.token }))).files).toEqual([]);
    const [row] = await sql().query("select u.kind, u.role, u.status from documents d join users u on u.id = d.user_id where d.id = $1", [docId]);
    expect(row).toEqual({ kind: "api_key", role: "member", status: "active" });
  });

  it("searches", async () => {
    const hits = await search(key.key, { query: "Ballymore turbine overhaul" }, tenant);
    expect(hits[0]?.file_id).toBe(docId);
  });

  it("chats over the WebSocket with the key in ?token=", async () => {
    const chat = await ChatClient.open({ token: key.key, tenant });
    try {
      const answer = await chat.ask("When is the Ballymore turbine overhaul scheduled?");
      expect(answer.error).toBeNull();
      expect(answer.citations?.[0]?.file_id).toBe(docId);
    } finally {
      chat.close();
    }
  });

  it("reads its own usage, not its creator's", async () => {
    expect((await usageReport(key.key, tenant)).last_24h.total_tokens).toBeGreaterThan(0);
    expect((await usageReport(owner.token, tenant)).last_24h.total_tokens).toBe(0);
  });

  it("uploads into a collection, where members of the tenant read it", async () => {
    const collection = await insertCollection(tenant);
    const res = await upload(key.key, makeTextPdf([COLLECTION_FACT]), "cranes.pdf", { tenant: tenant, collectionId: collection });
    expect(res.status, await res.clone().text()).toBe(202);
    const doc = await json(res);
    expect(doc.collection_id).toBe(collection);
    expect((await waitForIngestion(key.key, doc.id, { tenant })).doc.status).toBe("ready");
    expect((await call(`/v1/files/${doc.id}`, { tenant, token: owner.token })).status).toBe(200);
  });

  it("records last_used_at, at most once a minute", async () => {
    const lastUsed = async () =>
      (await json(await call("/v1/admin/api-keys?limit=100", { tenant, token: owner.token }))).api_keys.find((k: CreatedKey) => k.id === key.id)
        ?.last_used_at ?? undefined;
    const used = await eventually(lastUsed);
    expect(Date.parse(used)).toBeGreaterThanOrEqual(Date.parse(key.created_at));
    expect((await call("/v1/files", { tenant, token: key.key })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(await lastUsed()).toBe(used);
  });
});

describe("listing keys", () => {
  let org: Awaited<ReturnType<typeof createOrg>>;
  let made: CreatedKey[];
  beforeAll(async () => {
    org = await createOrg();
    made = [];
    for (const name of ["one", "two", "three"]) made.push(await createKey(org.tenant, org.owner.token, { name, scope: "read" }));
  });

  it("pages newest first, never with the secret or its hash", async () => {
    const first = await json(await call("/v1/admin/api-keys?limit=2", { tenant: org.tenant, token: org.owner.token }));
    expect(first.api_keys.map((k: CreatedKey) => k.name)).toEqual(["three", "two"]);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await json(await call(`/v1/admin/api-keys?limit=2&cursor=${first.next_cursor}`, { tenant: org.tenant, token: org.owner.token }));
    expect(second).toEqual({ api_keys: [expect.objectContaining({ id: made[0]!.id, name: "one" })], next_cursor: null });
    const listed = JSON.stringify([first, second]);
    for (const k of made) expect(listed).not.toContain(k.key.slice(k.prefix.length));
    expect(listed).not.toContain("hash");
    expect(Object.keys(second.api_keys[0]).sort()).toEqual(
      ["collection_ids", "created_at", "created_by", "expires_at", "id", "last_used_at", "name", "prefix", "revoked_at", "scope"].sort(),
    );
  });

  it.each(["0", "101", "x"])("refuses limit=%s with 400 validation_failed", async (limit) => {
    const res = await call(`/v1/admin/api-keys?limit=${limit}`, { tenant: org.tenant, token: org.owner.token });
    expect(res.status).toBe(400);
    expect((await json(res)).error.code).toBe("validation_failed");
  });

  it("refuses a cursor it did not issue with 400 invalid_cursor", async () => {
    const res = await call("/v1/admin/api-keys?cursor=bogus", { tenant: org.tenant, token: org.owner.token });
    expect(res.status).toBe(400);
    expect((await json(res)).error.code).toBe("invalid_cursor");
  });
});

describe("revoking a key", () => {
  it("answers 204, and 204 again without a second audit entry; the list shows revoked_at", async () => {
    const k = await createKey(tenant, owner.token, { name: "short-lived", scope: "read" });
    expect(await revokeKey(tenant, owner.token, k.id)).toBe(204);
    const revokedAt = async () => (await sql().query("select revoked_at from api_keys where id = $1", [k.id]))[0]?.revoked_at;
    const first = await revokedAt();
    expect(first).toBeTruthy();
    expect(await revokeKey(tenant, owner.token, k.id)).toBe(204);
    expect(await revokedAt()).toEqual(first);
    const audits = await sql().query("select details from audit_log where tenant_id = $1 and action = 'api_key.revoke' and target_id = $2", [
      tenant,
      k.id,
    ]);
    expect(audits).toEqual([{ details: { name: "short-lived", prefix: k.prefix } }]);
    const listed = (await json(await call("/v1/admin/api-keys?limit=100", { tenant, token: owner.token }))).api_keys.find(
      (x: CreatedKey) => x.id === k.id,
    );
    expect(listed.revoked_at).toEqual(expect.any(String));
  });

  it("answers 404 api_key_not_found for an unknown id, and 400 for a malformed one", async () => {
    const res = await call(`/v1/admin/api-keys/${crypto.randomUUID()}`, { method: "DELETE", tenant, token: owner.token });
    expect(res.status).toBe(404);
    expect((await json(res)).error.code).toBe("api_key_not_found");
    expect((await call("/v1/admin/api-keys/nope", { method: "DELETE", tenant, token: owner.token })).status).toBe(400);
  });
});
