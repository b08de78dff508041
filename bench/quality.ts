// npm run bench:quality — whether retrieval finds the page that answers, on our own question set
// (bench/quality/questions.json: paraphrased questions over the fixtures, each labelled with its answering pages and an
// evidence pattern, plus multi-turn conversations). Three fresh local stacks, one per rung of the ladder:
//   1. rewrite and rerank off: POST /v1/search with mode semantic, keyword and hybrid; chat follow-ups as asked;
//   2. + rewrite (CHAT_REWRITE_MODEL on): the chat path's retrieval (citations frame) for questions and follow-ups;
//   3. + rerank (RERANK_MODEL on too): POST /v1/search with rerank: true, and the chat path again.
// Prints hit@1, hit@5 and MRR (over the top 10) per language and configuration; a configuration the running code
// does not offer is null. Every label is first checked against the stored page text (GET /v1/files/{id}/pages);
// `--check` stops there, and a label that fails makes the run fail. Readable table on stderr, one JSON line on stdout.
import { readFileSync } from "node:fs";
import { PROJECT_ROOT } from "../scripts/lib/db.ts";
import { loginAs, round, withLocalApi } from "./lib.ts";

interface Label {
  file: string;
  pages: number[];
  question: string;
  evidence: string;
}
interface Question extends Label {
  id: string;
  lang: "en" | "fa";
}
interface Turn extends Label {
  /** The follow-up asked on its own, for comparison. */
  standalone?: string;
}
interface Conversation {
  id: string;
  lang: "en" | "fa";
  turns: Turn[];
}
interface QuestionSet {
  documents: string[];
  questions: Question[];
  conversations: Conversation[];
}
type Hit = { filename: string; page_start: number; page_end: number };
type Scores = { n: number; hit1: number; hit5: number; mrr: number };

const CHECK_ONLY = process.argv.includes("--check");
const TOP_K = 10;
const LANGS = ["en", "fa"] as const;
const set = JSON.parse(readFileSync(`${PROJECT_ROOT}bench/quality/questions.json`, "utf8")) as QuestionSet;
const OFF = "off";
const SIDE_MODEL = "gpt-4o-mini";

/** Rank (1-based) of the first hit on a labelled page of the labelled file, or 0. */
function rankOf(hits: Hit[], label: Label): number {
  const i = hits.findIndex((h) => h.filename === label.file && label.pages.some((p) => h.page_start <= p && p <= h.page_end));
  return i + 1;
}

function score(ranks: number[]): Scores {
  const n = ranks.length;
  const share = (f: (r: number) => boolean) => round(ranks.filter(f).length / n);
  return { n, hit1: share((r) => r === 1), hit5: share((r) => r >= 1 && r <= 5), mrr: round(ranks.reduce((s, r) => s + (r ? 1 / r : 0), 0) / n) };
}

/**
 * The form labels are compared in: extraction and normalisation differ in ZWNJ, spacing, Arabic/Persian letter forms
 * and digit scripts, none of which decides whether the page holds the answer.
 */
function loose(s: string): string {
  return s
    .normalize("NFKC")
    .replace(/ي/g, "ی")
    .replace(/ى/g, "ی")
    .replace(/ك/g, "ک")
    .replace(/ۀ/g, "ه")
    .replace(/[۰-۹]/g, (d) => String(d.charCodeAt(0) - 0x06f0))
    .replace(/[\s\u200c\u200e\u200f\u202a-\u202e\u0640\u064b-\u0655]+|\u200d/g, "");
}

class Client {
  /** Uploaded fixture name → file id. */
  readonly ids = new Map<string, string>();

  readonly url: string;
  readonly token: string;

  constructor(url: string, token: string) {
    this.url = url;
    this.token = token;
  }

