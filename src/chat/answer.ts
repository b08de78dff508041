// One answer: budget reservation → retrieval → prompt → streamed completion → persisted messages and usage.
// Every outcome (done, cancelled, upstream failure) persists what exists, so nothing is lost, and then settles
// the reservation: concurrent answers can overspend a token budget by at most one answer's worth.
// Before the model is called the database is asked twice, whatever the region's latency: the budget's spent tokens
// and the history side by side, then one transaction with the question, the usage of its rewrite and embedding,
// and the search (src/search/retrieve.ts).
import OpenAI from "openai";
import type { Config } from "../config.ts";
import type { Reader } from "../documents/access.ts";
import type { Owner } from "../documents/repository.ts";
import { countTokens } from "../ingest/chunker.ts";
import { CodedError } from "../lib/coded-error.ts";
import { rerankEnabled, rerankTokenBound } from "../search/rerank.ts";
import { retrieve } from "../search/retrieve.ts";
import type { Services } from "../services/index.ts";
import { tenantSettings } from "../tenants/settings.ts";
import { BudgetExceededError, type Reservation, reserveTokens } from "../usage/budget.ts";
import { recordUsageWith, type UsageEvent } from "../usage/record.ts";
import { citationMarkerFilter } from "./citation-markers.ts";
import { buildMessages, type HistoryTurn, MESSAGE_OVERHEAD_TOKENS, promptTokenBound, trimHistory } from "./prompt.ts";
import type { Citation, ErrorCode, ServerFrame, Usage } from "./protocol.ts";
import { appendMessage, questionStatements, recentTurns } from "./repository.ts";
import { rewriteTokenBound, searchQuery } from "./rewrite.ts";

export interface Question {
  content: string;
  fileIds?: string[];
  collectionIds?: string[];
  tags?: string[];
  model?: string;
}

export class ChatError extends CodedError<ErrorCode> {}

/**
 * The most an answer can spend: the rewrite of a follow-up, the query's embedding, the rerank, the largest prompt it
 * can get, and the longest answer (CHAT_MAX_ANSWER_TOKENS, which the model is held to).
 */
const budgetEstimate = (config: Config, question: string) =>
  rewriteTokenBound(config, question) +
  countTokens(question) +
  rerankTokenBound(config, question) +
  promptTokenBound(config, question) +
  config.CHAT_MAX_ANSWER_TOKENS;

/** How an upstream failure looks to the client. */
function classifyUpstream(err: unknown, timedOut: boolean): ChatError {
  if (timedOut || err instanceof OpenAI.APIConnectionTimeoutError) return new ChatError("upstream_timeout", "The model did not answer in time", true);
  if (err instanceof OpenAI.APIError && err.status === 429)
    return new ChatError("upstream_rate_limited", "The model is rate limited; try again shortly", true);
  if (err instanceof OpenAI.APIError && (err.status ?? 0) >= 500) return new ChatError("upstream_error", `The model failed (${err.status})`, true);
  if (err instanceof OpenAI.APIError && err.status) return new ChatError("upstream_rejected", `The model refused the request (${err.status})`, false);
  return new ChatError("upstream_interrupted", "The answer stream broke off", true);
}

export interface AnswerContext {
  config: Config;
  services: Services;
  owner: Owner;
  /** Whose documents the answer may draw on: the owner, with their current role and any API key restriction. */
  reader: Reader;
  sessionId: string;
  /** Whether the session's row exists; if not, it is written with the question. */
  sessionStored: boolean;
  /** Told once the session's row is written. */
  onSessionStored: () => void;
  emit: (frame: ServerFrame) => void;
  signal: AbortSignal;
}

/** Answers the question; resolves to the model that wrote the answer (the tenant's default unless one was asked for). */
export async function answer(ctx: AnswerContext, question: Question): Promise<string> {
  const { config, services, owner } = ctx;
  // The tenant's models (a subset of CHAT_MODELS) and its default.
  const { chat_models: models, default_model } = await tenantSettings(services.db, config, owner.tenantId);
  const model = question.model ?? default_model;
  if (!models.includes(model)) throw new ChatError("model_not_allowed", `Model '${model}' is not available; use one of: ${models.join(", ")}`, false);
  // Independent, so side by side: the budget (its spent tokens, then the Redis reservation) and the history.
  const [reserved, recent] = await Promise.allSettled([
    reserveTokens(services, config, owner, budgetEstimate(config, question.content)),
    recentTurns(services.db, owner, ctx.sessionId, 20),
  ]);
  if (reserved.status === "rejected") {
    const err = reserved.reason;
    throw err instanceof BudgetExceededError ? new ChatError(err.code, err.message, err.retryable) : err;
  }
  const reservation = reserved.value;
  try {
    if (recent.status === "rejected") throw recent.reason;
    await answerWithin(ctx, question, model, reservation, recent.value);
    return model;
  } finally {
    // A failure before anything was spent, or after what was spent is in usage_events: settled either way.
    await reservation.settle();
  }
}

