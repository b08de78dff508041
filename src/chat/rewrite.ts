// Follow-up questions ("and what options does it have?") mean little on their own: before retrieval, one small
// model call rewrites such a question, with the recent turns, into a standalone search query in its own language.
// The user still sees, and the history still stores, the question as asked; only retrieval uses the rewrite.
import type OpenAI from "openai";
import { sideCall } from "../ai/side-call.ts";
import type { Config } from "../config.ts";
import { countTokens } from "../ingest/chunker.ts";
import { normalizeQuery } from "../text/normalize.ts";
import type { UsageStores } from "../usage/quota.ts";
import type { UsageEvent } from "../usage/record.ts";
import { type HistoryTurn, MESSAGE_OVERHEAD_TOKENS, trimHistory } from "./prompt.ts";

/** The stand-in (dev/openai/chat.ts) recognises a rewrite request by this opening. */
export const REWRITE_SYSTEM_PROMPT = `You rewrite follow-up questions into standalone search queries.
Given a conversation and its latest question, write one search query that can be understood without the conversation:
resolve pronouns and references ("it", "that package", "آن", "این بسته") to what they name, keep the question's key terms,
and add nothing the conversation does not say. Write the query in the language of the latest question.
Answer with the query alone, on one line: no answer, no explanation, no quotes.`;

/** At most this much of the conversation goes to the rewrite: the recent turns carry the references. */
const REWRITE_HISTORY_TOKENS = 800;
/** Each turn is cut to this many characters first, so one long answer cannot crowd out the turns before it. */
const REWRITE_TURN_CHARS = 600;
/** A query is short; a model that goes on past this is not writing one. */
const REWRITE_MAX_TOKENS = 100;

const oneLine = (text: string, max: number) => {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
};

function rewriteMessages(turnsNewestFirst: HistoryTurn[], question: string) {
  const turns = trimHistory(
    turnsNewestFirst.map((t) => ({ role: t.role, content: oneLine(t.content, REWRITE_TURN_CHARS) })),
    REWRITE_HISTORY_TOKENS,
  );
  const transcript = turns.map((t) => `${t.role === "user" ? "User" : "Assistant"}: ${t.content}`).join("\n");
  return [
    { role: "system" as const, content: REWRITE_SYSTEM_PROMPT },
    { role: "user" as const, content: `Conversation:\n${transcript}\n\nLatest question: ${oneLine(question, 2000)}` },
  ];
}

export const rewriteEnabled = (config: Config) => config.CHAT_REWRITE_MODEL !== "off";

/** The most a rewrite can spend (its prompt and its query), and the rewritten query's embedding: for the budget. */
export function rewriteTokenBound(config: Config, question: string): number {
  if (!rewriteEnabled(config)) return 0;
  const prompt = countTokens(REWRITE_SYSTEM_PROMPT) + REWRITE_HISTORY_TOKENS + countTokens(question) + 40 + 2 * MESSAGE_OVERHEAD_TOKENS;
  return prompt + REWRITE_MAX_TOKENS + REWRITE_MAX_TOKENS;
}

/**
 * What to search for `question` (normalised, as normalizeQuery gives it): the question itself when there is no
 * earlier turn or rewriting is off, else the model's standalone query. A failed or empty rewrite searches the
 * question as asked: rewriting improves retrieval, it never stops an answer. The rewrite's usage goes to `record`
 * (see SideCall.record), which the caller writes with its search.
 */
export async function searchQuery(
  config: Config,
  stores: UsageStores,
  openai: OpenAI,
  who: { tenantId: string; userId: string },
  turnsNewestFirst: HistoryTurn[],
  question: string,
  record: (event: UsageEvent) => void,
  signal?: AbortSignal,
): Promise<string> {
  const asked = normalizeQuery(question);
  if (!rewriteEnabled(config) || turnsNewestFirst.length === 0) return asked;
  try {
    const text = await sideCall(
      config,
      stores,
      openai,
      who,
      { model: config.CHAT_REWRITE_MODEL, messages: rewriteMessages(turnsNewestFirst, question), maxTokens: REWRITE_MAX_TOKENS, record },
      signal,
    );
    // The first line, without the quotes a model may still put around it.
    const rewritten = normalizeQuery(
      text
        .trim()
        .split("\n")[0]!
        .replace(/^["'«“]+|["'»”]+$/g, ""),
    ).slice(0, 2000);
    return rewritten || asked;
  } catch (err) {
    console.warn(JSON.stringify({ level: "warn", msg: "query rewrite failed; searching the question as asked", error: String(err) }));
    return asked;
  }
}