  async call(path: string, init: { body?: unknown; form?: FormData } = {}) {
    const headers: Record<string, string> = { "X-Tenant-ID": "demo", Authorization: `Bearer ${this.token}` };
    if (init.body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(`${this.url}${path}`, {
      method: init.body !== undefined || init.form ? "POST" : "GET",
      headers,
      body: init.form ?? (init.body !== undefined ? JSON.stringify(init.body) : undefined),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${path} answered ${res.status}: ${text}`);
    return JSON.parse(text);
  }

  async upload(name: string): Promise<string> {
    const form = new FormData();
    form.append("file", new File([readFileSync(`${PROJECT_ROOT}test/fixtures/pdf/${name}`)], name));
    const started = performance.now();
    const { id } = await this.call("/v1/files", { form });
    for (let status = ""; status !== "ready"; ) {
      await new Promise((r) => setTimeout(r, 200));
      status = (await this.call(`/v1/files/${id}`)).status;
      if (status === "failed") throw new Error(`${name} failed to ingest`);
    }
    console.error(`quality: ${name} ingested in ${round((performance.now() - started) / 1000, 1)} s`);
    this.ids.set(name, id);
    return id;
  }

  search(query: string, options: Record<string, unknown>): Promise<Hit[]> {
    return this.call("/v1/search", { body: { query, top_k: TOP_K, ...options } }).then((r) => r.results);
  }

  /** Whether POST /v1/search declares this request property (the running code offers the feature). */
  async searchOffers(property: string): Promise<boolean> {
    const doc = (await fetch(`${this.url}/openapi.json`).then((r) => r.json())) as {
      components?: { schemas?: { SearchRequest?: { properties?: Record<string, unknown> } } };
    };
    return property in (doc.components?.schemas?.SearchRequest?.properties ?? {});
  }
}

/** One chat session: each ask resolves with its citations frame (the chat path's retrieval) once the answer is done. */
class ChatSession {
  private readonly ws: WebSocket;

  private constructor(ws: WebSocket) {
    this.ws = ws;
  }

  static open(url: string, token: string): Promise<ChatSession> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${url.replace(/^http/, "ws")}/ws/chat?tenant=demo`, ["docuchat", `bearer.${token}`]);
      ws.addEventListener("message", function first(e) {
        if (JSON.parse(String(e.data)).type === "session") {
          ws.removeEventListener("message", first);
          resolve(new ChatSession(ws));
        }
      });
      ws.addEventListener("error", () => reject(new Error("WebSocket failed to open")));
    });
  }

  ask(content: string): Promise<{ hits: Hit[]; query?: string }> {
    return new Promise((resolve, reject) => {
      let cited: { hits: Hit[]; query?: string } = { hits: [] };
      const onMessage = (e: MessageEvent) => {
        const frame = JSON.parse(String(e.data)) as { type: string; citations?: Hit[]; query?: string; message?: string };
        if (frame.type === "citations") cited = { hits: frame.citations ?? [], query: frame.query };
        if (frame.type === "done") {
          this.ws.removeEventListener("message", onMessage);
          resolve(cited);
        }
        if (frame.type === "error") reject(new Error(`chat error: ${frame.message}`));
      };
      this.ws.addEventListener("message", onMessage);
      this.ws.send(JSON.stringify({ type: "message", content }));
    });
  }

  close() {
    this.ws.close();
  }
}

async function ready(url: string): Promise<Client> {
  const client = new Client(url, await loginAs(url, "quality-bench@example.com"));
  for (const name of set.documents) await client.upload(name);
  return client;
}

/** Every label whose evidence is not on any of its pages as stored. */
async function checkLabels(client: Client): Promise<string[]> {
  const pages = new Map<string, string>();
  const pageText = async (file: string, page: number) => {
    const key = `${file}#${page}`;
    if (!pages.has(key)) {
      const window = await client.call(`/v1/files/${client.ids.get(file)}/pages?from=${page}&to=${page}`);
      pages.set(key, loose(window.pages.map((p: { text: string }) => p.text).join(" ")));
    }
    return pages.get(key)!;
  };
  const labels: Array<[string, Label]> = [
    ...set.questions.map((q): [string, Label] => [q.id, q]),
    ...set.conversations.flatMap((c) => c.turns.map((t, i): [string, Label] => [`${c.id}/${i + 1}`, t])),
  ];
  const failures: string[] = [];
  for (const [id, label] of labels) {
    if (!set.documents.includes(label.file)) failures.push(`${id}: ${label.file} is not in documents`);
    const pattern = new RegExp(loose(label.evidence), "i");
    const found = await Promise.all(label.pages.map(async (p) => pattern.test(await pageText(label.file, p))));
    if (!found.some(Boolean)) failures.push(`${id}: /${label.evidence}/ is not on ${label.file} p. ${label.pages.join(",")}`);
  }
  return failures;
}

const byLang = (ranks: Array<{ lang: string; rank: number }>) =>
  Object.fromEntries(LANGS.map((l) => [l, score(ranks.filter((r) => r.lang === l).map((r) => r.rank))]));

async function searchRanks(client: Client, options: Record<string, unknown>) {
  const ranks = [];
  for (const q of set.questions) ranks.push({ lang: q.lang, rank: rankOf(await client.search(q.question, options), q) });
  return byLang(ranks);
}

/** Each question as the first turn of its own chat session. */
async function chatQuestionRanks(client: Client) {
  const ranks = [];
  for (const q of set.questions) {
    const fresh = await ChatSession.open(client.url, client.token);
    ranks.push({ lang: q.lang, rank: rankOf((await fresh.ask(q.question)).hits, q) });
    fresh.close();
  }
  return byLang(ranks);
}

