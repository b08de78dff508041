// Collections, the happy paths and their errors: admins create, rename and share them; members read them or add to
// them as their access says; uploads are deduplicated per collection; search and chat name the collection; and
// deleting one leaves no rows and no objects behind, even when retried after a crash or raced by uploads.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { call, expectErrorShape, fetchWithEnv, json, search, uniqueIp, upload, waitForIngestion } from "../support/api.ts";
import { ChatClient } from "../support/chat.ts";
import { type CollectionJson, createCollection, ingestInto, objectKeysUnder, share } from "../support/collections.ts";
import { count, sql } from "../support/db.ts";
import { createOrg, type LoggedIn } from "../support/org.ts";
import { makeTextPdf } from "../support/pdf-factory.ts";

let org: Awaited<ReturnType<typeof createOrg>>;
let admin: LoggedIn;
let member: LoggedIn;

beforeAll(async () => {
  org = await createOrg();
  admin = await org.user("admin");
  member = await org.user("member");
});

const get = (path: string, who: LoggedIn) => call(path, { tenant: org.tenant, token: who.token });
const send = (method: string, path: string, who: LoggedIn, body?: unknown) => call(path, { method, tenant: org.tenant, token: who.token, body });
const prefixOf = (collectionId: string) => `tenants/${org.tenant}/collections/${collectionId}/`;

async function auditEntries(action: string, targetId: string) {
  return (await sql().query("select details, actor_user_id from audit_log where tenant_id = $1 and action = $2 and target_id = $3 order by id", [
    org.tenant,
    action,
    targetId,
  ])) as Array<{ details: Record<string, any>; actor_user_id: string }>;
}

