// The queue consumer itself: redelivery, crash recovery, upstream faults, retries, and deletion.

import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { objectKey } from "../../src/documents/repository.ts";
import worker from "../../src/index.ts";
import type { IngestMessage } from "../../src/ingest/messages.ts";
import { call, json, login, search, upload, uploadReady } from "../support/api.ts";
import { count, sql } from "../support/db.ts";
import { makeTextPdf } from "../support/pdf-factory.ts";

const faults = (init?: RequestInit) => fetch(new URL("/__faults", env.OPENAI_BASE_URL), init);

async function readyDocument(text: string[]) {
  const login_ = await login();
  const doc = await uploadReady(login_.token, makeTextPdf(text), "doc.pdf");
  return { ...login_, doc };
}

async function deliver(message: IngestMessage, attempts = 1) {
  const batch = createMessageBatch<IngestMessage>("docuchat-ingest", [{ id: crypto.randomUUID(), timestamp: new Date(), attempts, body: message }]);
  const ctx = createExecutionContext();
  await worker.queue!(batch, env as never, ctx);
  return getQueueResult(batch, ctx);
}

const chunksOf = (documentId: string) => count("select 1 from chunks where document_id = $1", [documentId]);
const usageOf = (userId: string) => count("select 1 from usage_events where user_id = $1 and kind = 'embedding'", [userId]);

describe("ingestion queue", () => {
  it("does not duplicate chunks or usage when a message is delivered again", async () => {
    const { user, doc } = await readyDocument(["Redelivery must be harmless.", "A second page about idempotency."]);
    const [chunks, usage] = [await chunksOf(doc.id), await usageOf(user.id)];
    expect(chunks).toBeGreaterThan(0);

    const result = await deliver({ tenantId: "acme", userId: user.id, documentId: doc.id, fromPage: 1 });
    expect(result.explicitAcks).toHaveLength(1);
    expect(await chunksOf(doc.id)).toBe(chunks);
    expect(await usageOf(user.id)).toBe(usage);
  });

  it("keeps a half-processed document invisible to search, then completes it on redelivery", async () => {
    const { token, user, doc } = await readyDocument(["Photosynthesis turns light into chemical energy in chloroplasts."]);
    // As after a crash between writing the chunks and finishing the document.
    await sql().query("update documents set status = 'processing' where id = $1", [doc.id]);
    expect(await search(token, { query: "photosynthesis chloroplasts" })).toEqual([]);

    await deliver({ tenantId: "acme", userId: user.id, documentId: doc.id, fromPage: 1 });
    expect((await json(await call(`/v1/files/${doc.id}`, { token }))).status).toBe("ready");
    expect((await search(token, { query: "photosynthesis chloroplasts" }))[0]?.file_id).toBe(doc.id);
  });

  it("retries embedding calls that get 429 from the model API, and still finishes", async () => {
    const marker = `ratelimited${crypto.randomUUID().replace(/-/g, "")}`;
    const rule = await (
      await faults({ method: "POST", body: JSON.stringify({ match: marker, endpoint: "embeddings", status: 429, times: 2, retry_after_ms: 10 }) })
    ).json<{ id: string }>();
    const { doc } = await readyDocument([`The ${marker} document survives rate limits.`]);
    expect(doc.id).toBeDefined();
    // Both injected 429s were served (a used-up rule is dropped), and the SDK's retries got through.
    const { faults: rules } = await (await faults()).json<{ faults: Array<{ id: string }> }>();
    expect(rules.find((r) => r.id === rule.id)).toBeUndefined();
  });

  it("retries a failing range and marks the document failed (ingest_failed) on the last attempt", async () => {
    const marker = `broken${crypto.randomUUID().replace(/-/g, "")}`;
    await faults({ method: "POST", body: JSON.stringify({ match: marker, endpoint: "embeddings", status: 500, times: 100 }) });
    const { token, user } = await login();
    const pdf = makeTextPdf([`The ${marker} model is down.`]);
    const created = await json(await upload(token, pdf, "down.pdf"));
    // Let the real queue try (it will retry with backoff), then play the final attempt ourselves.
    const message = { tenantId: "acme", userId: user.id, documentId: created.id, fromPage: 1 };
    const early = await deliver(message, 1);
    expect(early.retryMessages).toHaveLength(1);
    const last = await deliver(message, 5);
    expect(last.retryMessages).toHaveLength(1); // on to the dead-letter queue
    const doc = await json(await call(`/v1/files/${created.id}`, { token }));
    expect(doc.status).toBe("failed");
    expect(doc.error.code).toBe("ingest_failed");
  });

  it("keeps no chunks or pages of earlier ranges when a later range fails for good", async () => {
    const marker = `laterange${crypto.randomUUID().replace(/-/g, "")}`;
    await faults({ method: "POST", body: JSON.stringify({ match: marker, endpoint: "embeddings", status: 500, times: 1000 }) });
    const { token, user } = await login();
    // Pages 1-50 embed fine; page 55 (second range) always fails to embed.
    const pages = Array.from({ length: 60 }, (_, i) => (i === 54 ? `The ${marker} page cannot be embedded.` : `Page ${i + 1} about range failures.`));
    const created = await json(await upload(token, makeTextPdf(pages), "late.pdf"));
    const pagesOf = () => count("select 1 from document_pages where document_id = $1", [created.id]);
    const deadline = Date.now() + 30_000;
    while ((await chunksOf(created.id)) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await chunksOf(created.id)).toBeGreaterThan(0);
    expect(await pagesOf()).toBe(50);

    await deliver({ tenantId: "acme", userId: user.id, documentId: created.id, fromPage: 51 }, 5);
    const doc = await json(await call(`/v1/files/${created.id}`, { token }));
    expect(doc).toMatchObject({ status: "failed", error: { code: "ingest_failed" }, chunk_count: 0 });
    expect(await chunksOf(created.id)).toBe(0);
    expect(await pagesOf()).toBe(0);
  });
});

