// The OpenAI SDK pointed at OPENAI_BASE_URL: OpenAI itself, any compatible server, or the local stand-in.
import OpenAI from "openai";
import type { Config } from "../config.ts";

export function createOpenAI(config: Config): OpenAI {
  // The SDK retries 429 and 5xx with exponential backoff, honouring Retry-After.
  return new OpenAI({ apiKey: config.OPENAI_API_KEY, baseURL: config.OPENAI_BASE_URL, maxRetries: 4, timeout: 60_000 });
}
