// npm run bench:chat — time to first delta and to done over the chat WebSocket on the local stack: 20 sequential
// questions on one socket (follow-ups: each is rewritten), then 10 concurrent sockets (first questions), once as the
// stack is and once with the Neon stand-in adding DELAY_MS to every database round trip (a database in a distant
// region). The first delta's growth over the added delay is the number of sequential round trips before the model
// call. Beside it, the stand-in model's own latency on the same path, called directly: the rewrite (follow-ups
// only), the query's embedding and the answer stream's first chunk. Then the same two runs with reranking on
// (RERANK_MODEL set): its usage is written with the answer's, so it adds no round trip before the first delta.
// Prints a table on stderr and one JSON line.
import { buildMessages } from "../src/chat/prompt.ts";
import { REWRITE_SYSTEM_PROMPT } from "../src/chat/rewrite.ts";
import { loginAs, median, percentile, round, uploadReady, withLocalApi } from "./lib.ts";

const QUESTIONS = [
  "How do I start a new section?",
  "What does the documentclass command do?",
  "How can I add a bibliography?",
  "Which editor should I use to write LaTeX?",
  "How do I compile a document to PDF?",
];
const SEQUENTIAL = 20;
const CONCURRENT_SOCKETS = 10;
const DELAY_MS = 30;
/** The Worker's CHAT_SOURCES (its default). */
const CHAT_SOURCES = 6;

interface Timing {
  firstDeltaMs: number;
  doneMs: number;
}

