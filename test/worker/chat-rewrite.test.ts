// Follow-up questions are rewritten into standalone search queries before retrieval (src/chat/rewrite.ts): the
// stand-in rewrites plainly (the question plus the last user turn's key terms), so these tests check the path, not
// a model's quality. The earlier turn names the subject (the hyperref package, pages 93-96 of lshort-en.pdf and
// 85-91 of lshort-fa.pdf); the follow-up does not.
import { beforeAll, describe, expect, it } from "vitest";
import { fixturePdf, json, login, manualReaders, upload, waitForIngestion } from "../support/api.ts";
import {
  type Answer,
  ChatClient,
  type Citation,
  injectFault,
  liveFaults,
  marker,
  overrideSessionEnv,
  sessionMessages,
  usageReport,
} from "../support/chat.ts";

const EN = { first: "What is the hyperref package for?", followUp: "And what options does it have?" };
const FA = { first: "بستهٔ hyperref برای چیست؟", followUp: "و چه گزینه‌هایی دارد؟" };
const HYPERREF_PAGES = { en: [93, 96], fa: [85, 91] } as const;

let en: { token: string; lshort: string };
let fa: { token: string; lshort: string };

beforeAll(async () => {
  ({ en, fa } = await manualReaders());
}, 180_000);

/** A new session, optionally configured, that asks `turns` in order; every answer. */
async function converse(token: string, turns: string[], env: Record<string, string> = {}) {
  const chat = await ChatClient.open({ token });
  if (Object.keys(env).length) await overrideSessionEnv(chat.sessionId, env);
  const answers: Answer[] = [];
  for (const t of turns) answers.push(await chat.ask(t));
  chat.close();
  return { sessionId: chat.sessionId, answers };
}

const queryOf = (a: Answer) => (a.frames.find((f) => f.type === "citations") as { query: string } | undefined)?.query;
const onPages = (cs: Citation[], [from, to]: readonly [number, number]) => cs.filter((c) => c.page_start <= to && c.page_end >= from).length;
const pages = (cs: Citation[]) => cs.map((c) => `${c.page_start}-${c.page_end}`);

describe.each([
  ["English", () => en, EN, HYPERREF_PAGES.en],
  ["Persian", () => fa, FA, HYPERREF_PAGES.fa],
] as const)("%s follow-ups", (_, who, q, subjectPages) => {
  it("are searched with the earlier turn's subject, while the question is shown and stored as asked", async () => {
    const { token } = who();
    const rewritten = await converse(token, [q.first, q.followUp]);
    const asAsked = await converse(token, [q.first, q.followUp], { CHAT_REWRITE_MODEL: "off" });
    const [first, followUp] = rewritten.answers;
    const plain = asAsked.answers[1]!;
    for (const a of [...rewritten.answers, ...asAsked.answers]) expect(a.done?.status, JSON.stringify(a.error)).toBe("complete");

    // A first question has nothing to resolve: it is searched as asked.
    expect(queryOf(first!)).toBe(q.first);
    // The follow-up's search names the subject; without rewriting it is the follow-up's words alone.
    expect(queryOf(followUp!)).toContain("hyperref");
    expect(queryOf(followUp!)!.startsWith(q.followUp)).toBe(true);
    expect(queryOf(plain)).toBe(q.followUp);
    const withSubject = onPages(followUp!.citations!, subjectPages);
    const without = onPages(plain.citations!, subjectPages);
    expect(withSubject, `rewritten ${pages(followUp!.citations!)} vs as asked ${pages(plain.citations!)}`).toBeGreaterThan(without);
    expect(withSubject).toBeGreaterThanOrEqual(1);

    const { messages } = await sessionMessages(token, rewritten.sessionId);
    expect(messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual([q.first, q.followUp]);
  }, 60_000);
});

describe("the rewrite call", () => {
  it("is metered as chat usage under its own model, once per follow-up", async () => {
    const { token } = await login();
    const doc = await json(await upload(token, fixturePdf("lshort-en.pdf"), "lshort-en.pdf"));
    await waitForIngestion(token, doc.id, { timeoutMs: 120_000 });
    // A model of its own, so its usage stands apart from the answers' (the stand-in serves any model name).
    const { answers } = await converse(token, [EN.first, EN.followUp, "Is it loaded last?"], { CHAT_REWRITE_MODEL: "gpt-4.1-nano" });
    for (const a of answers) expect(a.done?.status).toBe("complete");
    const usage = (await usageReport(token)).last_24h.by_model["gpt-4.1-nano"];
    // Two follow-ups, two rewrites; the first question needed none.
    expect(usage?.requests).toBe(2);
    expect(usage!.prompt_tokens).toBeGreaterThan(0);
    expect(usage!.completion_tokens).toBeGreaterThan(0);
    expect(usage!.embedding_tokens).toBe(0);
  }, 180_000);

  it("that fails falls back to the question as asked, and the answer completes", async () => {
    const m = marker("rewrite");
    const followUp = `${EN.followUp} ${m}`;
    // The follow-up's first chat request is its rewrite: this fault fails that one and nothing else.
    await injectFault({ match: m, endpoint: "chat", status: 500, times: 1 });
    const { answers } = await converse(en.token, [EN.first, followUp]);
    const a = answers[1]!;
    expect(a.done?.status, JSON.stringify(a.error)).toBe("complete");
    expect(queryOf(a)).toBe(followUp);
    expect((await liveFaults()).some((f) => f.remaining > 0 && JSON.stringify(f).includes(m))).toBe(false);
  }, 60_000);

  it("is not made when rewriting is off, nor for a first question", async () => {
    const { token } = await login();
    await converse(token, ["What is the capital of Mongolia?"], { CHAT_REWRITE_MODEL: "gpt-4.1-nano" });
    await converse(token, ["What is the capital of Mongolia?", "And its population?"], { CHAT_REWRITE_MODEL: "off" });
    expect((await usageReport(token)).last_24h.by_model["gpt-4.1-nano"]).toBeUndefined();
  }, 60_000);
});
