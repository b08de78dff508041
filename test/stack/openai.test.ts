// The OpenAI stand-in, exercised with the real `openai` SDK.
import { randomUUID } from "node:crypto";
import { getEncoding } from "js-tiktoken";
import OpenAI from "openai";
import type { ChatCompletionChunk, ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FALLBACK_EN, FALLBACK_FA } from "../../dev/openai/chat.ts";
import { type OpenAIStandIn, startOpenAIStandIn } from "../../dev/openai/server.ts";

const API_KEY = "test";
let standIn: OpenAIStandIn;
let origin: string;
let client: OpenAI;

beforeAll(async () => {
  standIn = await startOpenAIStandIn({ apiKey: API_KEY });
  origin = standIn.url.replace(/\/v1$/, "");
  client = new OpenAI({ baseURL: standIn.url, apiKey: API_KEY, maxRetries: 0 });
});
afterAll(() => standIn?.close());

/** A unique marker: fault rules match on it, so tests sharing the stand-in never see each other's faults. */
const marker = () => `mk-${randomUUID()}`;

async function addFault(spec: Record<string, unknown>) {
  const res = await fetch(`${origin}/__faults`, { method: "POST", body: JSON.stringify(spec) });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: number };
}

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

async function embedAll(texts: string[], model = "text-embedding-3-small"): Promise<number[][]> {
  const res = await client.embeddings.create({ model, input: texts });
  return res.data.map((d) => d.embedding);
}