describe("creating, listing and changing collections", () => {
  it("an admin creates a collection that every user of the tenant reads, and the audit log says who", async () => {
    const created = await createCollection(org.tenant, admin.token, { name: "Staff handbook", description: "Policies", visibility: "tenant" });
    expect(created).toMatchObject({
      name: "Staff handbook",
      description: "Policies",
      visibility: "tenant",
      access: "write",
      document_count: 0,
      member_count: 0,
    });

    const listed = (await json(await get("/v1/collections?limit=100", member))).collections as CollectionJson[];
    expect(listed.find((c) => c.id === created.id)).toMatchObject({ name: "Staff handbook", access: "read" });
    expect(await json(await get(`/v1/collections/${created.id}`, member))).toMatchObject({ id: created.id, access: "read" });
    expect(await json(await get(`/v1/collections/${created.id}`, org.owner))).toMatchObject({ id: created.id, access: "write" });

    const [entry] = await auditEntries("collection.create", created.id);
    expect(entry).toMatchObject({ actor_user_id: admin.user.id, details: { name: "Staff handbook", visibility: "tenant" } });
  });

  it("names are unique within a tenant (409 collection_exists), on create and on rename, but not across tenants", async () => {
    await createCollection(org.tenant, admin.token, { name: "Contracts" });
    const again = await send("POST", "/v1/admin/collections", admin, { name: "Contracts", visibility: "tenant" });
    expect(again.status).toBe(409);
    expectErrorShape(await json(again), "collection_exists");

    const other = await createCollection(org.tenant, admin.token, { name: "Drafts" });
    const rename = await send("PATCH", `/v1/admin/collections/${other.id}`, admin, { name: "Contracts" });
    expect(rename.status).toBe(409);
    expectErrorShape(await json(rename), "collection_exists");

    const elsewhere = await createOrg();
    await createCollection(elsewhere.tenant, elsewhere.owner.token, { name: "Contracts" });
  });

  it("PATCH changes only the fields sent, and audits each change's from and to", async () => {
    const col = await createCollection(org.tenant, admin.token, { name: "Old name", description: "kept" });
    const res = await send("PATCH", `/v1/admin/collections/${col.id}`, admin, { name: "  New name  ", visibility: "members" });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ name: "New name", description: "kept", visibility: "members" });
    const [entry] = await auditEntries("collection.update", col.id);
    expect(entry!.details).toEqual({ name: { from: "Old name", to: "New name" }, visibility: { from: "tenant", to: "members" } });
  });

  it.each([
    ["no name", { visibility: "tenant" }, "name"],
    ["a blank name", { name: "   ", visibility: "tenant" }, "name"],
    ["a name of 101 characters", { name: "x".repeat(101), visibility: "tenant" }, "name"],
    ["a description of 1001 characters", { name: "ok", description: "x".repeat(1001), visibility: "tenant" }, "description"],
    ["no visibility", { name: "ok" }, "visibility"],
    ["an unknown visibility", { name: "ok", visibility: "public" }, "visibility"],
    ["an unknown field", { name: "ok", visibility: "tenant", owner: "me" }, "owner"],
  ])("creating with %s is a 400 naming the field", async (_label, body, field) => {
    const res = await send("POST", "/v1/admin/collections", admin, body);
    expect(res.status).toBe(400);
    const error = (await json(res)).error;
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain(field);
  });

  it("a name of exactly 100 characters is accepted", async () => {
    expect((await createCollection(org.tenant, admin.token, { name: "n".repeat(100) })).name).toHaveLength(100);
  });

  it("an empty PATCH is a 400, and a PATCH of an unknown collection a 404", async () => {
    const col = await createCollection(org.tenant, admin.token);
    const empty = await send("PATCH", `/v1/admin/collections/${col.id}`, admin, {});
    expect(empty.status).toBe(400);
    expect((await json(empty)).error.message).toContain("at least one of name, description, visibility");
    const unknown = await send("PATCH", `/v1/admin/collections/${crypto.randomUUID()}`, admin, { description: "x" });
    expect(unknown.status).toBe(404);
    expectErrorShape(await json(unknown), "collection_not_found");
  });

  it("lists page by page, newest first, without repeating or skipping", async () => {
    const fresh = await createOrg();
    const made: string[] = [];
    for (let i = 0; i < 3; i++) made.push((await createCollection(fresh.tenant, fresh.owner.token, { name: `c${i}` })).id);
    const first = await json(await call("/v1/collections?limit=2", { tenant: fresh.tenant, token: fresh.owner.token }));
    expect(first.collections.map((c: CollectionJson) => c.id)).toEqual([made[2], made[1]]);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await json(
      await call(`/v1/admin/collections?limit=2&cursor=${first.next_cursor}`, { tenant: fresh.tenant, token: fresh.owner.token }),
    );
    expect(second).toEqual({ collections: [expect.objectContaining({ id: made[0] })], next_cursor: null });
    for (const query of ["limit=0", "limit=101", "cursor=bogus"])
      expect((await call(`/v1/collections?${query}`, { tenant: fresh.tenant, token: fresh.owner.token })).status).toBe(400);
  });
});

