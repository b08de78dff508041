// Finding documents by what users put on them: GET /v1/files filtered by tag, collection, status and name (with
// paging), and search and chat limited to documents carrying a tag, whose hits and citations carry the document's
// tags and metadata.
import { beforeAll, describe, expect, it } from "vitest";
import { call, expectErrorShape, json, upload, waitForIngestion } from "../support/api.ts";
import { ChatClient } from "../support/chat.ts";
import { createCollection } from "../support/collections.ts";
import { createOrg, type LoggedIn } from "../support/org.ts";
import { makeEncryptedPdf, makeTextPdf } from "../support/pdf-factory.ts";

const ZWNJ = "\u200C";
// "گزارش‌های مالی" (financial reports) as a Persian keyboard types it, and as an Arabic one does (Arabic yeh).
const REPORTS_FA = `گزارش${ZWNJ}های مالی`;
const REPORTS_AR = `گزارش${ZWNJ}ها\u064A مال\u064A`;

let org: Awaited<ReturnType<typeof createOrg>>;

const get = (path: string, as: LoggedIn) => call(path, { tenant: org.tenant, token: as.token });
const patch = (id: string, body: unknown, as: LoggedIn) => call(`/v1/files/${id}`, { method: "PATCH", tenant: org.tenant, token: as.token, body });
const query = (params: Array<[string, string]>) => new URLSearchParams(params).toString();

/** Uploads a PDF of `text` (into a collection when given), waits for its ingestion, then sets `details`. */
async function addDocument(
  as: LoggedIn,
  filename: string,
  options: { text?: string; pdf?: Uint8Array; collectionId?: string; details?: { tags?: string[]; metadata?: Record<string, string> } } = {},
): Promise<string> {
  const pdf = options.pdf ?? makeTextPdf([options.text ?? `Filler ${crypto.randomUUID()}`]);
  const res = options.collectionId
    ? await upload(as.token, pdf, filename, { tenant: org.tenant, collectionId: options.collectionId })
    : await upload(as.token, pdf, filename, { tenant: org.tenant });
  expect(res.status).toBe(202);
  const { id } = await json(res);
  await waitForIngestion(as.token, id, { tenant: org.tenant });
  if (options.details) expect((await patch(id, options.details, as)).status).toBe(200);
  return id;
}

const newCollection = async () => (await createCollection(org.tenant, org.owner.token)).id;

/** Every page of GET /v1/files?<params>, following next_cursor: the ids in order, and the page sizes. */
async function allPages(params: Array<[string, string]>, as: LoggedIn) {
  const ids: string[] = [];
  const sizes: number[] = [];
  let cursor: string | null = null;
  do {
    const page: { files: Array<{ id: string }>; next_cursor: string | null } = await json(
      await get(`/v1/files?${query([...params, ...(cursor ? [["cursor", cursor] as [string, string]] : [])])}`, as),
    );
    ids.push(...page.files.map((f) => f.id));
    sizes.push(page.files.length);
    cursor = page.next_cursor;
  } while (cursor);
  return { ids, sizes };
}

beforeAll(async () => {
  org = await createOrg();
});

