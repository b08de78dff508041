// Operators' view: one Analytics Engine data point and one JSON log line per request and per ingestion job.

import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index.ts";
import type { IngestMessage } from "../../src/ingest/messages.ts";
import { fetchWithEnv, json, login, uniqueIp, upload, waitForIngestion } from "../support/api.ts";
import { ChatClient } from "../support/chat.ts";
import { sql } from "../support/db.ts";
import { makeTextPdf } from "../support/pdf-factory.ts";

/** An Analytics Engine binding that keeps what is written to it. */
function recordingAnalytics() {
  const points: AnalyticsEngineDataPoint[] = [];
  return { points, ANALYTICS: { writeDataPoint: (p: AnalyticsEngineDataPoint) => points.push(p) } };
}

afterEach(() => vi.restoreAllMocks());

describe("per request", () => {
  it("writes a data point with the route pattern, method, status, latency and tenant, and one JSON log line", async () => {
    const logs: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void logs.push(String(line)));
    const { token } = await login();
    const { points, ANALYTICS } = recordingAnalytics();
    const res = await fetchWithEnv(
      `/v1/files/${crypto.randomUUID()}`,
      { ANALYTICS },
      {
        headers: { "X-Tenant-ID": "acme", Authorization: `Bearer ${token}`, "CF-Connecting-IP": uniqueIp() },
      },
    );
    expect(res.status).toBe(404);

    const point = points.find((p) => p.blobs?.[0] === "request")!;
    expect(point.blobs).toEqual(["request", "/v1/files/:id", "GET", "acme"]);
    expect(point.indexes).toEqual(["acme"]);
    expect(point.doubles![0]).toBe(404);
    expect(point.doubles![1]).toBeGreaterThanOrEqual(0);

    const line = logs.map((l) => JSON.parse(l)).find((l) => l.msg === "request" && l.route === "/v1/files/:id");
    expect(line).toMatchObject({ level: "info", method: "GET", status: 404, tenant: "acme", request_id: res.headers.get("X-Request-Id") });
  });

  it("labels unknown paths as unmatched, without a tenant", async () => {
    const { points, ANALYTICS } = recordingAnalytics();
    await fetchWithEnv("/nope/123", { ANALYTICS });
    expect(points[0]!.blobs).toEqual(["request", "unmatched", "GET", ""]);
  });
});