describe("embeddings", () => {
  it("default request (base64 on the wire) gives 1536 unit-norm dims, same as float", async () => {
    const text = "DocuChat answers questions about your PDFs.";
    const def = await client.embeddings.create({ model: "text-embedding-3-small", input: text });
    expect(def.object).toBe("list");
    expect(def.model).toBe("text-embedding-3-small");
    expect(def.data).toHaveLength(1);
    expect(def.data[0]).toMatchObject({ object: "embedding", index: 0 });
    const v = def.data[0]!.embedding;
    expect(v).toHaveLength(1536);
    expect(norm(v)).toBeCloseTo(1, 5);

    const flt = await client.embeddings.create({ model: "text-embedding-3-small", input: text, encoding_format: "float" });
    expect(flt.data[0]!.embedding).toEqual(v); // both float32 on the server side

    const b64 = await client.embeddings.create({ model: "text-embedding-3-small", input: text, encoding_format: "base64" });
    expect(typeof b64.data[0]!.embedding).toBe("string");
    const buf = Buffer.from(b64.data[0]!.embedding, "base64");
    expect(buf.length).toBe(1536 * 4);
    expect(buf.readFloatLE(4 * 7)).toBe(v[7]);
  });

  it("is deterministic, honours dimensions, batches in order, and counts usage with cl100k_base", async () => {
    const [a1, a2, b] = await embedAll(["The same text.", "The same text.", "Something else entirely."]);
    expect(a1).toEqual(a2);
    expect(a1).not.toEqual(b);

    const small = await client.embeddings.create({ model: "text-embedding-3-small", input: "hello world", dimensions: 256 });
    expect(small.data[0]!.embedding).toHaveLength(256);
    expect(norm(small.data[0]!.embedding)).toBeCloseTo(1, 5);
    const large = await client.embeddings.create({ model: "text-embedding-3-large", input: "hello world" });
    expect(large.data[0]!.embedding).toHaveLength(3072);

    const texts = ["one", "two two", "سه سه سه"];
    const batch = await client.embeddings.create({ model: "text-embedding-3-small", input: texts });
    expect(batch.data.map((d) => d.index)).toEqual([0, 1, 2]);
    const enc = getEncoding("cl100k_base");
    const tokens = texts.reduce((n, t) => n + enc.encode(t).length, 0);
    expect(batch.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
  });

  it("accepts token-id input (decoded with cl100k_base)", async () => {
    const enc = getEncoding("cl100k_base");
    const text = "Invoices are due within thirty days.";
    const [fromText] = await embedAll([text]);
    const one = await client.embeddings.create({ model: "text-embedding-3-small", input: enc.encode(text) });
    const many = await client.embeddings.create({ model: "text-embedding-3-small", input: [enc.encode(text), enc.encode("x")] });
    expect(one.data[0]!.embedding).toEqual(fromText);
    expect(many.data[0]!.embedding).toEqual(fromText);
    expect(one.usage.prompt_tokens).toBe(enc.encode(text).length);
  });

  it("rejects unknown models (404 model_not_found), empty input and over 2048 inputs (400)", async () => {
    const notFound = await client.embeddings.create({ model: "no-such-model", input: "x" }).catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(OpenAI.NotFoundError);
    expect((notFound as InstanceType<typeof OpenAI.NotFoundError>).code).toBe("model_not_found");

    for (const input of ["", [] as string[], ["ok", ""], Array.from({ length: 2049 }, () => "x")]) {
      const err = await client.embeddings.create({ model: "text-embedding-3-small", input }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect((err as InstanceType<typeof OpenAI.BadRequestError>).type).toBe("invalid_request_error");
    }
    const okMax = await client.embeddings.create({ model: "text-embedding-3-small", input: Array.from({ length: 2048 }, () => "x") });
    expect(okMax.data).toHaveLength(2048);

    const dims = await client.embeddings.create({ model: "text-embedding-ada-002", input: "x", dimensions: 10 }).catch((e: unknown) => e);
    expect(dims).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it("retrieval: each query's nearest sentence is the expected one (English and Persian variants)", async () => {
    const docs = [
      "The Eiffel Tower is located in Paris, France.",
      "Photosynthesis converts sunlight into chemical energy in plants.",
      "The invoice must be paid within 30 days of receipt.",
      "Our refund policy allows returns within 14 days of purchase.",
      "تهران پایتخت ایران است.",
      "کتاب‌های علمی در کتابخانه مرکزی نگهداری می‌شوند.",
      "قرارداد باید ظرف ۳۰ روز امضا شود.",
      "فتوسنتز انرژی خورشید را به انرژی شیمیایی تبدیل می‌کند.",
    ];
    const queries: [string, number][] = [
      ["Where is the Eiffel Tower?", 0],
      ["how do plants turn sunlight into energy", 1],
      ["When does the invoice have to be paid?", 2],
      ["What is the refund policy?", 3],
      ["پایتخت ایران کجاست؟", 4],
      ["پايتخت ايران كجاست؟", 4], // Arabic yeh and kaf
      ["ﭘﺎﻳﺘﺨﺖ اﻳﺮاﻥ ﻛﺠﺎﺳﺖ؟", 4], // Arabic presentation forms
      ["كتابهاي علمي كجا نگهداري ميشوند", 5], // Arabic letters, no ZWNJ
      ["قرارداد ظرف چند روز امضا می‌شود؟", 6],
      ["ﻓﺘﻮﺳﻨﺘﺰ چیست؟", 7],
    ];
    const vecs = await embedAll([...docs, ...queries.map(([q]) => q)]);
    queries.forEach(([q, expected], i) => {
      const qv = vecs[docs.length + i]!;
      const scores = docs.map((_, d) => dot(qv, vecs[d]!));
      const bestIdx = scores.indexOf(Math.max(...scores));
      expect({ q, nearest: docs[bestIdx] }).toEqual({ q, nearest: docs[expected] });
    });
    // Variant spellings of the same Persian text embed identically.
    const [p1, p2, p3] = await embedAll(["کتاب‌های علمی ۱۲", "كتاب‌هاي علمي 12", "ﻛﺘﺎﺏ‌ﻫﺎﻱ ﻋﻠﻤﻲ ١٢"]);
    expect(p2).toEqual(p1);
    expect(p3).toEqual(p1);
  });
});

describe("chat completions", () => {
  const context = [
    "You are DocuChat. Answer only from the sources below and cite them like [1].",
    "Sources:",
    "[1] The Eiffel Tower is located in Paris. It was completed in 1889 for the World's Fair.",
    "[2] The Louvre is the world's most visited museum! It is also in Paris.",
    "[3] تهران پایتخت ایران است. جمعیت تهران حدود نه میلیون نفر است.",
  ].join("\n");
  const ask = (question: string): ChatCompletionMessageParam[] => [
    { role: "system", content: context },
    { role: "user", content: question },
  ];

  it("non-stream: extractive answer with [n] citations and o200k_base usage for gpt-4o-mini", async () => {
    const question = "Tell me about Paris landmarks: the Eiffel Tower and the Louvre museum";
    const res = await client.chat.completions.create({ model: "gpt-4o-mini", messages: ask(question) });
    expect(res.object).toBe("chat.completion");
    expect(res.model).toBe("gpt-4o-mini");
    expect(res.choices).toHaveLength(1);
    const choice = res.choices[0]!;
    expect(choice.finish_reason).toBe("stop");
    expect(choice.message.role).toBe("assistant");
    // Up to three sentences, best first, each with its source number; the system prompt's own text is never quoted.
    expect(choice.message.content).toBe(
      "The Eiffel Tower is located in Paris. [1] The Louvre is the world's most visited museum! [2] It is also in Paris. [2]",
    );

    const o200k = getEncoding("o200k_base");
    const msgs = ask(question);
    const prompt = 3 + msgs.reduce((n, m) => n + 3 + o200k.encode(m.role).length + o200k.encode(m.content as string).length, 0);
    const completion = o200k.encode(choice.message.content!).length;
    expect(res.usage).toMatchObject({ prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion });
  });

  it("stream: role delta first, word deltas, finish_reason stop, then a usage chunk", async () => {
    const messages = ask("Which museum is the most visited?");
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.id === chunks[0]!.id)).toBe(true);
    expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe("The Louvre is the world's most visited museum! [2]");
    expect(chunks.length).toBeGreaterThan(5); // small deltas
    const finishes = chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter(Boolean);
    expect(finishes).toEqual(["stop"]);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    const nonStream = await client.chat.completions.create({ model: "gpt-4o-mini", messages });
    expect(nonStream.choices[0]!.message.content).toBe(text);
    expect(last.usage).toEqual(nonStream.usage);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it("stream without include_usage sends no usage chunk", async () => {
    const stream = await client.chat.completions.create({ model: "gpt-4.1-mini", messages: ask("Where is the Louvre?"), stream: true });
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.every((c) => c.choices.length === 1 && c.usage === undefined)).toBe(true);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("stop");
  });

  it("Persian question (Arabic yeh/kaf) picks the Persian sentence", async () => {
    const res = await client.chat.completions.create({ model: "gpt-4o", messages: ask("جمعيت تهران چقدر است؟") });
    // Best sentence first; the capital sentence also mentions Tehran and scores above the cut-off.
    expect(res.choices[0]!.message.content).toBe("جمعیت تهران حدود نه میلیون نفر است. [3] تهران پایتخت ایران است. [3]");
    const capital = await client.chat.completions.create({ model: "gpt-4o", messages: ask("پايتخت ايران كجاست؟") });
    expect(capital.choices[0]!.message.content).toMatch(/^تهران پایتخت ایران است\. \[3\]/);
  });

  it("no match: the fallback answer, in Persian for Persian questions", async () => {
    const en = await client.chat.completions.create({ model: "gpt-4o-mini", messages: ask("What is the airspeed of an unladen swallow?") });
    expect(en.choices[0]!.message.content).toBe(FALLBACK_EN);
    const fa = await client.chat.completions.create({ model: "gpt-4o-mini", messages: ask("سرعت پرواز پرستو چقدر است؟") });
    expect(fa.choices[0]!.message.content).toBe(FALLBACK_FA);
    const noContext = await client.chat.completions.create({ model: "any-model-name", messages: [{ role: "user", content: "Hello?" }] });
    expect(noContext.choices[0]!.message.content).toBe(FALLBACK_EN);
  });

  it("context without numbered sources: answers without citations; max_tokens truncates with finish_reason length", async () => {
    const messages: ChatCompletionMessageParam[] = [
      { role: "system", content: "Invoices are due within 30 days. Late payments incur a 2% fee.\nSupport is open on weekdays." },
      { role: "user", content: "What fee applies to late payments?" },
    ];
    const res = await client.chat.completions.create({ model: "gpt-4o-mini", messages });
    expect(res.choices[0]!.message.content).toBe("Late payments incur a 2% fee.");
    const cut = await client.chat.completions.create({ model: "gpt-4o-mini", messages, max_completion_tokens: 2 });
    expect(cut.choices[0]!.finish_reason).toBe("length");
    expect(cut.usage!.completion_tokens).toBe(2);
    expect(res.choices[0]!.message.content!.startsWith(cut.choices[0]!.message.content!)).toBe(true);
  });

  it("bad requests: 400 with an OpenAI-shaped error", async () => {
    for (const body of [
      { model: "gpt-4o-mini", messages: [] },
      { model: "gpt-4o-mini" },
      { model: "gpt-4o-mini", messages: [{ role: "wizard", content: "hi" }] },
      { messages: [{ role: "user", content: "hi" }] },
      { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], stream_options: { include_usage: true } },
    ]) {
      const err = await client.chat.completions.create(body as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect((err as InstanceType<typeof OpenAI.BadRequestError>).type).toBe("invalid_request_error");
    }
    const res = await fetch(`${standIn.url}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: "{not json",
    });
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: Record<string, unknown> };
    expect(Object.keys(json.error).sort()).toEqual(["code", "message", "param", "type"]);
    expect(json.error.type).toBe("invalid_request_error");
  });
});

describe("models and auth", () => {
  it("lists models", async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(expect.arrayContaining(["gpt-4o-mini", "text-embedding-3-small"]));
    expect((await client.models.retrieve("gpt-4o-mini")).object).toBe("model");
  });

  it("rejects a wrong or missing API key with 401", async () => {
    const wrong = new OpenAI({ baseURL: standIn.url, apiKey: "sk-wrong-key-123", maxRetries: 0 });
    const err = await wrong.embeddings.create({ model: "text-embedding-3-small", input: "x" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe("invalid_api_key");
    const res = await fetch(`${standIn.url}/models`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
  });
});

describe("fault injection", () => {
  it("429 → RateLimitError with retry-after; only for matching requests", async () => {
    const mk = marker();
    await addFault({ match: mk, status: 429 });
    const err = await client.embeddings.create({ model: "text-embedding-3-small", input: `hello ${mk}` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const rl = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rl.status).toBe(429);
    expect(rl.code).toBe("rate_limit_exceeded");
    expect(rl.headers?.get("retry-after")).toBe("1");
    // times defaults to 1: the next matching request succeeds.
    await expect(client.embeddings.create({ model: "text-embedding-3-small", input: `hello ${mk}` })).resolves.toBeTruthy();
  });

  it("500 on chat → InternalServerError; endpoint filter; other requests unaffected", async () => {
    const mk = marker();
    await addFault({ match: mk, endpoint: "chat", status: 500 });
    // The embeddings endpoint is not affected by a chat rule, nor is chat without the marker.
    await expect(client.embeddings.create({ model: "text-embedding-3-small", input: mk })).resolves.toBeTruthy();
    await expect(client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] })).resolves.toBeTruthy();
    const err = await client.chat.completions
      .create({ model: "gpt-4o-mini", messages: [{ role: "user", content: `hi ${mk}` }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect((err as InstanceType<typeof OpenAI.InternalServerError>).status).toBe(500);
  });

  it("times: applies to exactly N of many concurrent matching requests", async () => {
    const mk = marker();
    await addFault({ match: mk, status: 503, times: 3 });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => client.embeddings.create({ model: "text-embedding-3-small", input: `${mk} #${i}` })),
    );
    const failed = results.filter((r) => r.status === "rejected");
    expect(failed).toHaveLength(3);
    for (const f of failed) expect((f as PromiseRejectedResult).reason).toBeInstanceOf(OpenAI.InternalServerError);
    const listed = (await (await fetch(`${origin}/__faults`)).json()) as { faults: { match: string }[] };
    expect(listed.faults.some((r) => r.match === mk)).toBe(false); // used up
  });

  it("delay_ms delays the answer", async () => {
    const mk = marker();
    await addFault({ match: mk, delay_ms: 300 });
    const t0 = Date.now();
    await client.embeddings.create({ model: "text-embedding-3-small", input: mk });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    const t1 = Date.now();
    await client.embeddings.create({ model: "text-embedding-3-small", input: mk });
    expect(Date.now() - t1).toBeLessThan(250);
  });

  it("cut_after_chunks: the stream breaks mid-way and the SDK's iteration throws", async () => {
    const mk = marker();
    await addFault({ match: mk, cut_after_chunks: 3 });
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [
        { role: "system", content: "[1] The Eiffel Tower is located in Paris and was completed in 1889 for the World's Fair." },
        { role: "user", content: `Where is the Eiffel Tower? ${mk}` },
      ],
      stream: true,
    });
    const got: ChatCompletionChunk[] = [];
    const err = await (async () => {
      for await (const c of stream) got.push(c);
    })().catch((e: unknown) => e);
    expect(got).toHaveLength(3);
    expect(got.every((c) => c.choices[0]!.finish_reason === null)).toBe(true);
    expect(err).toBeInstanceOf(Error); // undici's "terminated" TypeError, passed through by the SDK
    expect(String((err as Error).message)).toMatch(/terminated/);
  });

  it("delay_ms on a stream holds back the first chunk; cut on a non-stream request drops the connection", async () => {
    const mk = marker();
    await addFault({ match: mk, endpoint: "chat", delay_ms: 200 });
    const t0 = Date.now();
    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: mk }], stream: true });
    for await (const c of stream) {
      expect(c.choices[0]!.delta.role).toBe("assistant");
      break;
    }
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);

    const mk2 = marker();
    await addFault({ match: mk2, cut_after_chunks: 0 });
    const err = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: mk2 }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIConnectionError);
  });

  it("rejects malformed rules, and DELETE removes them", async () => {
    const bad = await fetch(`${origin}/__faults`, { method: "POST", body: JSON.stringify({ status: 500 }) });
    expect(bad.status).toBe(400);
    const mk = marker();
    const { id } = await addFault({ match: mk, status: 500, times: 5 });
    expect((await fetch(`${origin}/__faults/${id}`, { method: "DELETE" })).status).toBe(200);
    await expect(client.embeddings.create({ model: "text-embedding-3-small", input: mk })).resolves.toBeTruthy();
  });
});