describe("GET /v1/files filters", () => {
  let member: LoggedIn;
  const ids: Record<string, string> = {};
  const list = async (params: Array<[string, string]>) => (await allPages(params, member)).ids;

  beforeAll(async () => {
    member = await org.user("member");
    const handbook = await newCollection();
    // Oldest first, so lists (newest first) give them in reverse.
    ids.percent = await addDocument(member, "Alpha 100%_plan.pdf", { details: { tags: ["Plans"] } });
    ids.plain = await addDocument(member, "alpha 1000 plan.pdf", { details: { tags: [REPORTS_FA] } });
    ids.both = await addDocument(member, "Beta.pdf", { details: { tags: ["plans", REPORTS_AR] } });
    ids.failed = await addDocument(member, "broken.pdf", { pdf: makeEncryptedPdf(), details: { tags: ["plans"] } });
    // The owner's collection document: the member reads it (visibility 'tenant') beside their own.
    ids.shared = await addDocument(org.owner, "Staff handbook.pdf", { collectionId: handbook, details: { tags: ["plans"] } });
    ids.handbook = handbook;
  });

  it("without filters lists the member's documents and the collection's, newest first", async () => {
    expect(await list([])).toEqual([ids.shared, ids.failed, ids.both, ids.plain, ids.percent]);
  });

  it("tag: any of the given tags, in their normalised form", async () => {
    expect(await list([["tag", "PLANS"]])).toEqual([ids.shared, ids.failed, ids.both, ids.percent]);
    expect(await list([["tag", REPORTS_AR]])).toEqual([ids.both, ids.plain]);
    expect(
      await list([
        ["tag", REPORTS_FA],
        ["tag", "plans"],
      ]),
    ).toEqual([ids.shared, ids.failed, ids.both, ids.plain, ids.percent]);
    expect(await list([["tag", "nobody-uses-this"]])).toEqual([]);
  });

  it("status", async () => {
    expect(await list([["status", "failed"]])).toEqual([ids.failed]);
    expect(await list([["status", "ready"]])).toEqual([ids.shared, ids.both, ids.plain, ids.percent]);
  });

  it("q: filename contains, ignoring case, with % and _ meaning themselves", async () => {
    expect(await list([["q", "ALPHA"]])).toEqual([ids.plain, ids.percent]);
    expect(await list([["q", "0%_p"]])).toEqual([ids.percent]);
    expect(await list([["q", "%"]])).toEqual([ids.percent]);
    expect(await list([["q", "_"]])).toEqual([ids.percent]);
    expect(await list([["q", "handbook"]])).toEqual([ids.shared]);
  });

  it("collection_id: only that collection's documents; private=true: only the caller's own", async () => {
    expect(await list([["collection_id", ids.handbook!]])).toEqual([ids.shared]);
    expect(await list([["private", "true"]])).toEqual([ids.failed, ids.both, ids.plain, ids.percent]);
    expect(await list([["private", "false"]])).toEqual([ids.shared, ids.failed, ids.both, ids.plain, ids.percent]);
    // A collection that is not there (or another tenant's) holds nothing the caller can see.
    expect(await list([["collection_id", crypto.randomUUID()]])).toEqual([]);
  });

  it("filters combine: all must hold", async () => {
    expect(
      await list([
        ["tag", "plans"],
        ["private", "true"],
        ["status", "ready"],
      ]),
    ).toEqual([ids.both, ids.percent]);
    expect(
      await list([
        ["tag", "plans"],
        ["q", "beta"],
      ]),
    ).toEqual([ids.both]);
  });

  it("pages through a filtered list with the cursor: every match once, in order, none of the others", async () => {
    const pager = await org.user("member");
    const tagged: string[] = [];
    for (let i = 0; i < 7; i++) {
      const id = await addDocument(pager, `page-${i}.pdf`, i % 3 === 1 ? {} : { details: { tags: ["paged"] } });
      if (i % 3 !== 1) tagged.unshift(id);
    }
    expect(tagged).toHaveLength(5);
    const { ids: seen, sizes } = await allPages(
      [
        ["tag", "paged"],
        ["limit", "2"],
      ],
      pager,
    );
    expect(seen).toEqual(tagged);
    expect(sizes).toEqual([2, 2, 1]);
  });

  it.each([
    ["a 65-character tag", [["tag", "t".repeat(65)]], "tag"],
    ["21 tags", Array.from({ length: 21 }, (_, i) => ["tag", `t${i}`]), "tag"],
    ["a blank tag", [["tag", " "]], "tag"],
    ["an unknown status", [["status", "deleted"]], "status"],
    ["a collection_id that is not a uuid", [["collection_id", "handbooks"]], "collection_id"],
    ["private other than true or false", [["private", "yes"]], "private"],
    [
      "collection_id with private=true",
      [
        ["collection_id", crypto.randomUUID()],
        ["private", "true"],
      ],
      "collection_id, private",
    ],
    ["an empty q", [["q", " "]], "q"],
    ["a q of 256 characters", [["q", "q".repeat(256)]], "q"],
  ] as Array<[string, Array<[string, string]>, string]>)("400 validation_failed for %s", async (_label, params, field) => {
    const res = await get(`/v1/files?${query(params)}`, member);
    expect(res.status).toBe(400);
    const body = await json(res);
    expectErrorShape(body, "validation_failed");
    expect(body.error.message).toContain(field);
  });
});

