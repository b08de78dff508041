// PATCH /v1/files/{id}: renaming a document, its tags (normalised: Persian typed on an Arabic keyboard, capitals,
// duplicates) and its key/value metadata, every bound on them, and who may change which document.
import { beforeAll, describe, expect, it } from "vitest";
import { call, expectErrorShape, json, upload, waitForIngestion } from "../support/api.ts";
import { createKey } from "../support/api-keys.ts";
import { createCollection, share } from "../support/collections.ts";
import { createOrg, type LoggedIn } from "../support/org.ts";
import { makeTextPdf } from "../support/pdf-factory.ts";

const ZWNJ = "\u200C";
const ARABIC_YEH = "\u064A";
const ARABIC_KAF = "\u0643";
// "گزارش‌های مالی" (financial reports), with its ZWNJ, as a Persian keyboard types it...
const REPORTS_FA = `گزارش${ZWNJ}های مالی`;
// ...and as an Arabic keyboard types it: Arabic yeh for both Persian yehs.
const REPORTS_AR = `گزارش${ZWNJ}ها${ARABIC_YEH} مال${ARABIC_YEH}`;
// "کتاب" (book) with an Arabic kaf.
const BOOK_AR = `${ARABIC_KAF}تاب`;

let org: Awaited<ReturnType<typeof createOrg>>;
let owner: LoggedIn;

const patch = (id: string, body: unknown, as: { token: string } = owner, tenant = org.tenant) =>
  call(`/v1/files/${id}`, { method: "PATCH", tenant, token: as.token, body });

/** A fresh document of `as` (unique bytes, so never the dedup of an earlier upload). */
async function newDocument(as: LoggedIn = owner, filename = "doc.pdf"): Promise<string> {
  const res = await upload(as.token, makeTextPdf([`Document ${crypto.randomUUID()}`]), filename, { tenant: org.tenant });
  expect(res.status).toBe(202);
  return (await json(res)).id;
}

async function expectValidationError(res: Response, field: string) {
  expect(res.status).toBe(400);
  const body = await json(res);
  expectErrorShape(body, "validation_failed");
  expect(body.error.message).toContain(field);
}

beforeAll(async () => {
  org = await createOrg();
  owner = org.owner;
});

describe("PATCH /v1/files/{id}: the happy path", () => {
  it("renames, tags and sets metadata in one call, and GET and the list show them", async () => {
    const id = await newDocument(owner, "scan-0042.pdf");
    const before = await waitForIngestion(owner.token, id, { tenant: org.tenant });
    const res = await patch(id, {
      filename: "Q3 report.pdf",
      tags: ["Finance", "2024"],
      metadata: { department: "accounting", "source.system": "erp-7", quarter: "Q3" },
    });
    expect(res.status).toBe(200);
    const doc = await json(res);
    expect(doc).toMatchObject({
      id,
      filename: "Q3 report.pdf",
      tags: ["finance", "2024"],
      metadata: { department: "accounting", "source.system": "erp-7", quarter: "Q3" },
    });
    // updated_at tracks ingestion (the stall sweeper goes by it): an edit leaves it alone.
    expect(doc.updated_at).toBe(before.doc.updated_at);
    expect(await json(await call(`/v1/files/${id}`, { tenant: org.tenant, token: owner.token }))).toMatchObject({
      filename: "Q3 report.pdf",
      tags: ["finance", "2024"],
      metadata: { quarter: "Q3" },
    });
    const listed = (await json(await call("/v1/files", { tenant: org.tenant, token: owner.token }))).files.find((f: any) => f.id === id);
    expect(listed).toMatchObject({ filename: "Q3 report.pdf", tags: ["finance", "2024"] });
  });

  it("changes only the fields given; [] and {} clear tags and metadata", async () => {
    const id = await newDocument();
    await patch(id, { tags: ["keep"], metadata: { a: "1" } });
    expect(await json(await patch(id, { filename: "renamed.pdf" }))).toMatchObject({ filename: "renamed.pdf", tags: ["keep"], metadata: { a: "1" } });
    // metadata replaces the whole object: "a" is gone.
    expect(await json(await patch(id, { metadata: { b: "2" } }))).toMatchObject({ tags: ["keep"], metadata: { b: "2" } });
    expect((await json(await patch(id, { metadata: {} }))).metadata).toEqual({});
    expect(await json(await patch(id, { tags: [] }))).toMatchObject({ filename: "renamed.pdf", tags: [], metadata: {} });
  });

  it("stores Persian tags with their ZWNJ, and unifies Arabic-keyboard letters, capitals and duplicates", async () => {
    const id = await newDocument();
    const res = await patch(id, { tags: [REPORTS_AR, REPORTS_FA, BOOK_AR, "  Finance ", "FINANCE", `${ZWNJ}کتاب${ZWNJ}`] });
    expect(res.status).toBe(200);
    // One "گزارش‌های مالی" (ZWNJ kept inside the word), one "کتاب" (Persian kaf; the ZWNJs at its ends dropped), one "finance".
    expect((await json(res)).tags).toEqual([REPORTS_FA, "کتاب", "finance"]);
    // Found under either spelling.
    for (const typed of [REPORTS_FA, REPORTS_AR]) {
      const list = await json(await call(`/v1/files?tag=${encodeURIComponent(typed)}`, { tenant: org.tenant, token: owner.token }));
      expect(list.files.map((f: any) => f.id)).toEqual([id]);
    }
  });

  it("cleans a new filename as an upload's: no path, no control or bidi characters", async () => {
    const id = await newDocument();
    const res = await patch(id, { filename: "C:\\scans\\invoice\u202Egpj\u0007.pdf" });
    expect(res.status).toBe(200);
    expect((await json(res)).filename).toBe("invoicegpj.pdf");
    // A Persian name keeps its ZWNJ.
    expect((await json(await patch(id, { filename: `نامه${ZWNJ}ها.pdf` }))).filename).toBe(`نامه${ZWNJ}ها.pdf`);
  });

  it("accepts every bound exactly: 20 tags, a 64-character tag, 32 keys, a 1024-character value, 8 KiB of metadata", async () => {
    const id = await newDocument();
    const tags = Array.from({ length: 20 }, (_, i) => (i === 0 ? "t".repeat(64) : `tag-${i}`));
    expect((await json(await patch(id, { tags }))).tags).toEqual(tags);

    const keys = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`key_${i}`, i === 0 ? "v".repeat(1024) : "x"]));
    expect((await json(await patch(id, { metadata: keys }))).metadata).toEqual(keys);

    const exactly8k = metadataOfBytes(8 * 1024);
    expect(new TextEncoder().encode(JSON.stringify(exactly8k)).byteLength).toBe(8192);
    expect((await json(await patch(id, { metadata: exactly8k }))).metadata).toEqual(exactly8k);
  });
});