function openSocket(url: string, token: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/ws/chat?tenant=demo`, ["docuchat", `bearer.${token}`]);
    ws.addEventListener("message", function first(e) {
      if (JSON.parse(String(e.data)).type === "session") {
        ws.removeEventListener("message", first);
        resolve(ws);
      }
    });
    ws.addEventListener("error", () => reject(new Error("WebSocket failed to open")));
  });
}

function ask(ws: WebSocket, content: string): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let firstDeltaMs = -1;
    const onMessage = (e: MessageEvent) => {
      const frame = JSON.parse(String(e.data)) as { type: string; message?: string };
      if (frame.type === "delta" && firstDeltaMs < 0) firstDeltaMs = performance.now() - started;
      if (frame.type === "done") {
        ws.removeEventListener("message", onMessage);
        resolve({ firstDeltaMs, doneMs: performance.now() - started });
      }
      if (frame.type === "error") reject(new Error(`chat error: ${frame.message}`));
    };
    ws.addEventListener("message", onMessage);
    ws.send(JSON.stringify({ type: "message", content }));
  });
}

const stat = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 50), 1), p95: round(percentile(sorted, 95), 1) };
};

function summary(timings: Timing[]) {
  return { n: timings.length, first_delta_ms: stat(timings.map((t) => t.firstDeltaMs)), done_ms: stat(timings.map((t) => t.doneMs)) };
}

/** Median milliseconds of `fn` over `n` runs. */
async function timed(n: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  return round(median(times), 1);
}

/**
 * The stand-in model's own latency for the calls an answer makes before its first delta, asked directly: the
 * rewrite, the embedding, and the first chunk of a stream over the answer's real prompt (the question's sources as
 * POST /v1/search finds them, built as the chat builds them).
 */
async function modelLatency(api: { url: string; openaiUrl: string }, headers: Record<string, string>) {
  const post = (url: string, body: unknown, extra: Record<string, string> = {}) =>
    fetch(url, { method: "POST", headers: { "Content-Type": "application/json", ...extra }, body: JSON.stringify(body) });
  const openai = (path: string, body: unknown) => post(`${api.openaiUrl}${path}`, body, { Authorization: "Bearer bench" });
  const question = QUESTIONS[0]!;
  const { results } = (await (await post(`${api.url}/v1/search`, { query: question, top_k: CHAT_SOURCES }, headers)).json()) as {
    results: Array<{ text: string }>;
  };
  const messages = buildMessages(
    results.map((r, i) => ({ n: i + 1, text: r.text })),
    [],
    question,
  );
  const embeddingMs = await timed(10, async () =>
    (await openai("/embeddings", { model: "text-embedding-3-small", input: [question], dimensions: 1536 })).json(),
  );
  const rewriteMs = await timed(10, async () =>
    (
      await openai("/chat/completions", {
        model: "gpt-4o-mini",
        max_completion_tokens: 100,
        messages: [
          { role: "system", content: REWRITE_SYSTEM_PROMPT },
          { role: "user", content: `Conversation:\nUser: ${QUESTIONS[1]}\n\nLatest question: ${question}` },
        ],
      })
    ).json(),
  );
  const firstChunkMs = await timed(10, async () => {
    const reader = (await openai("/chat/completions", { model: "gpt-4o-mini", stream: true, messages })).body!.getReader();
    await reader.read();
    await reader.cancel();
  });
  return { embedding_ms: embeddingMs, rewrite_ms: rewriteMs, first_chunk_ms: firstChunkMs };
}

/**
 * The runs with reranking on: a rerank model (any chat model the stand-in knows), and a daily budget that 31
 * reranked answers cannot use up (each reranks 20 whole chunks); the benchmark measures the path, not the budget.
 */
const RERANK_VARS = { RERANK_MODEL: "gpt-4.1-nano", DAILY_TOKEN_BUDGET_PER_USER: "100000000" };

async function runWith(delayMs: number, vars: Record<string, string> = {}) {
  return withLocalApi(
    async (api) => {
      const token = await loginAs(api.url, "chat-bench@example.com");
      const headers = { "X-Tenant-ID": "demo", Authorization: `Bearer ${token}` };
      await uploadReady(api.url, headers);

      const ws = await openSocket(api.url, token);
      await ask(ws, "warm-up question"); // the first answer also loads the tokenizer and the Durable Object
      const sequential: Timing[] = [];
      for (let i = 0; i < SEQUENTIAL; i++) sequential.push(await ask(ws, QUESTIONS[i % QUESTIONS.length]!));
      ws.close();

      // Each socket is its own session (its own Durable Object), all asking at once.
      const sockets = await Promise.all(Array.from({ length: CONCURRENT_SOCKETS }, () => openSocket(api.url, token)));
      const concurrent = await Promise.all(sockets.map((s, i) => ask(s, QUESTIONS[i % QUESTIONS.length]!)));
      for (const s of sockets) s.close();
      return {
        db_delay_ms: delayMs,
        sequential: summary(sequential),
        concurrent: { sockets: CONCURRENT_SOCKETS, ...summary(concurrent) },
        model: await modelLatency({ url: api.url, openaiUrl: api.stack.openaiUrl }, headers),
      };
    },
    vars,
    { neonDelayMs: delayMs },
  );
}

const direct = await runWith(0);
const distant = await runWith(DELAY_MS);
const added = distant.sequential.first_delta_ms.p50 - direct.sequential.first_delta_ms.p50;
// A follow-up's calls before its first delta: the rewrite, the embedding, the stream's first chunk.
const model = distant.model;
const followUpModelMs = round(model.rewrite_ms + model.embedding_ms + model.first_chunk_ms, 1);
const reranked = { direct: await runWith(0, RERANK_VARS), distant: await runWith(DELAY_MS, RERANK_VARS) };
const rerankAdded = reranked.distant.sequential.first_delta_ms.p50 - reranked.direct.sequential.first_delta_ms.p50;
const result = {
  direct,
  distant,
  sequential_db_round_trips: round(added / DELAY_MS, 1),
  follow_up_model_ms: followUpModelMs,
  first_delta_above_model_ms: round(distant.sequential.first_delta_ms.p50 - followUpModelMs, 1),
  rerank: { ...reranked, sequential_db_round_trips: round(rerankAdded / DELAY_MS, 1) },
};

const row = (label: string, r: typeof direct) =>
  `${label.padEnd(22)} ${`${r.sequential.first_delta_ms.p50} / ${r.sequential.first_delta_ms.p95}`.padStart(16)} ${`${r.concurrent.first_delta_ms.p50} / ${r.concurrent.first_delta_ms.p95}`.padStart(18)} ${`${r.sequential.done_ms.p50}`.padStart(9)}`;
console.error(
  [
    `${"database round trip".padEnd(22)} ${"first delta p50/p95".padStart(16)} ${"10 sockets p50/p95".padStart(18)} ${"done p50".padStart(9)}`,
    row("as is", direct),
    row(`+${DELAY_MS} ms`, distant),
    `sequential database round trips before the first delta: ${result.sequential_db_round_trips} ((${distant.sequential.first_delta_ms.p50} - ${direct.sequential.first_delta_ms.p50}) / ${DELAY_MS})`,
    `stand-in model, a follow-up's calls: rewrite ${model.rewrite_ms} + embedding ${model.embedding_ms} + first chunk ${model.first_chunk_ms} = ${followUpModelMs} ms`,
    `first delta with +${DELAY_MS} ms above the model's own latency: ${result.first_delta_above_model_ms} ms (goal ≤ 120)`,
    row("rerank on, as is", reranked.direct),
    row(`rerank on, +${DELAY_MS} ms`, reranked.distant),
    `with reranking, sequential database round trips before the first delta: ${result.rerank.sequential_db_round_trips} ((${reranked.distant.sequential.first_delta_ms.p50} - ${reranked.direct.sequential.first_delta_ms.p50}) / ${DELAY_MS})`,
  ].join("\n"),
);
console.log(JSON.stringify({ benchmark: "chat", node: process.version, ...result }));
