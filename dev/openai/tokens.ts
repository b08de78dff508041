// Token counting with the real tokenizers, so usage numbers look like OpenAI's.
import { Tiktoken } from "js-tiktoken/lite";
import cl100k from "js-tiktoken/ranks/cl100k_base";
import o200k from "js-tiktoken/ranks/o200k_base";

export type EncodingName = "cl100k_base" | "o200k_base";

// Building a Tiktoken parses a ~1-2 MB rank table: do it once, on first use.
const cache = new Map<EncodingName, Tiktoken>();
function encoder(name: EncodingName): Tiktoken {
  let enc = cache.get(name);
  if (!enc) {
    enc = new Tiktoken(name === "o200k_base" ? o200k : cl100k);
    cache.set(name, enc);
  }
  return enc;
}

/** o200k_base for the gpt-4o family and newer (gpt-4.1/4.5/5, o-series), cl100k_base otherwise. */
export function encodingForModel(model: string): EncodingName {
  return /^(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o[1-9])/.test(model) ? "o200k_base" : "cl100k_base";
}

/** Encodes user text; special-token strings like "<|endoftext|>" count as plain text, as in the API. */
export function encode(text: string, name: EncodingName = "cl100k_base"): number[] {
  return encoder(name).encode(text, [], []);
}

export function countTokens(text: string, name: EncodingName = "cl100k_base"): number {
  return text ? encode(text, name).length : 0;
}

export function decode(tokens: number[], name: EncodingName = "cl100k_base"): string {
  return encoder(name).decode(tokens);
}

/** Prompt tokens of a chat request, with OpenAI's per-message overhead (3 per message, +1 per name, +3 for the reply). */
export function chatPromptTokens(messages: { role: string; text: string; name?: string }[], name: EncodingName): number {
  let total = 3;
  for (const m of messages) {
    total += 3 + countTokens(m.role, name) + countTokens(m.text, name);
    if (m.name) total += 1 + countTokens(m.name, name);
  }
  return total;
}