/** ASCII metadata whose JSON is exactly `bytes` bytes long: values of 1000 characters, then the rest in one more. */
function metadataOfBytes(bytes: number): Record<string, string> {
  const m: Record<string, string> = {};
  for (let i = 0; ; i++) {
    const key = `k${String(i).padStart(2, "0")}`;
    // The entry adds "key":"value", and a comma after the first.
    const room = bytes - JSON.stringify(m).length - key.length - 5 - (i > 0 ? 1 : 0);
    m[key] = "x".repeat(Math.min(room, 1000));
    if (room <= 1000) return m;
  }
}

describe("PATCH /v1/files/{id}: refused input", () => {
  let id: string;
  beforeAll(async () => {
    id = await newDocument(owner, "bounds.pdf");
    await patch(id, { tags: ["original"], metadata: { original: "yes" } });
  });

  it.each([
    ["21 tags", { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, "tags"],
    ["a 65-character tag", { tags: ["t".repeat(65)] }, "tags.0"],
    ["a blank tag", { tags: ["ok", " \u200C "] }, "tags.1"],
    ["a tag that is not a string", { tags: [42] }, "tags.0"],
    ["33 metadata keys", { metadata: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, "v"])) }, "metadata"],
    ["a key with a space", { metadata: { "bad key": "v" } }, "metadata"],
    ["a 65-character key", { metadata: { ["k".repeat(65)]: "v" } }, "metadata"],
    ["an empty key", { metadata: { "": "v" } }, "metadata"],
    ["a 1025-character value", { metadata: { long: "v".repeat(1025) } }, "metadata.long"],
    // Sent as written: a JavaScript object literal would take "__proto__" as its prototype.
    ["a __proto__ key", '{"metadata":{"__proto__":"x"}}', "__proto__"],
    ["a value that is not a string", { metadata: { pages: 12 } }, "metadata.pages"],
    ["a NUL in a value", { metadata: { note: "a\u0000b" } }, "metadata.note"],
    ["metadata as a list", { metadata: ["a"] }, "metadata"],
    ["a blank filename", { filename: "   " }, "filename"],
    ["a 256-character filename", { filename: `${"n".repeat(252)}.pdf` }, "filename"],
    ["no field at all", {}, "at least one of filename, tags, metadata"],
    ["an unknown field", { tags: ["x"], metadata_merge: { a: "b" } }, "metadata_merge"],
  ])("400 validation_failed for %s, naming it", async (_label, body, field) => {
    await expectValidationError(await patch(id, body), field);
  });

  it("400 for metadata one byte over 8 KiB as JSON", async () => {
    const over = metadataOfBytes(8 * 1024 + 1);
    expect(new TextEncoder().encode(JSON.stringify(over)).byteLength).toBe(8193);
    await expectValidationError(await patch(id, { metadata: over }), "8192 bytes");
  });

  it("counts bytes, not characters: 8 KiB of Persian is fewer characters", async () => {
    // 5 values of 1000 Persian letters are 10,000 bytes of UTF-8 but 5,000 characters.
    const persian = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`fa${i}`, "ک".repeat(1000)]));
    await expectValidationError(await patch(id, { metadata: persian }), "8192 bytes");
  });

  it("400 for a malformed id", async () => {
    await expectValidationError(await patch("not-a-uuid", { tags: ["x"] }), "id");
  });

  it("changed nothing on any refusal", async () => {
    const doc = await json(await call(`/v1/files/${id}`, { tenant: org.tenant, token: owner.token }));
    expect(doc).toMatchObject({ filename: "bounds.pdf", tags: ["original"], metadata: { original: "yes" } });
  });
});

