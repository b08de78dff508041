// Collections isolation: a members-only collection does not exist (404) for a member not listed in it, nor any
// collection for another tenant; readers cannot change documents (403); every admin route refuses members and API
// keys (403) and serves owners and admins; an API key restricted to collections uploads only into them.
import { beforeAll, describe, expect, it } from "vitest";
import { call, expectErrorShape, json, search, upload } from "../support/api.ts";
import { createKey } from "../support/api-keys.ts";
import { type CollectionJson, createCollection, ingestInto, share } from "../support/collections.ts";
import { createOrg, type LoggedIn } from "../support/org.ts";
import { makeTextPdf } from "../support/pdf-factory.ts";

const SECRET = "The Obsidian merger closes on the fourteenth of March.";

let org: Awaited<ReturnType<typeof createOrg>>;
let admin: LoggedIn;
let outsider: LoggedIn;
let reader: LoggedIn;
let writer: LoggedIn;
let secret: CollectionJson;
let doc: { id: string };

beforeAll(async () => {
  org = await createOrg();
  [admin, outsider, reader, writer] = [await org.user("admin"), await org.user("member"), await org.user("member"), await org.user("member")];
  secret = await createCollection(org.tenant, admin.token, { name: "Board only", visibility: "members" });
  expect(await share(org.tenant, admin.token, secret.id, reader.user.id, "read")).toBe(201);
  expect(await share(org.tenant, admin.token, secret.id, writer.user.id, "write")).toBe(201);
  doc = await ingestInto(admin.token, org.tenant, secret.id, SECRET, "merger.pdf");
});

/** Every way to reach a document or collection, and the answer an outsider must get for it. */
function reaches(collectionId: string, documentId: string) {
  return [
    ["GET", `/v1/collections/${collectionId}`, "collection_not_found"],
    ["GET", `/v1/files/${documentId}`, "file_not_found"],
    ["GET", `/v1/files/${documentId}/pages?from=1&to=1`, "file_not_found"],
    ["GET", `/v1/files/${documentId}/download`, "file_not_found"],
    ["DELETE", `/v1/files/${documentId}`, "file_not_found"],
    ["POST", `/v1/files/${documentId}/retry`, "file_not_found"],
  ] as const;
}

async function expectInvisible(who: LoggedIn, tenant: string) {
  for (const [method, path, code] of reaches(secret.id, doc.id)) {
    const res = await call(path, { method, tenant, token: who.token });
    expect(res.status, `${method} ${path}`).toBe(404);
    expectErrorShape(await json(res), code);
  }
  const listed = (await json(await call("/v1/collections?limit=100", { tenant, token: who.token }))).collections as CollectionJson[];
  expect(listed.map((c) => c.id)).not.toContain(secret.id);
  expect((await json(await call("/v1/files?limit=100", { tenant, token: who.token }))).files.map((f: { id: string }) => f.id)).not.toContain(doc.id);
  for (const scope of [{}, { collection_ids: [secret.id] }, { file_ids: [doc.id] }]) {
    const hits = await search(who.token, { query: "Obsidian merger March", top_k: 50, ...scope }, tenant);
    expect(hits.map((h) => h.file_id)).not.toContain(doc.id);
  }
  const into = await upload(who.token, makeTextPdf([`attempt ${crypto.randomUUID()}`]), "x.pdf", { tenant: tenant, collectionId: secret.id });
  expect(into.status).toBe(404);
  expectErrorShape(await json(into), "collection_not_found");
}

