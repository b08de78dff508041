// One small, non-streamed chat completion that helps retrieval (the query rewrite, the rerank): bounded in output
// tokens and time, never retried (its caller has a fallback, and the answer should not wait for retries), and its
// tokens metered as chat usage under its own model.
import type OpenAI from "openai";
import type { Config } from "../config.ts";
import type { UsageStores } from "../usage/quota.ts";
import { recordUsage, type UsageEvent } from "../usage/record.ts";

type ChatMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;

/** A side call may take at most this long: past it, its caller's fallback is better than a later answer. */
const SIDE_CALL_TIMEOUT_MS = 15_000;

export interface SideCall {
  model: string;
  messages: ChatMessage[];
  maxTokens: number;
  /** Ask for a JSON object (the messages must say "JSON", as the API requires). */
  json?: boolean;
  /**
   * Takes the call's usage instead of inserting it at once: for a caller that writes it in a transaction it is about
   * to run anyway (the chat's search), one round trip fewer. The caller must then write it whatever happens next.
   */
  record?: (event: UsageEvent) => void;
}

/** The completion's text. Throws on any upstream failure; what it spent is in usage_events either way it answered. */
export async function sideCall(
  config: Config,
  stores: UsageStores,
  openai: OpenAI,
  who: { tenantId: string; userId: string },
  call: SideCall,
  signal?: AbortSignal,
): Promise<string> {
  const completion = await openai.chat.completions.create(
    {
      model: call.model,
      messages: call.messages,
      // No temperature: reasoning models refuse any but the default. (Their reasoning would count against
      // maxTokens too: a side-call model should be a plain chat model such as gpt-4o-mini.)
      max_completion_tokens: call.maxTokens,
      ...(call.json ? { response_format: { type: "json_object" as const } } : {}),
    },
    { signal, maxRetries: 0, timeout: Math.min(config.CHAT_TIMEOUT_MS, SIDE_CALL_TIMEOUT_MS) },
  );
  if (completion.usage) {
    const event: UsageEvent = {
      ...who,
      kind: "chat",
      model: call.model,
      promptTokens: completion.usage.prompt_tokens,
      completionTokens: completion.usage.completion_tokens,
    };
    if (call.record) call.record(event);
    else await recordUsage(stores, event);
  }
  return completion.choices[0]?.message?.content ?? "";
}