describe("search and chat limited by tag", () => {
  const MEMO = "The heliotrope budget memo assigns the northern warehouse a larger share of the quarterly freight spending.";
  let reader: LoggedIn;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    reader = await org.user("member");
    const board = await newCollection();
    ids.board = board;
    // Four documents with the same text: only the tags tell them apart.
    ids.reports = await addDocument(reader, "reports.pdf", {
      text: `${MEMO} Copy one.`,
      details: { tags: [REPORTS_FA], metadata: { department: "finance", year: "1403" } },
    });
    ids.other = await addDocument(reader, "other.pdf", {
      text: `${MEMO} Copy two.`,
      details: { tags: ["logistics"], metadata: { department: "ops" } },
    });
    ids.untagged = await addDocument(reader, "untagged.pdf", { text: `${MEMO} Copy three.` });
    ids.shared = await addDocument(org.owner, "board.pdf", {
      text: `${MEMO} Copy four.`,
      collectionId: board,
      details: { tags: [REPORTS_AR], metadata: { confidential: "no" } },
    });
  });

  const searchFor = async (body: Record<string, unknown>) => {
    const res = await call("/v1/search", { tenant: org.tenant, token: reader.token, body: { query: "heliotrope budget memo warehouse", ...body } });
    expect(res.status).toBe(200);
    return (await json(res)).results as Array<{ file_id: string; tags: string[]; metadata: Record<string, string>; collection: unknown }>;
  };

  it("search without tags finds all four copies", async () => {
    expect((await searchFor({})).map((h) => h.file_id)).toEqual(expect.arrayContaining([ids.reports, ids.other, ids.untagged, ids.shared]));
  });

  it("search with a tag typed on an Arabic keyboard finds only the documents carrying it, with their tags and metadata", async () => {
    const hits = await searchFor({ tags: [REPORTS_AR] });
    expect(new Set(hits.map((h) => h.file_id))).toEqual(new Set([ids.reports, ids.shared]));
    const own = hits.find((h) => h.file_id === ids.reports)!;
    expect(own).toMatchObject({ tags: [REPORTS_FA], metadata: { department: "finance", year: "1403" }, collection: null });
    const shared = hits.find((h) => h.file_id === ids.shared)!;
    expect(shared).toMatchObject({ tags: [REPORTS_FA], metadata: { confidential: "no" }, collection: { id: ids.board } });
  });

  it("search with several tags takes documents carrying any of them", async () => {
    const hits = await searchFor({ tags: ["LOGISTICS", REPORTS_FA] });
    expect(new Set(hits.map((h) => h.file_id))).toEqual(new Set([ids.reports, ids.other, ids.shared]));
  });

  it("a tag and file_ids both hold", async () => {
    expect(new Set((await searchFor({ tags: [REPORTS_FA], file_ids: [ids.reports, ids.other] })).map((h) => h.file_id))).toEqual(
      new Set([ids.reports]),
    );
  });

  it("a renamed or retagged document is searched as it is now", async () => {
    const id = await addDocument(reader, "before.pdf", { text: `${MEMO} Copy five.`, details: { tags: ["draft"] } });
    expect((await searchFor({ tags: ["draft"] })).map((h) => h.file_id)).toContain(id);
    await patch(id, { filename: "after.pdf", tags: ["final"] }, reader);
    expect(await searchFor({ tags: ["draft"] })).toEqual([]);
    const hits = await searchFor({ tags: ["final"] });
    expect(hits.map((h) => h.file_id)).toEqual(hits.map(() => id));
    expect(hits[0]).toMatchObject({ filename: "after.pdf", tags: ["final"] });
  });

  it.each([
    ["a blank tag", [" "]],
    ["a 65-character tag", ["t".repeat(65)]],
    ["21 tags", Array.from({ length: 21 }, (_, i) => `t${i}`)],
    ["no tags at all", []],
  ])("search refuses %s with 400 validation_failed", async (_label, tags) => {
    const res = await call("/v1/search", { tenant: org.tenant, token: reader.token, body: { query: "memo", tags } });
    expect(res.status).toBe(400);
    const body = await json(res);
    expectErrorShape(body, "validation_failed");
    expect(body.error.message).toContain("tags");
  });

  it("chat limited by a tag cites only documents carrying it, with their tags, metadata and collection", async () => {
    const chat = await ChatClient.open({ token: reader.token, tenant: org.tenant });
    chat.send({ type: "message", content: "What does the heliotrope budget memo say about the warehouse?", tags: [REPORTS_AR] });
    const answer = await chat.collect();
    chat.close();
    expect(answer.error).toBeNull();
    const citations = answer.citations!;
    expect(citations.length).toBeGreaterThan(0);
    expect(new Set(citations.map((c) => c.file_id))).toEqual(new Set([ids.reports, ids.shared]));
    expect(citations.find((c) => c.file_id === ids.reports)).toMatchObject({
      tags: [REPORTS_FA],
      metadata: { department: "finance", year: "1403" },
      collection: null,
    });
    expect(citations.find((c) => c.file_id === ids.shared)).toMatchObject({ metadata: { confidential: "no" }, collection: { id: ids.board } });
  });

  it("chat refuses an invalid tag with an invalid_message error frame", async () => {
    const chat = await ChatClient.open({ token: reader.token, tenant: org.tenant });
    chat.send({ type: "message", content: "memo?", tags: ["t".repeat(65)] });
    expect(await chat.next("error")).toMatchObject({ code: "invalid_message", retryable: false });
    chat.close();
  });
});