describe("a members-only collection", () => {
  it("does not exist for a member who is not listed: 404 on get, list, files, pages, download, search, upload", async () => {
    await expectInvisible(outsider, org.tenant);
  });

  it("is read by a listed reader, who may not change it (403 forbidden)", async () => {
    expect(await json(await call(`/v1/collections/${secret.id}`, { tenant: org.tenant, token: reader.token }))).toMatchObject({ access: "read" });
    expect((await search(reader.token, { query: "Obsidian merger", collection_ids: [secret.id] }, org.tenant))[0]?.file_id).toBe(doc.id);
    for (const [method, path] of [
      ["DELETE", `/v1/files/${doc.id}`],
      ["POST", `/v1/files/${doc.id}/retry`],
    ] as const) {
      const res = await call(path, { method, tenant: org.tenant, token: reader.token });
      expect(res.status, `${method} ${path}`).toBe(403);
      expectErrorShape(await json(res), "forbidden");
    }
    const into = await upload(reader.token, makeTextPdf(["reader's attempt"]), "r.pdf", { tenant: org.tenant, collectionId: secret.id });
    expect(into.status).toBe(403);
    expectErrorShape(await json(into), "forbidden");
  });

  it("is changed by a listed writer", async () => {
    expect(await json(await call(`/v1/collections/${secret.id}`, { tenant: org.tenant, token: writer.token }))).toMatchObject({ access: "write" });
    const added = await upload(writer.token, makeTextPdf([`Writer's minutes ${crypto.randomUUID()}`]), "minutes.pdf", {
      tenant: org.tenant,
      collectionId: secret.id,
    });
    expect(added.status).toBe(202);
    expect((await call(`/v1/files/${(await json(added)).id}`, { method: "DELETE", tenant: org.tenant, token: writer.token })).status).toBe(204);
  });

  it("is seen, with write access, by every admin and owner without being listed", async () => {
    for (const who of [admin, org.owner]) {
      const listed = (await json(await call("/v1/collections?limit=100", { tenant: org.tenant, token: who.token }))).collections as CollectionJson[];
      expect(listed.find((c) => c.id === secret.id)).toMatchObject({ access: "write", document_count: 1 });
    }
  });

  it("hides from everyone not listed as soon as a tenant-wide collection is made members-only", async () => {
    const col = await createCollection(org.tenant, admin.token, { visibility: "tenant" });
    const get = () => call(`/v1/collections/${col.id}`, { tenant: org.tenant, token: outsider.token });
    expect((await get()).status).toBe(200);
    expect(
      (await call(`/v1/admin/collections/${col.id}`, { method: "PATCH", tenant: org.tenant, token: admin.token, body: { visibility: "members" } }))
        .status,
    ).toBe(200);
    expect((await get()).status).toBe(404);
  });
});

describe("another tenant", () => {
  let other: Awaited<ReturnType<typeof createOrg>>;
  beforeAll(async () => {
    other = await createOrg();
  });

  it("gets 404 for everything, even as its owner", async () => {
    await expectInvisible(other.owner, other.tenant);
  });

  it.each([
    ["PATCH", "", { description: "taken over" }],
    ["DELETE", "", undefined],
    ["GET", "/members", undefined],
    ["PUT", "/members/:user", { access: "write" }],
    ["DELETE", "/members/:user", undefined],
  ])("its admin gets 404 collection_not_found for %s /v1/admin/collections/{id}%s", async (method, suffix, body) => {
    const path = `/v1/admin/collections/${secret.id}${suffix.replace(":user", other.owner.user.id)}`;
    const res = await call(path, { method, tenant: other.tenant, token: other.owner.token, body });
    expect(res.status).toBe(404);
    expectErrorShape(await json(res), "collection_not_found");
  });

  it("cannot list our collections, and a token of ours is refused in its tenant (403 tenant_mismatch)", async () => {
    const listed = (await json(await call("/v1/admin/collections?limit=100", { tenant: other.tenant, token: other.owner.token }))).collections;
    expect(listed).toEqual([]);
    const crossed = await call(`/v1/collections/${secret.id}`, { tenant: other.tenant, token: admin.token });
    expect(crossed.status).toBe(403);
    expectErrorShape(await json(crossed), "tenant_mismatch");
  });

  it("left the collection and its document as they were", async () => {
    expect(await json(await call(`/v1/collections/${secret.id}`, { tenant: org.tenant, token: admin.token }))).toMatchObject({
      description: "",
      document_count: 1,
      member_count: 2,
    });
  });
});

