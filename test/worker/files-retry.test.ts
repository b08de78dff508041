// POST /v1/files/{id}/retry: the owner queues a failed document again; nobody else can, and nothing else is retried.
import { beforeAll, describe, expect, it } from "vitest";
import { call, expectErrorShape, fetchWithEnv, json, login, upload, waitForIngestion } from "../support/api.ts";
import { count, sql } from "../support/db.ts";
import { makeTextPdf } from "../support/pdf-factory.ts";

type Login = Awaited<ReturnType<typeof login>>;

const retry = (id: string, token: string, tenant = "acme") => call(`/v1/files/${id}/retry`, { method: "POST", token, tenant });

async function readyDocument(owner: Login, text: string) {
  const created = await json(await upload(owner.token, makeTextPdf([text]), "doc.pdf", { tenant: owner.user.tenant_id }));
  expect((await waitForIngestion(owner.token, created.id, { tenant: owner.user.tenant_id })).doc.status).toBe("ready");
  return created.id as string;
}

/** As markFailed leaves a document whose last attempt failed: no chunks, no pages, an error. */
async function failIt(id: string) {
  const db = sql();
  await db.transaction([
    db.query("delete from chunks where document_id = $1", [id]),
    db.query("delete from document_pages where document_id = $1", [id]),
    db.query(
      'update documents set status = \'failed\', error_code = \'ingest_failed\', error_message = \'The model API was down\', chunk_count = 0, token_count = 0, warnings = \'[{"page":1,"code":"ocr_failed","message":"stale"}]\' where id = $1',
      [id],
    ),
  ]);
}

describe("retry", () => {
  it("queues a failed document again (202), and it becomes ready with a fresh state", async () => {
    const owner = await login();
    const id = await readyDocument(owner, "A document whose first ingestion failed.");
    await failIt(id);

    const res = await retry(id, owner.token);
    expect(res.status).toBe(202);
    expect(await json(res)).toMatchObject({ id, status: "queued", error: null, warnings: [], progress: { pages_done: 0 } });
    const { doc } = await waitForIngestion(owner.token, id);
    expect(doc).toMatchObject({ status: "ready", error: null, warnings: [] });
    expect(doc.chunk_count).toBeGreaterThan(0);
  });

  it("refuses a document that is ready, or still progressing (409 not_retryable)", async () => {
    const owner = await login();
    const id = await readyDocument(owner, "Nothing to retry here.");
    const ready = await retry(id, owner.token);
    expect(ready.status).toBe(409);
    expectErrorShape(await json(ready), "not_retryable");

    await sql().query("update documents set status = 'processing', updated_at = now() where id = $1", [id]);
    const moving = await retry(id, owner.token);
    expect(moving.status).toBe(409);
    expectErrorShape(await json(moving), "not_retryable");
  });

  it("retries a document whose ingestion stalled", async () => {
    const owner = await login();
    const id = await readyDocument(owner, "Its message was lost.");
    await sql().query("update documents set status = 'processing', updated_at = now() - interval '1 hour' where id = $1", [id]);
    expect((await retry(id, owner.token)).status).toBe(202);
    expect((await waitForIngestion(owner.token, id)).doc.status).toBe("ready");
  });

  it("is refused with 429 quota_exceeded once the daily budget is spent, and changes nothing", async () => {
    const owner = await login();
    const id = await readyDocument(owner, "Retried without budget.");
    await failIt(id);
    const res = await fetchWithEnv(
      `/v1/files/${id}/retry`,
      { DAILY_TOKEN_BUDGET_PER_USER: "1" },
      {
        method: "POST",
        headers: { "X-Tenant-ID": "acme", Authorization: `Bearer ${owner.token}` },
      },
    );
    expect(res.status).toBe(429);
    expectErrorShape(await json(res), "quota_exceeded");
    expect((await json(await call(`/v1/files/${id}`, { token: owner.token }))).status).toBe("failed");
  });

  it("answers 503 queue_unavailable when the queue refuses, leaving the document failed as it was", async () => {
    const owner = await login();
    const id = await readyDocument(owner, "The queue is down.");
    await failIt(id);
    const brokenQueue = {
      send: async () => {
        throw new Error("queue down");
      },
    };
    const res = await fetchWithEnv(
      `/v1/files/${id}/retry`,
      { INGEST_QUEUE: brokenQueue },
      {
        method: "POST",
        headers: { "X-Tenant-ID": "acme", Authorization: `Bearer ${owner.token}` },
      },
    );
    expect(res.status).toBe(503);
    expectErrorShape(await json(res), "queue_unavailable");
    const doc = await json(await call(`/v1/files/${id}`, { token: owner.token }));
    expect(doc).toMatchObject({ status: "failed", error: { code: "ingest_failed", message: "The model API was down" } });
    expect(doc.warnings).toHaveLength(1);
  });

  it("answers 404 file_not_found for an unknown id and 400 for a malformed one", async () => {
    const { token } = await login();
    const missing = await retry(crypto.randomUUID(), token);
    expect(missing.status).toBe(404);
    expectErrorShape(await json(missing), "file_not_found");
    expect((await retry("not-a-uuid", token)).status).toBe(400);
  });

  it("requires a token (401)", async () => {
    expect((await call(`/v1/files/${crypto.randomUUID()}/retry`, { method: "POST" })).status).toBe(401);
  });
});

describe.each([
  ["another user of the same tenant", "acme"],
  ["a user of another tenant", "globex"],
])("retry by %s", (_label, tenant) => {
  let owner: Login;
  let id: string;
  beforeAll(async () => {
    owner = await login(undefined, "acme");
    id = await readyDocument(owner, "Only its owner may retry this.");
    await failIt(id);
  });

  it("gets 404 file_not_found and queues nothing", async () => {
    const other = await login(undefined, tenant);
    const res = await retry(id, other.token, tenant);
    expect(res.status).toBe(404);
    expectErrorShape(await json(res), "file_not_found");
    expect((await json(await call(`/v1/files/${id}`, { token: owner.token }))).status).toBe("failed");
    expect(await count("select 1 from chunks where document_id = $1", [id])).toBe(0);
  });
});
