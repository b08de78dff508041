// Queue consumer: turns one page range of a PDF into embedded chunks, then queues the next range.
// Splitting the work keeps every invocation far from the CPU and memory limits whatever the page count.
import { createOpenAI } from "../ai/client.ts";
import { embedTexts } from "../ai/embeddings.ts";
import { type Config, getConfig } from "../config.ts";
import { MAX_PAGES } from "../documents/limits.ts";
import { findDocument } from "../documents/repository.ts";
import type { Env } from "../env.ts";
import { recordIngest } from "../observability/events.ts";
import { createServices, type Services } from "../services/index.ts";
import { chunkPages, releaseTokenizer } from "./chunker.ts";
import { PermanentIngestError } from "./errors.ts";
import { extractPages } from "./extract.ts";
import { assetResources, openPdf } from "../pdf/open.ts";
import { createPageOcr, OcrError } from "../ocr/page-ocr.ts";
import { quotaMessage, quotaState } from "../usage/quota.ts";
import type { IngestMessage } from "./messages.ts";
import { finalize, markFailed, markProcessing, markProgress, rangeAlreadyStored, storeRange } from "./store.ts";

export const PAGES_PER_MESSAGE = 50;
/** wrangler.toml max_retries + 1: the last attempt marks the document failed before the message goes to the DLQ. */
export const INGEST_MAX_ATTEMPTS = 5;
const PROGRESS_EVERY_PAGES = 10;
/** OCR takes seconds a page: progress is also written when this long has passed since the last write. */
const PROGRESS_EVERY_MS = 2_000;

async function ingestRange(job: IngestMessage, env: Env, config: Config, services: Services): Promise<void> {
  const started = performance.now();
  const { db } = services;
  const owner = { tenantId: job.tenantId, userId: job.userId };
  const doc = await findDocument(db, owner, job.documentId);
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
    let chunkCount = 0;
    let embeddingTokens = 0;
    let ocrPages = 0;
    if (await rangeAlreadyStored(db, job, job.fromPage)) {
      await markProgress(db, job, toPage);
    } else {
      const openai = createOpenAI(config);
      let progressAt = Date.now();
      const extracted = await extractPages(pdf, job.fromPage, toPage, {
        ocr: config.OCR_MODEL === "off" ? null : createPageOcr(openai, config.OCR_MODEL, () => ensureBudget(db, config, owner)),
        ocrPagesLeft: config.OCR_MAX_PAGES_PER_DOCUMENT - doc.ocrPages,
        onProgress: async (page) => {
          if (page >= toPage || (page % PROGRESS_EVERY_PAGES !== 0 && Date.now() - progressAt < PROGRESS_EVERY_MS)) return;
          progressAt = Date.now();
          await markProgress(db, job, page);
        },
      });
      const chunks = chunkPages(extracted.pages);
      releaseTokenizer();
      const embedded = chunks.length ? await embedTexts(openai, config.EMBEDDING_MODEL, chunks.map((c) => c.text)) : { vectors: [], tokens: 0 };
      await storeRange(db, job, { fromPage: job.fromPage, toPage }, { ...extracted, chunks, embedding: { ...embedded, model: config.EMBEDDING_MODEL } });
      chunkCount = chunks.length;
      embeddingTokens = embedded.tokens;
      ocrPages = extracted.ocr.pages;
    }

    const last = toPage >= total;
    if (!last) await env.INGEST_QUEUE.send({ ...job, fromPage: toPage + 1 });
    const final = last ? await finalize(db, job) : null;
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
      chunks: chunkCount,
      embeddingTokens,
      ocrPages,
    });
  } finally {
    await pdf.loadingTask.destroy();
  }
}

/** OCR tokens count against the daily budgets: checked before each page goes to the model. */
async function ensureBudget(db: Services["db"], config: Config, owner: { tenantId: string; userId: string }): Promise<void> {
  const state = await quotaState(db, config, owner);
  if (state.exceeded) throw new OcrError("ocr_budget", quotaMessage(state), false);
}

const isForeignKeyViolation = (err: unknown) => (err as { code?: string }).code === "23503";

export async function handleIngestBatch(batch: MessageBatch<IngestMessage>, env: Env): Promise<void> {
  const config = getConfig(env);
  const services = createServices(config);
  // One message at a time: each holds a whole PDF in memory while it runs.
  for (const message of batch.messages) {
    const job = message.body;
    try {
      await ingestRange(job, env, config, services);
      message.ack();
    } catch (err) {
      if (err instanceof PermanentIngestError) {
        await markFailed(services.db, job, err.code, err.message);
        recordIngest(env, { requestId: job.requestId ?? null, tenant: job.tenantId, documentId: job.documentId, fromPage: job.fromPage, toPage: job.fromPage, status: "failed", errorCode: err.code, durationMs: 0, pages: 0, chunks: 0, embeddingTokens: 0, ocrPages: 0 });
        message.ack();
      } else if (isForeignKeyViolation(err)) {
        message.ack(); // the document was deleted while its chunks were being written
      } else {
        console.error(JSON.stringify({ msg: "ingest attempt failed", document_id: job.documentId, attempt: message.attempts, error: String(err) }));
        if (message.attempts >= INGEST_MAX_ATTEMPTS) {
          await markFailed(services.db, job, "ingest_failed", `Processing failed ${message.attempts} times (${String(err).slice(0, 200)}); the job is in the dead-letter queue`).catch(() => {});
          recordIngest(env, { requestId: job.requestId ?? null, tenant: job.tenantId, documentId: job.documentId, fromPage: job.fromPage, toPage: job.fromPage, status: "failed", errorCode: "ingest_failed", durationMs: 0, pages: 0, chunks: 0, embeddingTokens: 0, ocrPages: 0 });
        }
        message.retry({ delaySeconds: Math.min(60, 2 ** message.attempts) });
      }
    }
  }
}