describe("roles on the admin collection routes", () => {
  /** Each admin route, on a fresh collection where `reader` is listed, and the status it answers when allowed. */
  const routes: Array<[string, string, (col: string) => { path: string; body?: unknown }, number]> = [
    ["GET", "/v1/admin/collections", () => ({ path: "/v1/admin/collections" }), 200],
    [
      "POST",
      "/v1/admin/collections",
      () => ({ path: "/v1/admin/collections", body: { name: `n ${crypto.randomUUID()}`, visibility: "tenant" } }),
      201,
    ],
    ["PATCH", "/v1/admin/collections/{id}", (col) => ({ path: `/v1/admin/collections/${col}`, body: { description: "d" } }), 200],
    ["DELETE", "/v1/admin/collections/{id}", (col) => ({ path: `/v1/admin/collections/${col}` }), 204],
    ["GET", "/v1/admin/collections/{id}/members", (col) => ({ path: `/v1/admin/collections/${col}/members` }), 200],
    [
      "PUT",
      "/v1/admin/collections/{id}/members/{user_id}",
      (col) => ({ path: `/v1/admin/collections/${col}/members/${writer.user.id}`, body: { access: "read" } }),
      201,
    ],
    ["DELETE", "/v1/admin/collections/{id}/members/{user_id}", (col) => ({ path: `/v1/admin/collections/${col}/members/${reader.user.id}` }), 204],
  ];

  async function attempt(who: { token: string }, [method, , target]: (typeof routes)[number]) {
    const col = await createCollection(org.tenant, admin.token);
    expect(await share(org.tenant, admin.token, col.id, reader.user.id, "read")).toBe(201);
    const { path, body } = target(col.id);
    return call(path, { method, tenant: org.tenant, token: who.token, body });
  }

  it.each(routes)("a member is refused %s %s (403 forbidden)", async (...route) => {
    const res = await attempt(outsider, route);
    expect(res.status).toBe(403);
    expectErrorShape(await json(res), "forbidden");
  });

  it.each(routes)("an API key, even read-write, is refused %s %s (403 forbidden)", async (...route) => {
    const key = await createKey(org.tenant, admin.token, { scope: "write" });
    const res = await attempt({ token: key.key }, route);
    expect(res.status).toBe(403);
    expectErrorShape(await json(res), "forbidden");
  });

  it.each(routes.flatMap((r) => (["owner", "admin"] as const).map((role) => [role, ...r] as const)))("an %s may %s %s", async (role, ...route) => {
    const res = await attempt(role === "owner" ? org.owner : admin, route);
    expect(res.status, await res.clone().text()).toBe(route[3]);
  });
});

describe("API keys and collections", () => {
  let shared: CollectionJson;
  beforeAll(async () => {
    shared = await createCollection(org.tenant, admin.token);
  });

  it("a key restricted to collections must upload into one of them (403 forbidden without collection_id)", async () => {
    const key = await createKey(org.tenant, admin.token, { scope: "write", collection_ids: [shared.id] });
    const privately = await upload(key.key, makeTextPdf([`key upload ${crypto.randomUUID()}`]), "k.pdf", { tenant: org.tenant });
    expect(privately.status).toBe(403);
    expect((await json(privately)).error).toMatchObject({ code: "forbidden", message: expect.stringContaining("restricted to collections") });

    const into = await upload(key.key, makeTextPdf([`key upload ${crypto.randomUUID()}`]), "k.pdf", { tenant: org.tenant, collectionId: shared.id });
    expect(into.status).toBe(202);
    expect((await json(into)).collection_id).toBe(shared.id);

    // Outside its restriction a collection does not exist for the key.
    const outside = await upload(key.key, makeTextPdf([`key upload ${crypto.randomUUID()}`]), "k.pdf", {
      tenant: org.tenant,
      collectionId: secret.id,
    });
    expect(outside.status).toBe(404);
    expectErrorShape(await json(outside), "collection_not_found");
  });

  it("a read-only key may not upload into a collection (403 insufficient_scope), and sees it as read", async () => {
    const key = await createKey(org.tenant, admin.token, { scope: "read", collection_ids: [shared.id] });
    const res = await upload(key.key, makeTextPdf(["read-only key"]), "r.pdf", { tenant: org.tenant, collectionId: shared.id });
    expect(res.status).toBe(403);
    expectErrorShape(await json(res), "insufficient_scope");
    expect(await json(await call(`/v1/collections/${shared.id}`, { tenant: org.tenant, token: key.key }))).toMatchObject({ access: "read" });
    const listed = (await json(await call("/v1/collections?limit=100", { tenant: org.tenant, token: key.key }))).collections;
    expect(listed.map((c: CollectionJson) => c.id)).toEqual([shared.id]);
  });
});
