// npm run bench:chat — time to first delta and to done over the chat WebSocket on the local stack:
// 20 sequential questions on one socket, then 10 concurrent sockets. Prints one JSON line.
import { readFileSync } from "node:fs";
import { PROJECT_ROOT } from "../scripts/lib/db.ts";
import { loginAs, percentile, round, withLocalApi } from "./lib.ts";

const QUESTIONS = [
  "How do I start a new section?",
  "What does the documentclass command do?",
  "How can I add a bibliography?",
  "Which editor should I use to write LaTeX?",
  "How do I compile a document to PDF?",
];
const SEQUENTIAL = 20;
const CONCURRENT_SOCKETS = 10;

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

function summary(timings: Timing[]) {
  const stat = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return { p50: round(percentile(sorted, 50), 1), p95: round(percentile(sorted, 95), 1) };
  };
  return { n: timings.length, first_delta_ms: stat(timings.map((t) => t.firstDeltaMs)), done_ms: stat(timings.map((t) => t.doneMs)) };
}

const result = await withLocalApi(async (api) => {
  const token = await loginAs(api.url, "chat-bench@example.com");
  const form = new FormData();
  form.append("file", new File([readFileSync(`${PROJECT_ROOT}test/fixtures/pdf/first-latex-doc-en.pdf`)], "first-latex-doc-en.pdf"));
  const { id } = (await (
    await fetch(`${api.url}/v1/files`, { method: "POST", headers: { "X-Tenant-ID": "demo", Authorization: `Bearer ${token}` }, body: form })
  ).json()) as { id: string };
  for (let status = ""; status !== "ready"; ) {
    await new Promise((r) => setTimeout(r, 50));
    status = (
      (await (await fetch(`${api.url}/v1/files/${id}`, { headers: { "X-Tenant-ID": "demo", Authorization: `Bearer ${token}` } })).json()) as {
        status: string;
      }
    ).status;
    if (status === "failed") throw new Error("fixture ingestion failed");
  }

  const ws = await openSocket(api.url, token);
  await ask(ws, "warm-up question"); // the first answer also loads the tokenizer and the Durable Object
  const sequential: Timing[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) sequential.push(await ask(ws, QUESTIONS[i % QUESTIONS.length]!));
  ws.close();

  // Each socket is its own session (its own Durable Object), all asking at once.
  const sockets = await Promise.all(Array.from({ length: CONCURRENT_SOCKETS }, () => openSocket(api.url, token)));
  const concurrent = await Promise.all(sockets.map((s, i) => ask(s, QUESTIONS[i % QUESTIONS.length]!)));
  for (const s of sockets) s.close();
  return { sequential: summary(sequential), concurrent: { sockets: CONCURRENT_SOCKETS, ...summary(concurrent) } };
});

console.log(JSON.stringify({ benchmark: "chat", node: process.version, ...result }));