describe("documents in a collection", () => {
  let col: CollectionJson;
  let doc: { id: string };
  const TEXT = "The Aurora handbook says the kestrel protocol starts at dawn on the northern pier.";

  beforeAll(async () => {
    col = await createCollection(org.tenant, admin.token, { name: "Aurora" });
    doc = await ingestInto(admin.token, org.tenant, col.id, TEXT, "aurora.pdf");
  });

  it("an upload with collection_id is stored under the collection's prefix and counted", async () => {
    expect(doc).toMatchObject({ collection_id: col.id, filename: "aurora.pdf" });
    const [row] = await sql().query("select r2_key, user_id from documents where id = $1", [doc.id]);
    expect(row).toEqual({ r2_key: `${prefixOf(col.id)}documents/${doc.id}.pdf`, user_id: admin.user.id });
    expect(await env.DOCUMENTS.head((row as { r2_key: string }).r2_key)).not.toBeNull();
    expect((await json(await get(`/v1/collections/${col.id}`, member))).document_count).toBe(1);
  });

  it("every user of the tenant reads it: file, pages, download, list, search naming the collection", async () => {
    expect((await json(await get(`/v1/files/${doc.id}`, member))).collection_id).toBe(col.id);
    expect((await json(await get(`/v1/files/${doc.id}/pages?from=1&to=1`, member))).pages[0].text).toContain("kestrel protocol");
    expect((await get(`/v1/files/${doc.id}/download`, member)).status).toBe(200);
    expect((await json(await get("/v1/files?limit=100", member))).files.map((f: { id: string }) => f.id)).toContain(doc.id);
    const [hit] = await search(member.token, { query: "kestrel protocol dawn" }, org.tenant);
    expect(hit).toMatchObject({ file_id: doc.id, collection: { id: col.id, name: "Aurora" } });
  });

  it("a chat answer cites the collection", async () => {
    const chat = await ChatClient.open({ token: member.token, tenant: org.tenant });
    try {
      chat.send({ type: "message", content: "When does the kestrel protocol start?", collection_ids: [col.id] });
      const answer = await chat.collect();
      expect(answer.error).toBeNull();
      expect(answer.citations!.length).toBeGreaterThan(0);
      for (const c of answer.citations!) expect(c).toMatchObject({ file_id: doc.id, collection: { id: col.id, name: "Aurora" } });
    } finally {
      chat.close();
    }
  });

  it("a reader may not add documents or delete them (403 forbidden); with write access they may", async () => {
    const writer = await org.user("member");
    const pdf = makeTextPdf([`Notes by the writer ${crypto.randomUUID()}`]);
    const refused = await upload(writer.token, pdf, "notes.pdf", { tenant: org.tenant, collectionId: col.id });
    expect(refused.status).toBe(403);
    expect((await json(refused)).error).toMatchObject({ code: "forbidden", message: expect.stringContaining("read this collection") });
    const del = await send("DELETE", `/v1/files/${doc.id}`, writer);
    expect(del.status).toBe(403);
    expectErrorShape(await json(del), "forbidden");

    expect(await share(org.tenant, admin.token, col.id, writer.user.id, "write")).toBe(201);
    const added = await upload(writer.token, pdf, "notes.pdf", { tenant: org.tenant, collectionId: col.id });
    expect(added.status).toBe(202);
    const id = (await json(added)).id;
    const [row] = (await sql().query("select r2_key from documents where id = $1", [id])) as Array<{ r2_key: string }>;
    expect((await send("DELETE", `/v1/files/${id}`, writer)).status).toBe(204);
    expect(await env.DOCUMENTS.head(row!.r2_key)).toBeNull();
    expect(await count("select 1 from documents where id = $1", [id])).toBe(0);
  });

  it("the same bytes are stored once per collection, and once more privately or in another collection", async () => {
    const pdf = makeTextPdf([`Dedup sample ${crypto.randomUUID()}`]);
    const first = await json(await upload(admin.token, pdf, "a.pdf", { tenant: org.tenant, collectionId: col.id }));
    const again = await upload(admin.token, pdf, "b.pdf", { tenant: org.tenant, collectionId: col.id });
    expect(again.status).toBe(200);
    expect((await json(again)).id).toBe(first.id);

    const privately = await upload(admin.token, pdf, "a.pdf", { tenant: org.tenant });
    expect(privately.status).toBe(202);
    expect(await json(privately)).toMatchObject({ collection_id: null, id: expect.not.stringMatching(first.id) });

    const other = await createCollection(org.tenant, admin.token);
    const elsewhere = await upload(admin.token, pdf, "a.pdf", { tenant: org.tenant, collectionId: other.id });
    expect(elsewhere.status).toBe(202);
    expect(await json(elsewhere)).toMatchObject({ collection_id: other.id, id: expect.not.stringMatching(first.id) });
  });

  it("search covers the caller's own documents and readable collections by default; collection_ids and file_ids narrow it", async () => {
    const word = `quokka${crypto.randomUUID().slice(0, 6)}`;
    const own = (await json(await upload(member.token, makeTextPdf([`My private ${word} notes`]), "mine.pdf", { tenant: org.tenant }))).id;
    expect((await waitForIngestion(member.token, own, { tenant: org.tenant })).doc.status).toBe("ready");
    const shared = await ingestInto(admin.token, org.tenant, col.id, `The shared ${word} register`, "register.pdf");

    // The vector ranking returns the nearest chunks whatever their words, so other readable documents rank too.
    const hits = (who: LoggedIn, body: Record<string, unknown> = {}) =>
      search(who.token, { query: `${word} notes register`, top_k: 50, ...body }, org.tenant);
    const ids = async (body: Record<string, unknown>) => new Set((await hits(member, body)).map((h) => h.file_id));
    expect([...(await ids({}))]).toEqual(expect.arrayContaining([own, shared.id]));
    for (const h of await hits(member, { collection_ids: [col.id] })) expect(h).toMatchObject({ collection: { id: col.id, name: "Aurora" } });
    expect([...(await ids({ collection_ids: [col.id] }))]).toContain(shared.id);
    expect(await ids({ file_ids: [own] })).toEqual(new Set([own]));
    expect(await ids({ file_ids: [own], collection_ids: [col.id] })).toEqual(new Set([own, ...(await ids({ collection_ids: [col.id] }))]));
    // Someone else's private document is never in anyone's default scope, nor reachable by naming it.
    expect((await hits(admin)).map((h) => h.file_id)).not.toContain(own);
    expect(await hits(admin, { file_ids: [own] })).toEqual([]);
  });

  it("collection_id must be a uuid (400) of a collection the caller can read (404 collection_not_found)", async () => {
    const pdf = makeTextPdf(["x"]);
    const bad = await upload(admin.token, pdf, "x.pdf", { tenant: org.tenant, collectionId: "not-a-uuid" });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error).toMatchObject({ code: "validation_failed", message: expect.stringContaining("collection_id") });
    const unknown = await upload(admin.token, pdf, "x.pdf", { tenant: org.tenant, collectionId: crypto.randomUUID() });
    expect(unknown.status).toBe(404);
    expectErrorShape(await json(unknown), "collection_not_found");
  });
});

