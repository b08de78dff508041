// Queue consumer: turns one page range of a PDF into embedded chunks, then queues the next range.
// Splitting the work keeps every invocation far from the CPU and memory limits whatever the page count.
import { createOpenAI } from "../ai/client.ts";
import { embedTexts } from "../ai/embeddings.ts";
import { type Config, getConfig } from "../config.ts";
import { MAX_DOCUMENT_CHARS, MAX_PAGES } from "../documents/limits.ts";
import { findIngestDocument } from "../documents/repository.ts";
import type { Env } from "../env.ts";
import { recordIngest } from "../observability/events.ts";
import { createPageOcr, OcrError } from "../ocr/page-ocr.ts";
import { assetResources, openPdf, type PdfDocument } from "../pdf/open.ts";
import { createServices, type Services } from "../services/index.ts";
import { tenantSettings } from "../tenants/settings.ts";
import { BudgetExceededError, type Reservation, reserveTokens } from "../usage/budget.ts";
import { emitIngestionOutcome } from "../webhooks/emit.ts";
import { chunkPages, releaseTokenizer } from "./chunker.ts";
import { PermanentIngestError } from "./errors.ts";
import { extractPages } from "./extract.ts";
import { type IngestMessage, PAGES_PER_MESSAGE } from "./messages.ts";
import {
  type FailureCode,
  finalize,
  markBudgetStopped,
  markFailed,
  markProcessing,
  markProgress,
  rangeAlreadyStored,
  storedTextLength,
  storeRange,
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
  // Deleted meanwhile, or already finished by an earlier delivery: nothing to do.
  if (!doc || doc.status === "ready" || (doc.status === "failed" && doc.errorCode !== "ingest_failed")) return;
  const object = await env.DOCUMENTS.get(doc.r2Key);
  if (!object) return;

  const pdf = await openPdf(new Uint8Array(await object.arrayBuffer()), assetResources(env));
  try {
    const total = pdf.numPages;
    if (total > MAX_PAGES) throw new PermanentIngestError("too_many_pages", `The PDF has ${total} pages; at most ${MAX_PAGES} are accepted`);
    if (doc.status !== "processing" || doc.pagesTotal !== total) await markProcessing(db, job, total);

    const toPage = Math.min(total, job.fromPage + PAGES_PER_MESSAGE - 1);
    const charsLeft = MAX_DOCUMENT_CHARS - (await storedTextLength(db, job));
    let range: RangeResult = { chunks: 0, embeddingTokens: 0, ocrPages: 0, textLimitReached: charsLeft <= 0 };
    if (await rangeAlreadyStored(db, job, job.fromPage)) await markProgress(db, job, toPage);
    else if (!range.textLimitReached) range = await readRange(pdf, { ...job, toPage, charsLeft, ocrPagesDone: doc.ocrPages }, config, services);

    // Past the document's text limit nothing more is read: the document is finished.
    const last = toPage >= total || range.textLimitReached;
    if (!last) await env.INGEST_QUEUE.send({ ...job, fromPage: toPage + 1 });
    const final = last ? await finalize(db, job) : null;
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
    });
  } finally {
    await pdf.loadingTask.destroy();
  }
}

interface RangeResult {
  chunks: number;
  embeddingTokens: number;
  ocrPages: number;
  /** The document's text limit was reached in this range: nothing after it is read. */
  textLimitReached: boolean;
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
  const openai = createOpenAI(config);
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
        await markProgress(db, job, page);
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
    await storeRange(
      db,
      job,
      { fromPage: job.fromPage, toPage: job.toPage },
      { ...extracted, chunks, embedding: { ...embedded, model: config.EMBEDDING_MODEL } },
    );
    return {
      chunks: chunks.length,
      embeddingTokens: embedded.tokens,
      ocrPages: extracted.ocr.pages,
      textLimitReached: extracted.textLimitPage !== null,
    };
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

/** What a document stopped by its budget says: what is kept, and how to continue. */
function budgetStopMessage(err: BudgetExceededError, fromPage: number): string {
  const kept = fromPage > 1 ? `pages 1-${fromPage - 1} are stored` : "nothing was stored";
  return `${err.message}: ${kept}. Retry the document (POST /v1/files/{id}/retry, or upload it again) once budget is available to continue from page ${fromPage}`;
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
  });
}

/** Both queues' consumer: ingestion ranges, and the dead letters of ranges that never finished. */
export async function handleIngestBatch(batch: MessageBatch<IngestMessage>, env: Env): Promise<void> {
  const config = getConfig(env);
  const services = createServices(config);
  if (batch.queue === DEAD_LETTER_QUEUE) return handleDeadLetters(batch, env, services);
  // One message at a time: each holds a whole PDF in memory while it runs.
  for (const message of batch.messages) {
    const job = message.body;
    try {
      await ingestRange(job, env, config, services);
      message.ack();
    } catch (err) {
      if (err instanceof PermanentIngestError) {
        await markFailed(services.db, job, err.code, err.message);
        await emitIngestionOutcome(env, services.db, job, "document.failed");
        recordFailure(env, job, err.code);
        message.ack();
      } else if (err instanceof BudgetExceededError) {
        await markBudgetStopped(services.db, job, job.fromPage, budgetStopMessage(err, job.fromPage));
        await emitIngestionOutcome(env, services.db, job, "document.failed");
        recordFailure(env, job, "quota_exceeded");
        message.ack();
      } else if (isForeignKeyViolation(err)) {
        message.ack(); // the document was deleted while its chunks were being written
      } else {
        console.error(JSON.stringify({ msg: "ingest attempt failed", document_id: job.documentId, attempt: message.attempts, error: String(err) }));
        if (message.attempts >= INGEST_MAX_ATTEMPTS) {
          await markFailed(
            services.db,
            job,
            "ingest_failed",
            `Processing failed ${message.attempts} times (${String(err).slice(0, 200)}); the job is in the dead-letter queue`,
          ).catch(() => {});
          await emitIngestionOutcome(env, services.db, job, "document.failed");
          recordFailure(env, job, "ingest_failed");
        }
        message.retry({ delaySeconds: Math.min(60, 2 ** message.attempts) });
      }
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
