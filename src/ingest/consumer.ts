// Queue consumer: turns one page range of a PDF into embedded chunks. The first range's message queues all the
// others at once, so they run side by side; the range that completes the set finalises the document. Splitting the
// work keeps every invocation far from the CPU and memory limits whatever the page count.
import { embedTexts } from "../ai/embeddings.ts";
import { type Config, getConfig } from "../config.ts";
import { MAX_DOCUMENT_CHARS, MAX_PAGES } from "../documents/limits.ts";
import { findIngestDocument } from "../documents/repository.ts";
import type { Env } from "../env.ts";
import { recordIngest } from "../observability/events.ts";
import { createPageOcr, OcrError } from "../ocr/page-ocr.ts";
import { assetResources, openGuardedPdf, openPdfRanges, type PdfDocument } from "../pdf/open.ts";
import { openR2Ranges } from "../pdf/r2-range-source.ts";
import { type Services, servicesFor } from "../services/index.ts";
import { tenantSettings } from "../tenants/settings.ts";
import { BudgetExceededError, type Reservation, reserveTokens } from "../usage/budget.ts";
import { emitIngestionOutcome } from "../webhooks/emit.ts";
import { chunkPages, releaseTokenizer } from "./chunker.ts";
import { PermanentIngestError } from "./errors.ts";
import { extractPages } from "./extract.ts";
import { type IngestMessage, rangeEnd, rangeStarts } from "./messages.ts";
import {
  type FailureCode,
  finalize,
  markAlive,
  markBudgetStopped,
  markFailed,
  type RangeOutput,
  startIngestion,
  storedTextLength,
  storeRange,
  unstartIngestion,
} from "./store.ts";

/** wrangler.toml max_retries + 1: the last attempt marks the document failed before the message goes to the DLQ. */
export const INGEST_MAX_ATTEMPTS = 5;
/** wrangler.toml: where a message goes after its last attempt, and the queue handleDeadLetters consumes. */
export const DEAD_LETTER_QUEUE = "docuchat-ingest-dlq";
const PROGRESS_EVERY_PAGES = 10;
/** OCR takes seconds a page: progress is also written when this long has passed since the last write. */
const PROGRESS_EVERY_MS = 2_000;
/** Reserved before each OCR call: a 1600-px page is about 2,500 prompt tokens with gpt-4.1-mini, plus its text. */
const OCR_PAGE_TOKENS = 3_000;

async function ingestRange(job: IngestMessage, env: Env, config: Config, services: Services): Promise<void> {
  const started = performance.now();
  const { db } = services;
  const doc = await findIngestDocument(db, job.tenantId, job.documentId);
  // Deleted meanwhile, finished, or failed: a failure ends every range (a retry queues the missing ones again).
  if (!doc || doc.status === "ready" || doc.status === "failed") return;
  const opened = await openDocument(env, doc.r2Key, job);
  if (!opened) return;

  const { pdf } = opened;
  try {
    const total = pdf.numPages;
    if (total > MAX_PAGES) throw new PermanentIngestError("too_many_pages", `The PDF has ${total} pages; at most ${MAX_PAGES} are accepted`);
    let rangesDone = doc.rangesDone;
    if (job.fromPage === 1) {
      const stored = await startIngestion(db, job, total);
      if (stored) {
        rangesDone = stored;
        await queueMissingRanges(env, db, job, total, stored, opened.rangeReadsEtag);
      }
    }

    const toPage = rangeEnd(job.fromPage, total);
    let range: RangeResult = { chunks: 0, embeddingTokens: 0, ocrPages: 0, complete: false };
    if (rangesDone.includes(job.fromPage)) range.complete = rangeStarts(total).every((from) => rangesDone.includes(from));
    else {
      // The text limit counts what the ranges stored so far hold: ranges side by side may together pass it by at
      // most what they read at once (README "Ingestion"); past it a range stores nothing but its place.
      const charsLeft = MAX_DOCUMENT_CHARS - (await storedTextLength(db, job));
      const rangeJob = { ...job, toPage, charsLeft, ocrPagesDone: doc.ocrPages };
      range =
        charsLeft > 0
          ? await Promise.race([opened.failed, readRange(pdf, rangeJob, config, services)])
          : { ...range, complete: await storeRange(services, job, rangeJob, NOTHING) };
    }

    const final = range.complete ? await finalize(db, job) : null;
    if (final) await emitIngestionOutcome(env, db, job, `document.${final.status}`);
    const status = final?.status ?? "range_done";
    recordIngest(env, {
      requestId: job.requestId ?? null,
      tenant: job.tenantId,
      documentId: job.documentId,
      fromPage: job.fromPage,
      toPage,
      status,
      errorCode: final?.errorCode ?? null,
      durationMs: Math.round(performance.now() - started),
      pages: toPage - job.fromPage + 1,
      chunks: range.chunks,
      embeddingTokens: range.embeddingTokens,
      ocrPages: range.ocrPages,
      bytesRead: opened.bytesRead(),
    });
  } finally {
    await pdf.loadingTask.destroy();
  }
}