describe("members", () => {
  it("PUT adds (201) or changes (200) a member, GET lists them, DELETE removes them; each is audited", async () => {
    const col = await createCollection(org.tenant, admin.token, { visibility: "members" });
    const path = `/v1/admin/collections/${col.id}/members/${member.user.id}`;
    const added = await send("PUT", path, admin, { access: "read" });
    expect(added.status).toBe(201);
    expect(await json(added)).toMatchObject({ user_id: member.user.id, email: member.email, role: "member", access: "read" });
    const changed = await send("PUT", path, admin, { access: "write" });
    expect(changed.status).toBe(200);
    expect((await json(changed)).access).toBe("write");

    const list = await json(await get(`/v1/admin/collections/${col.id}/members`, admin));
    expect(list).toEqual({ members: [expect.objectContaining({ user_id: member.user.id, access: "write" })], next_cursor: null });
    expect((await json(await get(`/v1/collections/${col.id}`, member))).access).toBe("write");

    expect((await send("DELETE", path, admin)).status).toBe(204);
    const again = await send("DELETE", path, admin);
    expect(again.status).toBe(404);
    expectErrorShape(await json(again), "member_not_found");
    expect((await get(`/v1/collections/${col.id}`, member)).status).toBe(404);

    const puts = await auditEntries("collection.member.put", col.id);
    expect(puts.map((e) => e.details.access)).toEqual([
      { from: null, to: "read" },
      { from: "read", to: "write" },
    ]);
    expect((await auditEntries("collection.member.delete", col.id))[0]!.details).toEqual({ user_id: member.user.id, access: "write" });
  });

  it("pages through members", async () => {
    const col = await createCollection(org.tenant, admin.token, { visibility: "members" });
    const people = [await org.user("member"), await org.user("member"), await org.user("admin")];
    for (const p of people) expect(await share(org.tenant, admin.token, col.id, p.user.id, "read")).toBe(201);
    const first = await json(await get(`/v1/admin/collections/${col.id}/members?limit=2`, admin));
    const second = await json(await get(`/v1/admin/collections/${col.id}/members?limit=2&cursor=${first.next_cursor}`, admin));
    expect(second.next_cursor).toBeNull();
    const seen = [...first.members, ...second.members].map((m: { user_id: string }) => m.user_id);
    expect(seen).toEqual(people.map((p) => p.user.id).reverse());
    expect((await json(await get(`/v1/collections/${col.id}`, admin))).member_count).toBe(3);
  });

  it("only a person of the tenant can be a member (404 user_not_found), with access read or write (400)", async () => {
    const col = await createCollection(org.tenant, admin.token);
    const put = (userId: string, body: unknown = { access: "read" }) => send("PUT", `/v1/admin/collections/${col.id}/members/${userId}`, admin, body);

    const stranger = await (await createOrg()).user("member");
    const [apiIdentity] = (await sql().query("insert into users (tenant_id, email, kind) values ($1, $2, 'api_key') returning id", [
      org.tenant,
      `key-${crypto.randomUUID()}@keys.invalid`,
    ])) as Array<{ id: string }>;
    for (const userId of [crypto.randomUUID(), stranger.user.id, apiIdentity!.id]) {
      const res = await put(userId);
      expect(res.status).toBe(404);
      expectErrorShape(await json(res), "user_not_found");
    }
    const badAccess = await put(member.user.id, { access: "admin" });
    expect(badAccess.status).toBe(400);
    expect((await json(badAccess)).error.message).toContain("access");
    expect((await send("PUT", `/v1/admin/collections/${col.id}/members/not-a-uuid`, admin, { access: "read" })).status).toBe(400);
    const noCollection = await send("PUT", `/v1/admin/collections/${crypto.randomUUID()}/members/${member.user.id}`, admin, { access: "read" });
    expect(noCollection.status).toBe(404);
    expectErrorShape(await json(noCollection), "collection_not_found");
  });
});