describe("per ingestion job", () => {
  it("writes a data point per page range and a final ready point with pages, chunks and tokens", async () => {
    const { token, user } = await login();
    const pages = Array.from({ length: 60 }, (_, i) => `Page ${i + 1} explains observability of queues and workers.`);
    const created = await json(await upload(token, makeTextPdf(pages), "sixty.pdf"));
    expect((await waitForIngestion(token, created.id)).doc.status).toBe("ready");

    // Ingest it again through the consumer, this time with a recording binding: ranges 1-50 and 51-60.
    await sql().query("delete from chunks where document_id = $1", [created.id]);
    await sql().query("update documents set status = 'queued', pages_done = 0 where id = $1", [created.id]);
    const { points, ANALYTICS } = recordingAnalytics();
    // Range 1 queues range 51 itself: held back here, so that the delivery below is its only one.
    const recording = { ...env, ANALYTICS, INGEST_QUEUE: { send: async () => {}, sendBatch: async () => {} } } as never;
    for (const fromPage of [1, 51]) {
      const batch = createMessageBatch<IngestMessage>("docuchat-ingest", [
        {
          id: crypto.randomUUID(),
          timestamp: new Date(),
          attempts: 1,
          body: { tenantId: "acme", userId: user.id, documentId: created.id, fromPage },
        },
      ]);
      const ctx = createExecutionContext();
      await worker.queue!(batch, recording, ctx);
      expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(1);
    }
    const ingest = points.filter((p) => p.blobs?.[0] === "ingest");
    expect(ingest.map((p) => p.blobs)).toEqual([
      ["ingest", "range_done", "", "acme"],
      ["ingest", "ready", "", "acme"],
    ]);
    const [first, last] = ingest as [AnalyticsEngineDataPoint, AnalyticsEngineDataPoint];
    expect(first.doubles![1]).toBe(50); // pages
    expect(last.doubles![1]).toBe(10);
    for (const p of ingest) {
      expect(p.doubles![0]).toBeGreaterThanOrEqual(0); // duration
      expect(p.doubles![2]).toBeGreaterThan(0); // chunks
      expect(p.doubles![3]).toBeGreaterThan(0); // embedding tokens
      expect(p.doubles![4]).toBe(0); // OCR pages: the text layer was enough
      expect(p.doubles![5]).toBeGreaterThan(0); // bytes read from R2
    }
  });

  it("writes a failed point when the last attempt of a range that keeps failing marks the document ingest_failed", async () => {
    const marker = `observed${crypto.randomUUID().replace(/-/g, "")}`;
    await fetch(new URL("/__faults", env.OPENAI_BASE_URL), {
      method: "POST",
      body: JSON.stringify({ match: marker, endpoint: "embeddings", status: 500, times: 100 }),
    });
    const { token, user } = await login();
    const created = await json(await upload(token, makeTextPdf([`The ${marker} embedding service is down.`]), "down.pdf"));
    const { points, ANALYTICS } = recordingAnalytics();
    // The real queue retries this document meanwhile; play the final attempt (attempts = 5) ourselves.
    const batch = createMessageBatch<IngestMessage>("docuchat-ingest", [
      {
        id: crypto.randomUUID(),
        timestamp: new Date(),
        attempts: 5,
        body: { tenantId: "acme", userId: user.id, documentId: created.id, fromPage: 1 },
      },
    ]);
    const ctx = createExecutionContext();
    await worker.queue!(batch, { ...env, ANALYTICS } as never, ctx);
    expect((await getQueueResult(batch, ctx)).retryMessages).toHaveLength(1); // on to the dead-letter queue
    const ingest = points.filter((p) => p.blobs?.[0] === "ingest");
    expect(ingest.map((p) => p.blobs)).toEqual([["ingest", "failed", "ingest_failed", "acme"]]);
    expect(ingest[0]!.doubles).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe("request ids in job logs", () => {
  it("logs every ingestion step with the request id of the upload that started it", async () => {
    const logs: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void logs.push(String(line)));
    const { token } = await login();
    const res = await upload(token, makeTextPdf(["Traceable ingestion for operators."]), "traced.pdf");
    const created = await json(res);
    expect((await waitForIngestion(token, created.id)).doc.status).toBe("ready");
    const lines = logs.map((l) => JSON.parse(l)).filter((l) => l.msg === "ingest" && l.document_id === created.id);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.request_id).toBe(res.headers.get("X-Request-Id"));
  });
});

describe("per chat answer", () => {
  it("writes a data point with status, model, first-delta time, duration, tokens and sources", async () => {
    const { token } = await login();
    const created = await json(await upload(token, makeTextPdf(["Lighthouses guide ships along dangerous coasts at night."]), "coast.pdf"));
    expect((await waitForIngestion(token, created.id)).doc.status).toBe("ready");
    const chat = await ChatClient.open({ token });
    const points: AnalyticsEngineDataPoint[] = [];
    const ns = env.CHAT_SESSIONS as DurableObjectNamespace;
    await runInDurableObject(ns.get(ns.idFromName(chat.sessionId)), (instance: unknown) => {
      const o = instance as { env: Record<string, unknown> };
      o.env = { ...o.env, ANALYTICS: { writeDataPoint: (p: AnalyticsEngineDataPoint) => points.push(p) } };
    });

    const logs: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void logs.push(String(line)));
    const answer = await chat.ask("What guides ships along dangerous coasts?");
    const line = logs.map((l) => JSON.parse(l)).find((l) => l.msg === "chat" && l.session_id === chat.sessionId);
    expect(line).toMatchObject({ status: "complete", request_id: chat.response.headers.get("X-Request-Id") });
    expect(answer.done?.status).toBe("complete");
    const point = points.find((p) => p.blobs?.[0] === "chat")!;
    expect(point.blobs).toEqual(["chat", "complete", "gpt-4o-mini", "acme"]);
    const [firstDelta, duration, prompt, completion, sources] = point.doubles!;
    expect(firstDelta).toBeGreaterThanOrEqual(0);
    expect(duration).toBeGreaterThanOrEqual(firstDelta!);
    expect(prompt).toBe(answer.done!.usage.prompt_tokens);
    expect(completion).toBe(answer.done!.usage.completion_tokens);
    expect(sources).toBe(answer.citations!.length);
  });
});