async function answerWithin(ctx: AnswerContext, question: Question, model: string, reservation: Reservation, recent: HistoryTurn[]): Promise<void> {
  const { config, services, owner, sessionId, emit, signal } = ctx;
  const { db } = services;
  const history = trimHistory(recent, config.CHAT_HISTORY_TOKENS);

  // Retrieval: the same hybrid search as POST /v1/search, scoped to the user and the optional file_ids, for the
  // question made standalone (a follow-up's references resolved), reranked when the deployment has a rerank model.
  // The question is stored in the search's transaction, or on its own when retrieval fails: either way before the
  // answer, as it was asked.
  const { openai } = services;
  const rewriteUsage: UsageEvent[] = [];
  // The rerank's usage is written with the answer's (finish): no database round trip between the search and the model.
  const rerankUsage: UsageEvent[] = [];
  const query = await searchQuery(config, services, openai, owner, recent, question.content, (u) => rewriteUsage.push(u), signal);
  const hits = await retrieve(
    config,
    services,
    openai,
    { reader: ctx.reader, fileIds: question.fileIds, collectionIds: question.collectionIds, tags: question.tags },
    query,
    {
      topK: config.CHAT_SOURCES,
      rerank: rerankEnabled(config),
      signal,
      usage: rewriteUsage,
      writes: questionStatements(db, owner, sessionId, question.content, !ctx.sessionStored),
      recordRerank: (u) => rerankUsage.push(u),
    },
  ).catch((err: unknown) => {
    // An embeddings failure is an upstream failure too (rate limit, outage), not an internal error.
    throw err instanceof OpenAI.OpenAIError ? classifyUpstream(err, false) : err;
  });
  ctx.onSessionStored();
  const citations: Citation[] = hits.map((h, i) => ({
    n: i + 1,
    file_id: h.file_id,
    filename: h.filename,
    page_start: h.page_start,
    page_end: h.page_end,
    chunk_id: h.chunk_id,
    score: h.score,
    collection: h.collection,
    tags: h.tags,
    metadata: h.metadata,
  }));
  emit({ type: "citations", query, citations });

  const messages = buildMessages(
    hits.map((h, i) => ({ n: i + 1, text: h.text })),
    history,
    question.content,
  );
  let content = "";
  // Only markers of the citations just sent reach the client and the history.
  const markers = citationMarkerFilter(citations.length);
  const show = (text: string) => {
    if (!text) return;
    content += text;
    emit({ type: "delta", content: text });
  };
  let usage: Usage | null = null;
  let timedOut = false;
  // Aborted by the client's cancel (signal) or by our timeout.
  const upstream = new AbortController();
  const timer = setTimeout(() => {
    timedOut = true;
    upstream.abort();
  }, config.CHAT_TIMEOUT_MS);
  const onCancel = () => upstream.abort();
  signal.addEventListener("abort", onCancel);
  // A cancel that came during retrieval already fired its abort event: do not call the model at all.
  if (signal.aborted) upstream.abort();

  const finish = async (status: "complete" | "incomplete") => {
    // Without a usage report (cancel, failure) the tokens are counted here, as the model would have.
    const final = usage ?? estimateUsage(messages, content);
    // Usage first: the tokens are spent even when the session was deleted meanwhile (its messages cannot be stored).
    const answerUsage: UsageEvent = { ...owner, kind: "chat", model, promptTokens: final.prompt_tokens, completionTokens: final.completion_tokens };
    await recordUsageWith(services, [...rerankUsage, answerUsage], (inserts) => db.$client.transaction(inserts));
    // Before the done frame: the client may ask its next question as soon as it has it.
    await reservation.settle();
    const messageId = await appendMessage(db, owner, sessionId, {
      role: "assistant",
      content,
      status,
      citations,
      model,
      promptTokens: final.prompt_tokens,
      completionTokens: final.completion_tokens,
    });
    return { messageId, usage: final };
  };

  try {
    const stream = await openai.chat.completions.create(
      { model, messages, stream: true, stream_options: { include_usage: true }, max_completion_tokens: config.CHAT_MAX_ANSWER_TOKENS },
      { signal: upstream.signal, maxRetries: 1, timeout: config.CHAT_TIMEOUT_MS },
    );
    for await (const chunk of stream) {
      show(markers.push(chunk.choices[0]?.delta?.content ?? ""));
      if (chunk.usage)
        usage = {
          prompt_tokens: chunk.usage.prompt_tokens,
          completion_tokens: chunk.usage.completion_tokens,
          total_tokens: chunk.usage.total_tokens,
        };
    }
    show(markers.flush());
  } catch (err) {
    if (signal.aborted) {
      const done = await finish("incomplete");
      emit({ type: "done", message_id: done.messageId, status: "cancelled", usage: done.usage });
      return;
    }
    await finish("incomplete");
    throw classifyUpstream(err, timedOut);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onCancel);
  }
  if (signal.aborted) {
    const done = await finish("incomplete");
    emit({ type: "done", message_id: done.messageId, status: "cancelled", usage: done.usage });
    return;
  }
  const done = await finish("complete");
  emit({ type: "done", message_id: done.messageId, status: "complete", usage: done.usage });
}

function estimateUsage(messages: Array<{ content?: unknown }>, completion: string): Usage {
  const prompt = messages.reduce((n, m) => n + countTokens(typeof m.content === "string" ? m.content : "") + MESSAGE_OVERHEAD_TOKENS, 0);
  const completionTokens = completion ? countTokens(completion) : 0;
  return { prompt_tokens: prompt, completion_tokens: completionTokens, total_tokens: prompt + completionTokens };
}