describe("deleting a collection", () => {
  const rowsLeft = async (collectionId: string, documentIds: string[]) => ({
    collections: await count("select 1 from collections where id = $1", [collectionId]),
    members: await count("select 1 from collection_members where collection_id = $1", [collectionId]),
    documents: await count("select 1 from documents where collection_id = $1 or id = any($2::uuid[])", [collectionId, documentIds]),
    chunks: await count("select 1 from chunks where document_id = any($1::uuid[])", [documentIds]),
    pages: await count("select 1 from document_pages where document_id = any($1::uuid[])", [documentIds]),
  });
  const none = { collections: 0, members: 0, documents: 0, chunks: 0, pages: 0 };

  it("deletes its documents, chunks, pages, members and stored PDFs, and audits how many documents went", async () => {
    const col = await createCollection(org.tenant, admin.token);
    const docs = [
      await ingestInto(admin.token, org.tenant, col.id, "First shared page."),
      await ingestInto(admin.token, org.tenant, col.id, "Second shared page."),
    ];
    await share(org.tenant, admin.token, col.id, member.user.id, "write");
    const ids = docs.map((d) => d.id);
    expect((await rowsLeft(col.id, ids)).chunks).toBeGreaterThan(0);
    expect(await objectKeysUnder(prefixOf(col.id))).toHaveLength(2);

    expect((await send("DELETE", `/v1/admin/collections/${col.id}`, admin)).status).toBe(204);
    expect(await rowsLeft(col.id, ids)).toEqual(none);
    expect(await objectKeysUnder(prefixOf(col.id))).toEqual([]);
    expect((await auditEntries("collection.delete", col.id))[0]!.details).toEqual({ name: col.name, documents: 2, objects: 2 });
    expect((await get(`/v1/collections/${col.id}`, member)).status).toBe(404);
    expect((await get(`/v1/files/${ids[0]}`, member)).status).toBe(404);

    const again = await send("DELETE", `/v1/admin/collections/${col.id}`, admin);
    expect(again.status).toBe(404);
    expectErrorShape(await json(again), "collection_not_found");
  });

  it("a DELETE that stopped after the rows went is finished by a retry: the PDFs are found by their prefix", async () => {
    const col = await createCollection(org.tenant, admin.token);
    await ingestInto(admin.token, org.tenant, col.id, "Survivor of a crash.");
    // What a Worker killed between the transaction and the R2 sweep leaves: no rows, the objects still there.
    await sql().query("delete from collections where tenant_id = $1 and id = $2", [org.tenant, col.id]);
    expect(await objectKeysUnder(prefixOf(col.id))).toHaveLength(1);

    expect((await send("DELETE", `/v1/admin/collections/${col.id}`, admin)).status).toBe(404);
    expect(await objectKeysUnder(prefixOf(col.id))).toEqual([]);
  });

  it("deletes more PDFs than one R2 delete call takes (1000 keys), in batches", async () => {
    const col = await createCollection(org.tenant, admin.token);
    const doc = await ingestInto(admin.token, org.tenant, col.id, "The one real document.");
    // 1,500 objects under the prefix, as 1,500 uploaded documents would leave: two delete calls.
    const keys = Array.from({ length: 1_500 }, (_, i) => `${prefixOf(col.id)}documents/${crypto.randomUUID()}-${i}.pdf`);
    for (let i = 0; i < keys.length; i += 100) await Promise.all(keys.slice(i, i + 100).map((k) => env.DOCUMENTS.put(k, "%PDF-1.4")));

    const started = performance.now();
    expect((await send("DELETE", `/v1/admin/collections/${col.id}`, admin)).status).toBe(204);
    const ms = performance.now() - started;
    console.log(`collection delete of ${keys.length + 1} objects took ${Math.round(ms)} ms`);
    expect(await objectKeysUnder(prefixOf(col.id))).toEqual([]);
    expect((await auditEntries("collection.delete", col.id))[0]!.details).toMatchObject({ documents: 1, objects: keys.length + 1 });
    expect(await rowsLeft(col.id, [doc.id])).toEqual(none);
  });

  it("an upload whose collection is deleted while its PDF is being stored deletes the PDF and answers 404", async () => {
    const col = await createCollection(org.tenant, admin.token);
    // The real bucket, except that the collection goes (as a concurrent DELETE would) while the object is written.
    const bucket = env.DOCUMENTS;
    const deletingBucket = {
      put: async (...args: Parameters<R2Bucket["put"]>) => {
        await sql().query("delete from collections where tenant_id = $1 and id = $2", [org.tenant, col.id]);
        return bucket.put(...args);
      },
      delete: (keys: string | string[]) => bucket.delete(keys),
    };
    const form = new FormData();
    form.append("file", new File([makeTextPdf(["Too late for the collection."])], "late.pdf", { type: "application/pdf" }));
    form.append("collection_id", col.id);
    const res = await fetchWithEnv(
      "/v1/files",
      { DOCUMENTS: deletingBucket },
      { method: "POST", headers: { "X-Tenant-ID": org.tenant, Authorization: `Bearer ${admin.token}`, "CF-Connecting-IP": uniqueIp() }, body: form },
    );
    expect(res.status).toBe(404);
    expectErrorShape(await json(res), "collection_not_found");
    expect(await objectKeysUnder(prefixOf(col.id))).toEqual([]);
  });

  it("uploads racing the DELETE leave neither a row nor a PDF behind", async () => {
    const col = await createCollection(org.tenant, admin.token);
    await ingestInto(admin.token, org.tenant, col.id, "Already there before the race.");
    // Uploads started 10 ms apart, the DELETE among them: some land before it, some run into it, some come after.
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const uploads = Array.from({ length: 12 }, async (_, i) => {
      await pause(i * 10);
      return upload(admin.token, makeTextPdf([`Racing upload ${i} ${crypto.randomUUID()}`]), `race-${i}.pdf`, {
        tenant: org.tenant,
        collectionId: col.id,
      });
    });
    const deleted = pause(50).then(() => send("DELETE", `/v1/admin/collections/${col.id}`, admin));
    const statuses = await Promise.all(uploads.map(async (u) => (await u).status));
    expect((await deleted).status).toBe(204);
    for (const s of statuses) expect([202, 404]).toContain(s);
    console.log(`uploads racing a collection delete answered ${statuses.join(", ")}`);

    expect(await count("select 1 from documents where tenant_id = $1 and collection_id = $2", [org.tenant, col.id])).toBe(0);
    expect(await objectKeysUnder(prefixOf(col.id))).toEqual([]);
  });
});