interface OpenedDocument {
  pdf: PdfDocument;
  bytesRead: () => number;
  /** The object's etag when the whole file was read and the guard defused nothing in it: the ranges it queues may read by ranges. */
  rangeReadsEtag: string | null;
  /** Rejects when a read by ranges fails (pdf.js would wait for the bytes forever); the work races it. */
  failed: Promise<never>;
}

const NEVER = new Promise<never>(() => {});

/**
 * Opens the range's PDF: only the byte ranges pdf.js asks for when the first range vouched for this very object
 * (IngestMessage.rangeReadsEtag), else the whole file, guarded (src/pdf/stream-limits.ts). Null when it is gone.
 */
async function openDocument(env: Env, key: string, job: IngestMessage): Promise<OpenedDocument | null> {
  const resources = assetResources(env);
  const ranges = job.rangeReadsEtag ? await openR2Ranges(env.DOCUMENTS, key, job.rangeReadsEtag) : null;
  if (ranges) {
    const pdf = await Promise.race([ranges.failed, openPdfRanges(ranges, resources)]);
    return { pdf, bytesRead: () => ranges.bytesRead, rangeReadsEtag: null, failed: ranges.failed };
  }
  const object = await env.DOCUMENTS.get(key);
  if (!object) return null;
  const { pdf, defused } = await openGuardedPdf(new Uint8Array(await object.arrayBuffer()), resources);
  return { pdf, bytesRead: () => object.size, rangeReadsEtag: defused ? null : object.etag, failed: NEVER };
}

/** At most this many messages go in one sendBatch call (a Queues limit). */
const SEND_BATCH_MAX = 100;

/**
 * The first message queues every range not stored yet at once, so that they run side by side. If the queue
 * refuses, the document goes back to queued, and this message's retry (or the sweeper) starts it again.
 */
async function queueMissingRanges(
  env: Env,
  db: Services["db"],
  job: IngestMessage,
  total: number,
  stored: number[],
  rangeReadsEtag: string | null,
): Promise<void> {
  const missing = rangeStarts(total).filter((from) => from !== 1 && !stored.includes(from));
  try {
    for (let i = 0; i < missing.length; i += SEND_BATCH_MAX)
      await env.INGEST_QUEUE.sendBatch(
        missing.slice(i, i + SEND_BATCH_MAX).map((fromPage) => ({ body: { ...job, fromPage, ...(rangeReadsEtag && { rangeReadsEtag }) } })),
      );
  } catch (err) {
    await unstartIngestion(db, job);
    throw err;
  }
}

/** What a range past the document's text limit stores: nothing but its place among the ranges done. */
const NOTHING: RangeOutput = {
  pages: [],
  warnings: [],
  chunks: [],
  embedding: { vectors: [], tokens: 0, model: "" },
  ocr: { pages: 0, promptTokens: 0, completionTokens: 0, model: null },
};

interface RangeResult {
  chunks: number;
  embeddingTokens: number;
  ocrPages: number;
  /** Every range of the document is stored now: it is to be finalised. */
  complete: boolean;
}

interface RangeJob extends IngestMessage {
  toPage: number;
  /** Characters the document may still index (MAX_DOCUMENT_CHARS minus what its stored pages hold). */
  charsLeft: number;
  ocrPagesDone: number;
}

/** Reads pages fromPage..toPage, embeds their chunks within the daily budget, and stores it all in one transaction. */
async function readRange(pdf: PdfDocument, job: RangeJob, config: Config, services: Services): Promise<RangeResult> {
  const { db } = services;
  const owner = { tenantId: job.tenantId, userId: job.userId };
  const { openai } = services;
  // Reservations stay outstanding until storeRange has written the usage they stand for.
  const reservations: Reservation[] = [];
  try {
    let progressAt = Date.now();
    // OCR on/off and its page limit are the tenant's (never on when the deployment's OCR_MODEL is "off").
    const ocrSettings = await tenantSettings(db, config, job.tenantId);
    const extracted = await extractPages(pdf, job.fromPage, job.toPage, {
      ocr: ocrSettings.ocr_enabled
        ? createPageOcr(openai, config.OCR_MODEL, async () => void reservations.push(await reserveOcrPage(services, config, owner)))
        : null,
      ocrPagesLeft: ocrSettings.ocr_max_pages_per_document - job.ocrPagesDone,
      charsLeft: job.charsLeft,
      onProgress: async (page) => {
        if (page >= job.toPage || (page % PROGRESS_EVERY_PAGES !== 0 && Date.now() - progressAt < PROGRESS_EVERY_MS)) return;
        progressAt = Date.now();
        await markAlive(db, job);
      },
    });
    const chunks = chunkPages(extracted.pages);
    releaseTokenizer();
    let embedded = { vectors: [] as number[][], tokens: 0 };
    if (chunks.length) {
      // The range's embedding cost is known exactly now: the budget must cover it before the model is called
      // (BudgetExceededError stops the document here, keeping the ranges before it).
      reservations.push(
        await reserveTokens(
          services,
          config,
          owner,
          chunks.reduce((n, c) => n + c.tokenCount, 0),
        ),
      );
      embedded = await embedTexts(
        openai,
        config.EMBEDDING_MODEL,
        chunks.map((c) => c.text),
      );
    }
    const complete = await storeRange(services, job, job, { ...extracted, chunks, embedding: { ...embedded, model: config.EMBEDDING_MODEL } });
    return { chunks: chunks.length, embeddingTokens: embedded.tokens, ocrPages: extracted.ocr.pages, complete };
  } finally {
    await Promise.all(reservations.map((r) => r.settle()));
  }
}