describe("stats", () => {
  it("counts requests and the usage actually reported", async () => {
    // A private stand-in, so other tests' traffic doesn't disturb the totals.
    const own = await startOpenAIStandIn();
    try {
      const c = new OpenAI({ baseURL: own.url, apiKey: "x", maxRetries: 0 });
      const statsUrl = own.url.replace(/\/v1$/, "/__stats");
      const e = await c.embeddings.create({ model: "text-embedding-3-small", input: ["alpha beta", "gamma"] });
      const r = await c.chat.completions.create({
        model: "gpt-4o-mini",
        messages: [
          { role: "system", content: "[1] Alpha is first." },
          { role: "user", content: "What is alpha?" },
        ],
      });
      const s = await c.chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "hi" }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let streamUsage = 0;
      for await (const ch of s) streamUsage += ch.usage?.total_tokens ?? 0;
      const stats = (await (await fetch(statsUrl)).json()) as {
        requests: Record<string, number>;
        usage: { chat: { total_tokens: number }; embeddings: { total_tokens: number } };
        total_tokens: number;
      };
      expect(stats.requests).toMatchObject({ embeddings: 1, chat: 2, total: 3 });
      expect(stats.usage.embeddings.total_tokens).toBe(e.usage.total_tokens);
      expect(stats.usage.chat.total_tokens).toBe(r.usage!.total_tokens + streamUsage);
      expect(stats.total_tokens).toBe(e.usage.total_tokens + r.usage!.total_tokens + streamUsage);
    } finally {
      await own.close();
    }
  });
});
