// The stand-in's "chat model": an extractive answerer. The question is the last user message; the
// context is every other message. It answers with the context sentences closest to the question
// (cosine of the stand-in embeddings), each followed by " [n]" when it came from a numbered source.
// Two kinds of request are recognised by their system prompt's opening and answered plainly, so the pipeline runs
// locally without pretending to a model's judgement: a follow-up rewrite (src/chat/rewrite.ts) and a rerank
// (src/search/rerank.ts).
import { contentWords, cosine, embed } from "./embeddings.ts";

export const FALLBACK_EN = "I could not find the answer in the provided sources.";
export const FALLBACK_FA = "پاسخ این پرسش در منابع ارائه‌شده پیدا نشد.";

/** A sentence must score at least this, and at least RELATIVE × the best score, to be used. */
export const MIN_SCORE = 0.15;
const RELATIVE = 0.5;
const MAX_SENTENCES = 3;

export interface Sentence {
  text: string;
  source?: number;
}

export interface PlainMessage {
  role: string;
  text: string;
  name?: string;
}

/** Text of a message's `content`: a string, or the text parts of a content-part array. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content))
    return content
      .map((p) => (p && typeof p === "object" && typeof (p as { text?: unknown }).text === "string" ? (p as { text: string }).text : ""))
      .filter(Boolean)
      .join("\n");
  return "";
}

/**
 * Splits one message's text into sentences. A line starting with "[n]" opens source block n, which
 * runs until the next "[m]" line (or the end of the message). Sentences end at . ! ? ؟ followed by
 * whitespace (so "3.5" stays whole) and at newlines.
 */
export function splitSentences(text: string): Sentence[] {
  const out: Sentence[] = [];
  let source: number | undefined;
  for (let line of text.split(/\r?\n/)) {
    const m = /^\s*\[(\d+)\]\s*(.*)$/.exec(line);
    if (m) {
      source = Number(m[1]);
      line = m[2]!;
    }
    for (const part of line.split(/(?<=[.!?؟])\s+/)) {
      const t = part.trim();
      if (/[\p{L}\p{N}]/u.test(t)) out.push(source === undefined ? { text: t } : { text: t, source });
    }
  }
  return out;
}

/** True when most letters of the text are Arabic-script (Persian questions get a Persian fallback). */
export function isMainlyArabicScript(text: string): boolean {
  const arabic = text.match(/[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]/g)?.length ?? 0;
  const letters = text.match(/\p{L}/gu)?.length ?? 0;
  return arabic > 0 && arabic * 2 >= letters;
}

export const REWRITE_OPENING = "You rewrite follow-up questions into standalone search queries.";
export const RERANK_OPENING = "You judge how relevant search results are to a query.";

/** The text after `label` on the last line that starts with it. */
const lastLine = (text: string, label: string) =>
  text
    .split(/\r?\n/)
    .filter((l) => l.startsWith(label))
    .at(-1)
    ?.slice(label.length)
    .trim() ?? "";

/**
 * A rewrite: the latest question followed by the words of the conversation's last user turn that carry meaning
 * and the question lacks, as written ("and what options does it have?" + "geometry package").
 */
export function rewrite(request: string): string {
  const question = lastLine(request, "Latest question:");
  const have = new Set(contentWords(question));
  const added = lastLine(request, "User:")
    .split(/\s+/)
    .map((w) => w.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ""))
    .filter((w) => {
      const meaning = contentWords(w);
      return meaning.length > 0 && meaning.some((m) => !have.has(m));
    });
  return [question, ...new Set(added)].join(" ");
}

/** A rerank: each passage scored by the share of the query's content words it contains, as JSON. */
export function rerankScores(request: string): string {
  const query = new Set(contentWords(lastLine(request, "Query:")));
  const scores = [...request.matchAll(/^\[(\d+)\] (.*)$/gm)].map((m) => {
    const passage = new Set(contentWords(m[2]!));
    const shared = [...query].filter((w) => passage.has(w)).length;
    return { n: Number(m[1]), score: query.size ? Math.round((shared / query.size) * 100) / 100 : 0 };
  });
  return JSON.stringify({ scores });
}

/** The answer to a conversation, extracted from its context (or a rewrite or rerank, when asked for one). */
export function answer(messages: PlainMessage[]): string {
  const system = messages.find((m) => m.role === "system")?.text ?? "";
  const request = messages.filter((m) => m.role === "user").at(-1)?.text ?? "";
  if (system.startsWith(REWRITE_OPENING)) return rewrite(request);
  if (system.startsWith(RERANK_OPENING)) return rerankScores(request);
  let qi = -1;
  for (let i = messages.length - 1; i >= 0; i--)
    if (messages[i]!.role === "user") {
      qi = i;
      break;
    }
  const question = qi >= 0 ? messages[qi]!.text : "";
  const candidates = messages.filter((_, i) => i !== qi).flatMap((m) => splitSentences(m.text));
  // When there are numbered sources, answer only from them (not from the system prompt's instructions).
  const sourced = candidates.filter((s) => s.source !== undefined);
  const pool = sourced.length > 0 ? sourced : candidates;

  const picked = question.trim() ? best(question, pool) : [];
  if (picked.length === 0) return isMainlyArabicScript(question) ? FALLBACK_FA : FALLBACK_EN;
  return picked.map((s) => (s.source === undefined ? s.text : `${s.text} [${s.source}]`)).join(" ");
}

/** Up to MAX_SENTENCES distinct sentences above the thresholds, best first (ties: earlier first). */
function best(question: string, pool: Sentence[]): Sentence[] {
  const q = embed(question);
  const seen = new Set<string>();
  const scored: { s: Sentence; score: number; i: number }[] = [];
  pool.forEach((s, i) => {
    // The same sentence repeated (e.g. in two chunks) is used once, with its first source.
    if (seen.has(s.text)) return;
    seen.add(s.text);
    scored.push({ s, score: cosine(q, embed(s.text)), i });
  });
  scored.sort((a, b) => b.score - a.score || a.i - b.i);
  const top = scored[0]?.score ?? 0;
  return scored
    .filter((x) => x.score >= MIN_SCORE && x.score >= top * RELATIVE)
    .slice(0, MAX_SENTENCES)
    .map((x) => x.s);
}
