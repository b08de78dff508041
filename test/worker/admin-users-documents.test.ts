// GET /v1/admin/documents: every document of the organisation, private and shared, with status, error and uploader,
// for its admins; metadata only.
import { beforeAll, expect, it } from "vitest";
import { call, expectErrorShape, json, upload, waitForIngestion } from "../support/api.ts";
import { createCollection, ingestInto } from "../support/collections.ts";
import { createOrg, type LoggedIn } from "../support/org.ts";
import { makeGarbagePdf, makeTextPdf } from "../support/pdf-factory.ts";

type Org = Awaited<ReturnType<typeof createOrg>>;

let org: Org;
let member: LoggedIn;
let privateId: string;
let failedId: string;
let shared: { id: string; collection_id: string };
let collectionId: string;
let otherTenantDocId: string;

async function uploaded(who: LoggedIn, tenant: string, bytes: Uint8Array, name: string) {
  const res = await upload(who.token, bytes, name, { tenant });
  expect(res.status, await res.clone().text()).toBe(202);
  const { id } = await json(res);
  return (await waitForIngestion(who.token, id, { tenant })).doc;
}

const list = async (query = "", token = org.owner.token) => {
  const res = await call(`/v1/admin/documents${query}`, { tenant: org.tenant, token });
  expect(res.status, await res.clone().text()).toBe(200);
  return json<{ documents: any[]; next_cursor: string | null }>(res);
};

beforeAll(async () => {
  org = await createOrg();
  member = await org.user("member");
  const admin = await org.user("admin");
  privateId = (await uploaded(member, org.tenant, makeTextPdf(["A member's private page about heron migration."]), "herons.pdf")).id;
  const failed = await uploaded(member, org.tenant, makeGarbagePdf(), "broken.pdf");
  expect(failed.status).toBe("failed");
  failedId = failed.id;
  collectionId = (await createCollection(org.tenant, admin.token)).id;
  shared = await ingestInto(admin.token, org.tenant, collectionId, "The shared policy on bicycle parking.");
  const other = await createOrg();
  otherTenantDocId = (await uploaded(other.owner, other.tenant, makeTextPdf(["Another organisation's page."]), "theirs.pdf")).id;
}, 120_000);

it("lists every document of the organisation, newest first, with status, error, uploader and collection", async () => {
  const { documents, next_cursor } = await list();
  expect(next_cursor).toBeNull();
  expect(documents.map((d) => d.id)).toEqual([shared.id, failedId, privateId]);
  const [sharedDoc, failedDoc, privateDoc] = documents;
  expect(privateDoc).toMatchObject({ status: "ready", error: null, collection_id: null, uploader: { id: member.user.id, email: member.email } });
  expect(failedDoc).toMatchObject({ status: "failed", filename: "broken.pdf", error: { code: "invalid_pdf" }, uploader: { id: member.user.id } });
  expect(sharedDoc).toMatchObject({ status: "ready", collection_id: collectionId });
  expect(documents.some((d) => d.id === otherTenantDocId)).toBe(false);
});

it("filters by status", async () => {
  expect((await list("?status=failed")).documents.map((d) => d.id)).toEqual([failedId]);
  expect((await list("?status=ready")).documents.map((d) => d.id)).toEqual([shared.id, privateId]);
  expect((await list("?status=queued")).documents).toEqual([]);
});

it("pages with the cursor, each document once", async () => {
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await list(`?limit=1${cursor ? `&cursor=${cursor}` : ""}`);
    seen.push(...page.documents.map((d) => d.id));
    cursor = page.next_cursor;
  } while (cursor);
  expect(seen).toEqual([shared.id, failedId, privateId]);
});

it("gives an admin the metadata of a member's private document, but not its content", async () => {
  const admin = await org.user("admin");
  expect((await list("", admin.token)).documents.map((d) => d.id)).toContain(privateId);
  for (const path of [`/v1/files/${privateId}`, `/v1/files/${privateId}/download`]) {
    const res = await call(path, { tenant: org.tenant, token: admin.token });
    expect(res.status).toBe(404);
  }
});

it.each([
  ["an unknown status", "?status=lost"],
  ["a limit of 0", "?limit=0"],
  ["a forged cursor", "?cursor=bm90LWEtY3Vyc29y"],
])("refuses %s with 400", async (_label, query) => {
  const res = await call(`/v1/admin/documents${query}`, { tenant: org.tenant, token: org.owner.token });
  expect(res.status).toBe(400);
  expect((await json(res)).error.code).toMatch(/^(validation_failed|invalid_cursor)$/);
});

it("refuses a member with 403 forbidden", async () => {
  const res = await call("/v1/admin/documents", { tenant: org.tenant, token: member.token });
  expect(res.status).toBe(403);
  expectErrorShape(await json(res), "forbidden");
});