/** OCR tokens count against the daily budgets: each page's call is reserved first, or becomes an ocr_budget warning. */
async function reserveOcrPage(services: Services, config: Config, owner: { tenantId: string; userId: string }): Promise<Reservation> {
  try {
    return await reserveTokens(services, config, owner, OCR_PAGE_TOKENS);
  } catch (err) {
    if (err instanceof BudgetExceededError) throw new OcrError("ocr_budget", err.message, false);
    throw err;
  }
}

const isForeignKeyViolation = (err: unknown) => (err as { code?: string }).code === "23503";

/** The data point of a range that ended its document as failed. */
export function recordFailure(env: Env, job: IngestMessage, errorCode: FailureCode): void {
  recordIngest(env, {
    requestId: job.requestId ?? null,
    tenant: job.tenantId,
    documentId: job.documentId,
    fromPage: job.fromPage,
    toPage: job.fromPage,
    status: "failed",
    errorCode,
    durationMs: 0,
    pages: 0,
    chunks: 0,
    embeddingTokens: 0,
    ocrPages: 0,
    bytesRead: 0,
  });
}

/** Both queues' consumer: ingestion ranges, and the dead letters of ranges that never finished. */
export async function handleIngestBatch(batch: MessageBatch<IngestMessage>, env: Env): Promise<void> {
  const config = getConfig(env);
  const services = servicesFor(config);
  if (batch.queue === DEAD_LETTER_QUEUE) return handleDeadLetters(batch, env, services);
  // One range a batch (wrangler.toml): a document's ranges run side by side in separate invocations.
  for (const message of batch.messages) await handleRangeMessage(message, env, config, services);
}

async function handleRangeMessage(message: Message<IngestMessage>, env: Env, config: Config, services: Services): Promise<void> {
  const job = message.body;
  try {
    await ingestRange(job, env, config, services);
    message.ack();
  } catch (err) {
    // Ranges side by side may all fail the same way: the one that ends the document tells its outcome.
    if (err instanceof PermanentIngestError) {
      if (await markFailed(services.db, job, err.code, err.message)) {
        await emitIngestionOutcome(env, services.db, job, "document.failed");
        recordFailure(env, job, err.code);
      }
      message.ack();
    } else if (err instanceof BudgetExceededError) {
      if (await markBudgetStopped(services.db, job, err.message)) {
        await emitIngestionOutcome(env, services.db, job, "document.failed");
        recordFailure(env, job, "quota_exceeded");
      }
      message.ack();
    } else if (isForeignKeyViolation(err)) {
      message.ack(); // the document was deleted while its chunks were being written
    } else {
      console.error(JSON.stringify({ msg: "ingest attempt failed", document_id: job.documentId, attempt: message.attempts, error: String(err) }));
      if (message.attempts >= INGEST_MAX_ATTEMPTS) {
        const ended = await markFailed(
          services.db,
          job,
          "ingest_failed",
          `Processing failed ${message.attempts} times (${String(err).slice(0, 200)}); the job is in the dead-letter queue`,
        ).catch(() => false);
        if (ended) {
          await emitIngestionOutcome(env, services.db, job, "document.failed");
          recordFailure(env, job, "ingest_failed");
        }
      }
      message.retry({ delaySeconds: Math.min(60, 2 ** message.attempts) });
    }
  }
}

/**
 * A message reaches the dead-letter queue after its last attempt. When that attempt's isolate died (memory, CPU)
 * nothing marked its document: this does, unless it finished or failed meanwhile.
 */
async function handleDeadLetters(batch: MessageBatch<IngestMessage>, env: Env, services: Services): Promise<void> {
  for (const message of batch.messages) {
    const job = message.body;
    try {
      const reason = `Processing of pages from ${job.fromPage} stopped without finishing ${INGEST_MAX_ATTEMPTS} times (the job is in the dead-letter queue); retry the document or upload it again`;
      if (await markFailed(services.db, job, "ingest_failed", reason, "in_flight")) {
        recordFailure(env, job, "ingest_failed");
        await emitIngestionOutcome(env, services.db, job, "document.failed");
      }
      message.ack();
    } catch (err) {
      console.error(JSON.stringify({ msg: "dead letter not handled", document_id: job.documentId, error: String(err) }));
      message.retry();
    }
  }
}