/** The follow-up turns (2nd and 3rd) as asked in their conversation, and their standalone versions asked fresh. */
async function conversationRanks(client: Client) {
  const followUps = [];
  const standalone = [];
  let rewritten = 0;
  for (const c of set.conversations) {
    const session = await ChatSession.open(client.url, client.token);
    for (const [i, turn] of c.turns.entries()) {
      const { hits, query } = await session.ask(turn.question);
      if (i === 0) continue;
      if (query !== undefined && query !== turn.question) rewritten++;
      followUps.push({ lang: c.lang, rank: rankOf(hits, turn) });
    }
    session.close();
    for (const turn of c.turns.slice(1)) {
      const fresh = await ChatSession.open(client.url, client.token);
      standalone.push({ lang: c.lang, rank: rankOf((await fresh.ask(turn.standalone ?? turn.question)).hits, turn) });
      fresh.close();
    }
  }
  return { follow_ups: byLang(followUps), standalone: byLang(standalone), rewritten };
}

// The manuals' embeddings alone come near a user's default daily budget: this measures retrieval, not the quota.
const stack = <T>(vars: Record<string, string>, fn: (client: Client) => Promise<T>) =>
  withLocalApi(async (api) => fn(await ready(api.url)), { DAILY_TOKEN_BUDGET_PER_USER: "0", ...vars });

const baseline = await stack({ CHAT_REWRITE_MODEL: OFF, RERANK_MODEL: OFF }, async (client) => {
  const failures = await checkLabels(client);
  if (failures.length) {
    for (const f of failures) console.error(`label: ${f}`);
    throw new Error(`${failures.length} labels are not on their pages`);
  }
  console.error(`quality: all ${set.questions.length} questions' and ${set.conversations.length} conversations' labels hold`);
  if (CHECK_ONLY) return null;
  const modes = await client.searchOffers("mode");
  return {
    semantic: modes ? await searchRanks(client, { mode: "semantic" }) : null,
    keyword: modes ? await searchRanks(client, { mode: "keyword" }) : null,
    hybrid: await searchRanks(client, {}),
    conversations: await conversationRanks(client),
  };
});
if (!baseline) process.exit(0);

const withRewrite = await stack({ CHAT_REWRITE_MODEL: SIDE_MODEL, RERANK_MODEL: OFF }, async (client) => ({
  questions: await chatQuestionRanks(client),
  conversations: await conversationRanks(client),
}));

const withRerank = await stack({ CHAT_REWRITE_MODEL: SIDE_MODEL, RERANK_MODEL: SIDE_MODEL }, async (client) =>
  (await client.searchOffers("rerank"))
    ? {
        questions: await searchRanks(client, { rerank: true }),
        chat: await chatQuestionRanks(client),
        conversations: await conversationRanks(client),
      }
    : null,
);

// A stack whose chat never searched a rewritten query has no rewriting to measure.
const rewriteRan = withRewrite.conversations.rewritten > 0;
const configurations = {
  semantic: baseline.semantic,
  keyword: baseline.keyword,
  hybrid: baseline.hybrid,
  "+rewrite (chat path)": rewriteRan ? withRewrite.questions : null,
  "+rerank": withRerank?.questions ?? null,
  "+rerank (chat path)": withRerank?.chat ?? null,
};
const conversations = {
  follow_ups_rewrite_off: baseline.conversations.follow_ups,
  follow_ups_rewrite_on: rewriteRan ? withRewrite.conversations.follow_ups : null,
  follow_ups_rewrite_rerank: withRerank && rewriteRan ? withRerank.conversations.follow_ups : null,
  standalone_versions: baseline.conversations.standalone,
  standalone_versions_rewrite_rerank: withRerank?.conversations.standalone ?? null,
};

const cell = (s: Scores | undefined) => (s ? `${s.hit1.toFixed(2)}  ${s.hit5.toFixed(2)}  ${s.mrr.toFixed(2)}` : "  null           ");
const rows = (title: string, table: Record<string, Record<string, Scores> | null>) => [
  `${title.padEnd(36)}${LANGS.map((l) => `${l} (n=${Object.values(table).find(Boolean)?.[l]?.n}) hit@1 hit@5 MRR`.padEnd(34)).join("")}`,
  ...Object.entries(table).map(([name, t]) => `${name.padEnd(36)}${LANGS.map((l) => cell(t?.[l]).padEnd(34)).join("")}`),
];
console.error(["", ...rows("questions", configurations), "", ...rows("conversations (follow-up turns)", conversations), ""].join("\n"));
console.log(
  JSON.stringify({
    benchmark: "quality",
    questions: Object.fromEntries(LANGS.map((l) => [l, set.questions.filter((q) => q.lang === l).length])),
    conversations: set.conversations.length,
    top_k: TOP_K,
    configurations,
    conversation_turns: conversations,
  }),
);