describe("PATCH /v1/files/{id}: who may change which document", () => {
  let id: string;
  beforeAll(async () => {
    id = await newDocument(owner, "owned.pdf");
    await patch(id, { tags: ["mine"] });
  });

  const unchanged = async () =>
    expect(await json(await call(`/v1/files/${id}`, { tenant: org.tenant, token: owner.token }))).toMatchObject({
      filename: "owned.pdf",
      tags: ["mine"],
    });

  it.each(["member", "admin"] as const)("another user (%s) of the tenant gets 404 for a private document", async (role) => {
    const other = await org.user(role);
    const res = await patch(id, { filename: "stolen.pdf" }, other);
    expect(res.status).toBe(404);
    expectErrorShape(await json(res), "file_not_found");
    await unchanged();
  });

  it("a user of another tenant gets 404, through their own tenant", async () => {
    const other = await createOrg();
    const res = await patch(id, { tags: ["x"] }, other.owner, other.tenant);
    expect(res.status).toBe(404);
    expectErrorShape(await json(res), "file_not_found");
    await unchanged();
  });

  it("a token of another tenant is refused with 403 tenant_mismatch", async () => {
    const other = await createOrg();
    const res = await patch(id, { tags: ["x"] }, other.owner, org.tenant);
    expect(res.status).toBe(403);
    expectErrorShape(await json(res), "tenant_mismatch");
    await unchanged();
  });

  it("a member who may only read a collection gets 403 forbidden for its documents; one with write access changes them", async () => {
    const { id: collectionId } = await createCollection(org.tenant, owner.token);
    const uploaded = await upload(owner.token, makeTextPdf([`Shared ${crypto.randomUUID()}`]), "shared.pdf", {
      tenant: org.tenant,
      collectionId: collectionId,
    });
    expect(uploaded.status).toBe(202);
    const sharedId = (await json(uploaded)).id;

    const reader = await org.user("member");
    const refused = await patch(sharedId, { tags: ["mine-now"] }, reader);
    expect(refused.status).toBe(403);
    expectErrorShape(await json(refused), "forbidden");
    expect((await json(await call(`/v1/files/${sharedId}`, { tenant: org.tenant, token: reader.token }))).tags).toEqual([]);

    const writer = await org.user("member");
    expect(await share(org.tenant, owner.token, collectionId, writer.user.id, "write")).toBe(201);
    expect((await json(await patch(sharedId, { tags: ["Handbook"] }, writer))).tags).toEqual(["handbook"]);
    // An admin changes any collection's documents.
    const admin = await org.user("admin");
    expect((await json(await patch(sharedId, { metadata: { owner: "hr" } }, admin))).metadata).toEqual({ owner: "hr" });
  });

  it("a read-only API key gets 403 insufficient_scope; a read-write key may change its own documents", async () => {
    const keyOf = async (scope: "read" | "write") => ({ token: (await createKey(org.tenant, owner.token, { scope })).key });
    const readOnly = await keyOf("read");
    const refused = await patch(id, { tags: ["x"] }, readOnly);
    expect(refused.status).toBe(403);
    expectErrorShape(await json(refused), "insufficient_scope");
    await unchanged();

    const readWrite = await keyOf("write");
    const res = await upload(readWrite.token, makeTextPdf([`Key document ${crypto.randomUUID()}`]), "key.pdf", { tenant: org.tenant });
    expect(res.status).toBe(202);
    const keyDoc = (await json(res)).id;
    expect((await json(await patch(keyDoc, { tags: ["from-backend"] }, readWrite))).tags).toEqual(["from-backend"]);
  });
});
