// No document stays queued or processing forever: the cron sweeper re-queues ingestions whose progress stopped
// (an isolate that died, a message lost in a restart) and fails them as ingest_stalled after INGEST_MAX_SWEEPS;
// the dead-letter consumer ends documents whose message died outside our code; a re-upload restarts a stalled one.

import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { objectKey } from "../../src/documents/repository.ts";
import worker from "../../src/index.ts";
import type { IngestMessage } from "../../src/ingest/messages.ts";
import { call, json, login, upload, waitForIngestion } from "../support/api.ts";
import { count, sql } from "../support/db.ts";
import { makeTextPdf } from "../support/pdf-factory.ts";

type Login = Awaited<ReturnType<typeof login>>;

/**
 * The cron's run. Its stall time is two hours here, and the tests' stalled documents older than that, so that the
 * sweep never touches documents other test files are working with (at most minutes old).
 */
const STALL_MINUTES = 120;
const STALLED = 180;
async function sweep() {
  const ctx = createExecutionContext();
  await worker.scheduled!(
    createScheduledController({ cron: "*/5 * * * *", scheduledTime: Date.now() }),
    { ...env, INGEST_STALL_MINUTES: String(STALL_MINUTES) } as never,
    ctx,
  );
  await waitOnExecutionContext(ctx);
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A document as an upload leaves it (object in R2, row queued), whose queue message was lost `minutesAgo`. */
async function lostUpload(owner: Login, bytes: Uint8Array, { minutesAgo = STALLED, storeObject = true } = {}) {
  const id = crypto.randomUUID();
  const key = objectKey({ tenantId: owner.user.tenant_id, userId: owner.user.id }, id);
  if (storeObject) await env.DOCUMENTS.put(key, bytes);
  await sql().query(
    `insert into documents (id, tenant_id, user_id, filename, size_bytes, sha256, r2_key, status, updated_at)
     values ($1, $2, $3, 'lost.pdf', $4, $5, $6, 'queued', now() - make_interval(mins => $7))`,
    [id, owner.user.tenant_id, owner.user.id, bytes.length, await sha256Hex(bytes), key, minutesAgo],
  );
  return id;
}

const row = async (id: string) =>
  (await sql().query("select status, error_code, error_message, pages_done, ingest_sweeps from documents where id = $1", [id]))[0] as {
    status: string;
    error_code: string | null;
    error_message: string | null;
    pages_done: number;
    ingest_sweeps: number;
  };
const embeddingsOf = (userId: string) => count("select 1 from usage_events where user_id = $1 and kind = 'embedding'", [userId]);

describe("stall sweeper", () => {
  it("picks up an ingestion stuck at processing 50/120 after a restart and finishes it without redoing range 1", async () => {
    const owner = await login();
    const pages = Array.from({ length: 120 }, (_, i) => `Page ${i + 1} of the sweeper report discusses topic ${i + 1}.`);
    const created = await json(await upload(owner.token, makeTextPdf(pages), "stuck.pdf"));
    expect((await waitForIngestion(owner.token, created.id)).doc.status).toBe("ready");
    const embeddings = await embeddingsOf(owner.user.id);
    // As a restart leaves it: range 1 stored, the message for range 2 gone, nothing moving for three hours.
    const db = sql();
    await db.transaction([
      db.query("delete from chunks where document_id = $1 and ordinal >= 5100000", [created.id]),
      db.query("delete from document_pages where document_id = $1 and page > 50", [created.id]),
      db.query(
        "update documents set status = 'processing', pages_done = 50, chunk_count = null, token_count = null, updated_at = now() - make_interval(mins => $2) where id = $1",
        [created.id, STALLED],
      ),
    ]);

    await sweep();
    const { doc } = await waitForIngestion(owner.token, created.id);
    expect(doc).toMatchObject({ status: "ready", page_count: 120, progress: { pages_done: 120, pages_total: 120 } });
    expect(await count("select 1 from document_pages where document_id = $1", [created.id])).toBe(120);
    // Ranges 2 and 3 were embedded again; range 1 was not.
    expect(await embeddingsOf(owner.user.id)).toBe(embeddings + 2);
  });

  it("re-queues documents queued but never started, in every tenant, each under its own owner", async () => {
    const acme = await login(undefined, "acme");
    const globex = await login(undefined, "globex");
    const a = await lostUpload(acme, makeTextPdf(["Acme's lost upload about sweeping."]));
    const g = await lostUpload(globex, makeTextPdf(["Globex's lost upload about sweeping."]));

    await sweep();
    expect((await waitForIngestion(acme.token, a, { tenant: "acme" })).doc.status).toBe("ready");
    expect((await waitForIngestion(globex.token, g, { tenant: "globex" })).doc.status).toBe("ready");
    expect(await count("select 1 from chunks where document_id = $1 and tenant_id = 'acme' and user_id = $2", [a, acme.user.id])).toBeGreaterThan(0);
    expect(await count("select 1 from chunks where document_id = $1 and tenant_id = 'globex' and user_id = $2", [g, globex.user.id])).toBeGreaterThan(
      0,
    );
  });

  it("leaves an ingestion that is making progress alone", async () => {
    const owner = await login();
    const id = await lostUpload(owner, makeTextPdf(["Still moving."]), { minutesAgo: 1, storeObject: false });
    await sweep();
    expect(await row(id)).toMatchObject({ status: "queued", ingest_sweeps: 0 });
  });

  it("fails a document that never progresses as ingest_stalled after INGEST_MAX_SWEEPS re-queues", async () => {
    const owner = await login();
    // Its PDF is gone from R2, so every re-queued message ends without progress.
    const id = await lostUpload(owner, makeTextPdf(["Never progresses."]), { storeObject: false });
    for (let sweeps = 1; sweeps <= 3; sweeps++) {
      await sweep();
      expect(await row(id)).toMatchObject({ status: "queued", ingest_sweeps: sweeps });
      await sql().query("update documents set updated_at = now() - make_interval(mins => $2) where id = $1", [id, STALLED]);
    }
    await sweep();
    const doc = await json(await call(`/v1/files/${id}`, { token: owner.token }));
    expect(doc).toMatchObject({ status: "failed", error: { code: "ingest_stalled" } });
    expect(doc.error.message).toMatch(/no progress for 120 minutes after being re-queued 3 times/);
  });
});

describe("dead-letter queue", () => {
  const deadLetter = async (body: IngestMessage) => {
    const batch = createMessageBatch<IngestMessage>("docuchat-ingest-dlq", [{ id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body }]);
    const ctx = createExecutionContext();
    await worker.queue!(batch, env as never, ctx);
    return getQueueResult(batch, ctx);
  };

  it("marks the document of a dead message failed (ingest_failed), once, and leaves finished documents alone", async () => {
    const owner = await login();
    const stuck = await lostUpload(owner, makeTextPdf(["Its isolate ran out of memory."]), { minutesAgo: 1, storeObject: false });
    const message = { tenantId: "acme", userId: owner.user.id, documentId: stuck, fromPage: 1 };
    const result = await deadLetter(message);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await row(stuck)).toMatchObject({ status: "failed", error_code: "ingest_failed" });
    expect((await row(stuck)).error_message).toMatch(/dead-letter queue/);
    // Again: idempotent.
    expect((await deadLetter(message)).explicitAcks).toHaveLength(1);
    expect(await row(stuck)).toMatchObject({ status: "failed", error_code: "ingest_failed" });

    const ready = await json(await upload(owner.token, makeTextPdf(["Finished before its dead letter arrived."]), "ready.pdf"));
    expect((await waitForIngestion(owner.token, ready.id)).doc.status).toBe("ready");
    await deadLetter({ ...message, documentId: ready.id });
    expect(await row(ready.id)).toMatchObject({ status: "ready", error_code: null });
  });

  it("does not touch another tenant's document named in a message", async () => {
    const owner = await login(undefined, "globex");
    const id = await lostUpload(owner, makeTextPdf(["Globex's document."]), { minutesAgo: 1, storeObject: false });
    await deadLetter({ tenantId: "acme", userId: owner.user.id, documentId: id, fromPage: 1 });
    expect(await row(id)).toMatchObject({ status: "queued" });
  });
});

describe("re-upload", () => {
  it("restarts a stalled document instead of returning it", async () => {
    const owner = await login();
    const bytes = makeTextPdf(["This upload's message was lost in a restart."]);
    const id = await lostUpload(owner, bytes);
    const res = await upload(owner.token, bytes, "again.pdf");
    expect(res.status).toBe(202);
    expect((await json(res)).id).toBe(id);
    expect((await waitForIngestion(owner.token, id)).doc.status).toBe("ready");
  });

  it("returns a document that is still progressing as it is (200)", async () => {
    const owner = await login();
    const bytes = makeTextPdf(["Queued a minute ago."]);
    const id = await lostUpload(owner, bytes, { minutesAgo: 1, storeObject: false });
    const res = await upload(owner.token, bytes, "again.pdf");
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ id, status: "queued" });
  });
});