describe("delete", () => {
  it("removes the document, its chunks, embeddings and the R2 object", async () => {
    const { token, user, doc } = await readyDocument(["Everything about this page must disappear."]);
    const key = objectKey({ tenantId: "acme", userId: user.id }, doc.id);
    expect(await env.DOCUMENTS.head(key)).not.toBeNull();
    expect(await chunksOf(doc.id)).toBeGreaterThan(0);

    expect((await call(`/v1/files/${doc.id}`, { method: "DELETE", token })).status).toBe(204);
    expect(await env.DOCUMENTS.head(key)).toBeNull();
    expect(await chunksOf(doc.id)).toBe(0);
    expect(await count("select 1 from documents where id = $1", [doc.id])).toBe(0);
    expect((await call(`/v1/files/${doc.id}`, { token })).status).toBe(404);
    expect((await call(`/v1/files/${doc.id}`, { method: "DELETE", token })).status).toBe(404);
  });

  it("leaves nothing behind when a document is deleted while it is being ingested", async () => {
    const { token } = await login();
    const pages = Array.from({ length: 120 }, (_, i) => `Page ${i + 1} of a long report about deletion races.`);
    const created = await json(await upload(token, makeTextPdf(pages), "long.pdf"));
    expect((await call(`/v1/files/${created.id}`, { method: "DELETE", token })).status).toBe(204);
    await new Promise((r) => setTimeout(r, 3000)); // let any in-flight range finish
    expect(await chunksOf(created.id)).toBe(0);
    expect(
      (
        await exports.default.fetch(
          new Request(`http://docuchat.test/v1/files/${created.id}`, { headers: { "X-Tenant-ID": "acme", Authorization: `Bearer ${token}` } }),
        )
      ).status,
    ).toBe(404);
  });
});
