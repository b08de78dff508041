// The stand-in's plain answers to the Worker's retrieval helpers, recognised by their own system prompts: a
// follow-up rewrite (src/chat/rewrite.ts) and a rerank (src/search/rerank.ts). Exercised with the real `openai` SDK.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenAIStandIn, startOpenAIStandIn } from "../../dev/openai/server.ts";
import { REWRITE_SYSTEM_PROMPT } from "../../src/chat/rewrite.ts";
import { RERANK_SYSTEM_PROMPT } from "../../src/search/rerank.ts";

let standIn: OpenAIStandIn;
let client: OpenAI;

beforeAll(async () => {
  standIn = await startOpenAIStandIn({ apiKey: "test" });
  client = new OpenAI({ baseURL: standIn.url, apiKey: "test", maxRetries: 0 });
});
afterAll(() => standIn?.close());

async function complete(system: string, user: string) {
  const res = await client.chat.completions.create({
    model: "gpt-4o-mini",
    messages: [
      { role: "system", content: system },
      { role: "user", content: user },
    ],
    max_completion_tokens: 200,
  });
  expect(res.usage!.prompt_tokens).toBeGreaterThan(0);
  expect(res.usage!.completion_tokens).toBeGreaterThan(0);
  return res.choices[0]!.message.content!;
}

describe("a rewrite request", () => {
  it.each([
    [
      "User: What is the hyperref package for?\nAssistant: It makes links [1].",
      "And what options does it have?",
      "And what options does it have? hyperref package",
    ],
    // ZWNJ words stay whole; function words ("می‌کند") and words the question already has ("بستهٔ") are left out.
    ["User: بستهٔ زی‌پرشین چه می‌کند؟\nAssistant: فارسی را پشتیبانی می‌کند [1].", "بسته چه گزینه‌هایی دارد؟", "بسته چه گزینه‌هایی دارد؟ زی‌پرشین"],
  ])("is answered with the question and the last user turn's key terms", async (transcript, question, expected) => {
    expect(await complete(REWRITE_SYSTEM_PROMPT, `Conversation:\n${transcript}\n\nLatest question: ${question}`)).toBe(expected);
  });
});

describe("a rerank request", () => {
  it("is answered with JSON: each passage's share of the query's content words", async () => {
    const passages = ["[1] Sourdough needs a long proof.", "[2] The hyperref package takes options.", "[3] بستهٔ hyperref پیوند می‌سازد."];
    const text = await complete(RERANK_SYSTEM_PROMPT, `Query: hyperref package options\n\nPassages:\n${passages.join("\n")}`);
    expect(JSON.parse(text)).toEqual({
      scores: [
        { n: 1, score: 0 },
        { n: 2, score: 1 },
        { n: 3, score: 0.33 },
      ],
    });
  });
});
