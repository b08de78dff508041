// Ranges after the first read only the byte ranges pdf.js asks for, from the object the first range read whole and
// found nothing to defuse in; otherwise they read the whole file, as every range did before. The test plays the
// queue, as ingest-ranges.test.ts does, and reads each range's bytes_read from its ingest data point.

import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import type { IngestMessage } from "../../src/ingest/messages.ts";
import { fixturePdf, login } from "../support/api.ts";
import { sql } from "../support/db.ts";
import { makeCompressedTextPdf, makeIllustratedTextPdf } from "../support/pdf-factory.ts";
import { storedDocument } from "../support/stored-document.ts";

type Login = Awaited<ReturnType<typeof login>>;

interface RangePoint {
  fromPage: number;
  status: string;
  bytesRead: number;
}

/** One batch through the consumer, with what it queues and its ingest data points recorded instead of sent. */
async function deliver(messages: IngestMessage[]) {
  const queued: IngestMessage[] = [];
  const points: Array<Omit<RangePoint, "fromPage">> = [];
  const recording = {
    ...env,
    INGEST_QUEUE: { sendBatch: async (batch: Array<{ body: IngestMessage }>) => void queued.push(...batch.map((m) => m.body)) },
    ANALYTICS: {
      writeDataPoint: (p: AnalyticsEngineDataPoint) =>
        void (p.blobs?.[0] === "ingest" && points.push({ status: String(p.blobs[1]), bytesRead: Number(p.doubles?.[5]) })),
    },
  };
  const batch = createMessageBatch<IngestMessage>(
    "docuchat-ingest",
    messages.map((body) => ({ id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue!(batch, recording as never, ctx);
  const result = await getQueueResult(batch, ctx);
  expect(result.explicitAcks).toHaveLength(messages.length);
  // One range a batch here, so each data point is its message's.
  return { queued, points: points.map((p, i) => ({ ...p, fromPage: messages[i]!.fromPage })) };
}

/** Range 1, then the ranges it queued one by one (as Miniflare runs them); `edit` changes what was queued first. */
async function ingest(
  owner: Login,
  bytes: Uint8Array,
  edit: (queued: IngestMessage[], key: string) => Promise<IngestMessage[]> | IngestMessage[] = (q) => q,
) {
  const { id, key } = await storedDocument(owner, bytes, "range-reads.pdf");
  const first = await deliver([{ tenantId: "acme", userId: owner.user.id, documentId: id, fromPage: 1 }]);
  const rest = await edit(first.queued, key);
  const points = [...first.points];
  for (const message of rest) points.push(...(await deliver([message])).points);
  return { id, key, queued: first.queued, points };
}

const chunksOf = async (id: string) =>
  sql().query("select ordinal, text, page_start, page_end, token_count from chunks where document_id = $1 order by ordinal", [id]);

const statusOf = async (id: string) => ((await sql().query("select status from documents where id = $1", [id]))[0] as { status: string }).status;

describe("range reads for the ranges after the first", () => {
  it("store exactly the chunks of whole-file reads", async () => {
    // 147 pages, Persian and English, embedded fonts: ranges 1, 51, 101. Under RANGE_CHUNK_BYTES, so pdf.js gets it in
    // the first read, but parses it as a range-read document; the next test has ranges read by requests.
    const bytes = fixturePdf("lshort-fa.pdf");
    const byRanges = await ingest(await login(), bytes);
    const { etag } = (await env.DOCUMENTS.head(byRanges.key))!;
    expect(byRanges.queued.map((m) => [m.fromPage, m.rangeReadsEtag])).toEqual([
      [51, etag],
      [101, etag],
    ]);
    // The same bytes through messages without the field (as queued before it existed): every range reads it whole.
    const whole = await ingest(await login(), bytes, (queued) => queued.map(({ rangeReadsEtag: _, ...m }) => m));
    expect(whole.points.map((p) => p.bytesRead)).toEqual([bytes.length, bytes.length, bytes.length]);

    expect(await statusOf(byRanges.id)).toBe("ready");
    expect(await statusOf(whole.id)).toBe("ready");
    const chunks = await chunksOf(byRanges.id);
    expect(chunks.length).toBeGreaterThan(300);
    expect(chunks).toEqual(await chunksOf(whole.id));
  }, 120_000);

  it("read only what their pages need: later ranges read a fraction of the file, for the same chunks", async () => {
    const texts = Array.from({ length: 120 }, (_, i) => `Page ${i + 1} of the illustrated field report. ${"Measured values follow. ".repeat(12)}`);
    const bytes = makeIllustratedTextPdf(texts, 128 * 1024); // 120 pages, 15.8 MB, mostly images
    const byRanges = await ingest(await login(), bytes);
    expect(await statusOf(byRanges.id)).toBe("ready");
    expect(byRanges.points.map((p) => p.fromPage)).toEqual([1, 51, 101]);
    expect(byRanges.points[0]!.bytesRead).toBe(bytes.length);
    // Pages 51-100 and 101-120 with their images, and the cross-reference table: not the pages before them.
    expect(byRanges.points[1]!.bytesRead).toBeLessThan(bytes.length * 0.7);
    expect(byRanges.points[2]!.bytesRead).toBeLessThan(bytes.length * 0.4);

    const whole = await ingest(await login(), bytes, (queued) => queued.map(({ rangeReadsEtag: _, ...m }) => m));
    expect(whole.points.map((p) => p.bytesRead)).toEqual([bytes.length, bytes.length, bytes.length]);
    const chunks = await chunksOf(byRanges.id);
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(chunks).toEqual(await chunksOf(whole.id));
    const pages = (await sql().query("select page, text from document_pages where document_id = $1 order by page", [byRanges.id])) as Array<{
      page: number;
      text: string;
    }>;
    expect(pages.map((p) => p.page)).toEqual(texts.map((_, i) => i + 1));
    for (const p of pages) expect(p.text).toContain(`Page ${p.page} of the illustrated field report.`);
  }, 60_000);

  it("read the whole file for every range of a PDF whose guard defused a stream", async () => {
    const owner = await login();
    // 60 pages drawing one content stream that inflates past MAX_PAGE_CONTENT_BYTES (32 MiB): it is defused.
    const bytes = await makeCompressedTextPdf(33 * 2 ** 20, { pages: 60 });
    const { queued, points } = await ingest(owner, bytes);
    expect(queued).toEqual([expect.not.objectContaining({ rangeReadsEtag: expect.anything() })]);
    expect(points.map((p) => [p.fromPage, p.bytesRead])).toEqual([
      [1, bytes.length],
      [51, bytes.length],
    ]);
  }, 60_000);

  it("read the whole file when the object under the key was replaced after the first range", async () => {
    // Larger than a few range reads, so that reading the replacement by ranges would show in bytes_read.
    const edition = (label: string) =>
      makeIllustratedTextPdf(
        Array.from({ length: 60 }, (_, i) => `Page ${i + 1} of the ${label} edition of the range report. ${"Figures follow. ".repeat(16)}`),
        64 * 1024,
      );
    const replacement = edition("second");
    const { id, queued, points } = await ingest(await login(), edition("first"), async (queued, key) => {
      await env.DOCUMENTS.put(key, replacement);
      return queued;
    });
    expect(queued).toEqual([expect.objectContaining({ rangeReadsEtag: expect.any(String) })]);
    expect(points[1]).toEqual({ fromPage: 51, status: "ready", bytesRead: replacement.length });
    const [last] = await sql().query("select text from document_pages where document_id = $1 and page = 60", [id]);
    expect((last as { text: string }).text).toContain("second edition");
  }, 60_000);
});
