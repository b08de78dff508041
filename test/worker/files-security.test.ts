// Documents belong to their uploader: other users and other tenants get 404s and no search hits.
import { beforeAll, describe, expect, it } from "vitest";
import { call, json, login, search, upload, waitForIngestion } from "../support/api.ts";
import { makeTextPdf } from "../support/pdf-factory.ts";

const SECRET = "The quarterly zirconium forecast for Andromeda Logistics is classified.";
let owner: Awaited<ReturnType<typeof login>>;
let docId: string;

beforeAll(async () => {
  owner = await login(undefined, "acme");
  docId = (await json(await upload(owner.token, makeTextPdf([SECRET]), "secret.pdf"))).id;
  expect((await waitForIngestion(owner.token, docId)).doc.status).toBe("ready");
  expect((await search(owner.token, { query: "zirconium forecast" }))[0]?.file_id).toBe(docId);
});

describe.each([
  ["another user of the same tenant", "acme"],
  ["a user of another tenant", "globex"],
])("%s", (_label, tenant) => {
  let token: string;
  beforeAll(async () => {
    token = (await login(undefined, tenant)).token;
  });

  it.each([
    ["GET", `/v1/files/:id`],
    ["GET", `/v1/files/:id/download`],
    ["DELETE", `/v1/files/:id`],
  ])("gets 404 file_not_found for %s %s", async (method, path) => {
    const res = await call(path.replace(":id", docId), { method, tenant, token });
    expect(res.status).toBe(404);
    expect((await json(res)).error.code).toBe("file_not_found");
  });

  it("does not see the document in the list", async () => {
    expect((await json(await call("/v1/files", { tenant, token }))).files).toEqual([]);
  });

  it("gets no search hits from it, even naming it in file_ids", async () => {
    expect(await search(token, { query: "zirconium forecast Andromeda" }, tenant)).toEqual([]);
    expect(await search(token, { query: "zirconium forecast Andromeda", file_ids: [docId] }, tenant)).toEqual([]);
  });
});

it("the owner's document survived every attempt", async () => {
  expect((await json(await call(`/v1/files/${docId}`, { token: owner.token }))).status).toBe("ready");
});

it("a token of tenant acme cannot reach the document through tenant globex", async () => {
  expect((await call(`/v1/files/${docId}`, { tenant: "globex", token: owner.token })).status).toBe(403);
});
