// The OpenAI stand-in's vision path (OCR by tesseract), exercised with the real `openai` SDK the way
// the Worker will use it: a vision chat completion whose user message carries a page image as a data URL.
// Needs Debian's tesseract-ocr (+ -fas, -eng traineddata) and poppler-utils: .ci/run installs them, and
// these tests fail (never skip) without them.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getEncoding } from "js-tiktoken";
import OpenAI from "openai";
import type { ChatCompletionChunk, ChatCompletionContentPart, ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageInfo, imagePatches, imageTokens } from "../../dev/openai/images.ts";
import { type OpenAIStandIn, type OpenAIStandInOptions, startOpenAIStandIn } from "../../dev/openai/server.ts";

const API_KEY = "test";
const FIXTURES = new URL("../fixtures/pdf/", import.meta.url);
const SYSTEM = "You are an OCR engine. Transcribe the page image verbatim, keeping the reading order. Output only the text.";
const o200k = getEncoding("o200k_base");

let standIn: OpenAIStandIn;
let origin: string;
let client: OpenAI;
let tmp: string;
/** lshort-fa.pdf page 18 at 150 dpi, gray, PNG: Persian prose with an English example in two columns. */
let faPng: Buffer;
/** lshort-en.pdf page 2 at 150 dpi, gray, JPEG: the English copyright page. */
let enJpeg: Buffer;

/** Renders one PDF page with pdftoppm (to stdout). */
function render(pdf: string, page: number, format: "png" | "jpeg"): Buffer {
  return execFileSync("pdftoppm", ["-f", String(page), "-l", String(page), "-r", "150", "-gray", `-${format}`, new URL(pdf, FIXTURES).pathname], {
    maxBuffer: 64 * 1024 * 1024,
  });
}

function requireTools(): void {
  const problems: string[] = [];
  try {
    const langs = execFileSync("tesseract", ["--list-langs"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).split("\n");
    for (const l of ["fas", "eng"]) if (!langs.includes(l)) problems.push(`tesseract has no '${l}' traineddata (apt-get install tesseract-ocr-${l})`);
  } catch {
    problems.push("tesseract is not on PATH (apt-get install tesseract-ocr tesseract-ocr-fas tesseract-ocr-eng)");
  }
  try {
    execFileSync("pdftoppm", ["-v"], { stdio: "ignore" });
  } catch {
    problems.push("pdftoppm is not on PATH (apt-get install poppler-utils)");
  }
  if (problems.length) throw new Error(`The OCR tests need Debian's OCR tools (.ci/run installs them): ${problems.join("; ")}`);
}

beforeAll(async () => {
  requireTools();
  tmp = mkdtempSync(join(tmpdir(), "openai-ocr-test-"));
  faPng = render("lshort-fa.pdf", 18, "png");
  enJpeg = render("lshort-en.pdf", 2, "jpeg");
  standIn = await startOpenAIStandIn({ apiKey: API_KEY });
  origin = standIn.url.replace(/\/v1$/, "");
  client = new OpenAI({ baseURL: standIn.url, apiKey: API_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await standIn?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const dataUrl = (img: Buffer, type = "image/png") => `data:${type};base64,${img.toString("base64")}`;
const imagePart = (url: string, detail?: "low" | "high" | "auto"): ChatCompletionContentPart => ({
  type: "image_url",
  image_url: detail ? { url, detail } : { url },
});
/** The Worker's OCR request: a system prompt, then a user message of a text part and image parts. */
const ocrMessages = (prompt: string, ...images: ChatCompletionContentPart[]): ChatCompletionMessageParam[] => [
  { role: "system", content: SYSTEM },
  { role: "user", content: [{ type: "text", text: prompt }, ...images] },
];
/** Prompt tokens of the text alone: 3 per message + role + text (text parts joined by "\n"), +3 for the reply. */
const textPromptTokens = (messages: ChatCompletionMessageParam[]) =>
  3 +
  messages.reduce((n, m) => {
    const text =
      typeof m.content === "string"
        ? m.content
        : (m.content as { type: string; text?: string }[]).flatMap((p) => (p.type === "text" ? [p.text!] : [])).join("\n");
    return n + 3 + o200k.encode(m.role).length + o200k.encode(text).length;
  }, 0);

// faPng is 1241x1754: it fits 2048x2048; its shortest side scales to 768 -> 768x1085 -> 2x3 = 6 tiles of 512 px.
const FA_TILES = 6;
const MINI = { base: 2833, tile: 5667 }; // gpt-4o-mini bills images at ~33x gpt-4o's tokens
const GPT4O = { base: 85, tile: 170 };

type ApiErr = InstanceType<typeof OpenAI.APIError>;
const fail = (p: Promise<unknown>) =>
  p.then(
    () => expect.unreachable("the request should have failed"),
    (e: unknown) => e as ApiErr,
  );

/** Single-image OCR results, so later tests can compare against them without re-running tesseract. */
const single = new Map<string, Promise<string>>();
const ocrOnce = (key: string, url: string) => {
  if (!single.has(key))
    single.set(
      key,
      client.chat.completions
        .create({ model: "gpt-4o-mini", messages: ocrMessages("Transcribe.", imagePart(url)) })
        .then((r) => r.choices[0]!.message.content!),
    );
  return single.get(key)!;
};

describe("vision chat completions answered by tesseract", () => {
  it("non-stream: a Persian+English 150-dpi page is transcribed; usage = text tokens + billed image tokens", async () => {
    expect(imageInfo(faPng)).toEqual({ format: "png", width: 1241, height: 1754 });
    const messages = ocrMessages("Transcribe page 18 of the scanned PDF.", imagePart(dataUrl(faPng), "high"));
    const res = await client.chat.completions.create({ model: "gpt-4o-mini", messages, temperature: 0, stream: false });
    expect(res.object).toBe("chat.completion");
    expect(res.model).toBe("gpt-4o-mini");
    const choice = res.choices[0]!;
    expect(choice.finish_reason).toBe("stop");
    expect(choice.message.role).toBe("assistant");
    const text = choice.message.content!;
    // Persian prose (ZWNJ kept inside words) ...
    for (const w of ["فاصله", "پاراگراف", "حروف\u200cچینی", "چیزهایی که باید بدانید"]) expect(text).toContain(w);
    // ... and the English example printed on the same page.
    for (const w of ["It does not matter whether you", "An empty line starts a new", "paragraph"]) expect(text).toContain(w);
    // Cleaned like a model's answer: no form feed, no LRM/RLM marks, trimmed, no runs of blank lines.
    expect(text).not.toMatch(/[\f\u200E\u200F]/);
    expect(text).toBe(text.trim());
    expect(text).not.toMatch(/\n\s*\n\s*\n/);

    const prompt = textPromptTokens(messages) + MINI.base + MINI.tile * FA_TILES;
    const completion = o200k.encode(text).length;
    expect(res.usage).toMatchObject({ prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion });
    single.set("fa", Promise.resolve(text));
  });

  it("usage follows the model and detail: gpt-4o tiles, detail low, JPEG size read from its SOF header", async () => {
    expect(imageInfo(enJpeg)).toEqual({ format: "jpeg", width: 1241, height: 1754 });
    const messages = ocrMessages("Transcribe.", imagePart(dataUrl(enJpeg, "image/jpeg"), "low"));
    const res = await client.chat.completions.create({ model: "gpt-4o", messages });
    const text = res.choices[0]!.message.content!;
    for (const w of ["GNU General Public License", "Free Software Foundation", "Tobias Oetiker"]) expect(text).toContain(w);
    expect(res.usage!.prompt_tokens).toBe(textPromptTokens(messages) + GPT4O.base);
    expect(res.usage!.completion_tokens).toBe(o200k.encode(text).length);
    single.set("en", Promise.resolve(text));

    // OpenAI's documented examples.
    expect(imageTokens("gpt-4o", 1024, 1024, "high")).toBe(765);
    expect(imageTokens("gpt-4o", 2048, 4096, "high")).toBe(1105);
    expect(imageTokens("gpt-4o", 4096, 8192, "low")).toBe(85);
    expect(imageTokens("gpt-4o", 1241, 1754, "auto")).toBe(GPT4O.base + GPT4O.tile * FA_TILES);
    expect(imageTokens("gpt-4o-mini", 128, 64, "high")).toBe(MINI.base + MINI.tile);
    expect(imageTokens("gpt-4o-mini", 4096, 8192, "low")).toBe(MINI.base);
    expect(imagePatches(1024, 1024)).toBe(1024);
    expect(imagePatches(1800, 2400)).toBe(1452);
    expect(imageTokens("gpt-4.1-mini", 1024, 1024)).toBe(Math.ceil(1024 * 1.62));
  });

  it("stream: the same text in small deltas, finish_reason stop, usage chunk equal to the non-stream usage", async () => {
    const messages = ocrMessages("Transcribe page 18 of the scanned PDF.", imagePart(dataUrl(faPng), "high"));
    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true, stream_options: { include_usage: true } });
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.id === chunks[0]!.id)).toBe(true);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe(await ocrOnce("fa", dataUrl(faPng)));
    expect(chunks.length).toBeGreaterThan(50);
    expect(chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter(Boolean)).toEqual(["stop"]);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    const prompt = textPromptTokens(messages) + MINI.base + MINI.tile * FA_TILES;
    const completion = o200k.encode(text).length;
    expect(last.usage).toMatchObject({ prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion });
  });

  it("several images: their texts in request order, joined by a blank line; each image billed", async () => {
    const fa = await ocrOnce("fa", dataUrl(faPng));
    const en = await ocrOnce("en", dataUrl(enJpeg, "image/jpeg"));
    const messages = ocrMessages("Transcribe both pages.", imagePart(dataUrl(faPng), "high"), imagePart(dataUrl(enJpeg, "image/jpeg"), "low"));
    const res = await client.chat.completions.create({ model: "gpt-4o-mini", messages });
    expect(res.choices[0]!.message.content).toBe(`${fa}\n\n${en}`);
    expect(res.usage!.prompt_tokens).toBe(textPromptTokens(messages) + MINI.base + MINI.tile * FA_TILES + MINI.base);

    // max_completion_tokens cuts the transcription like any answer.
    const cut = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: ocrMessages("x", imagePart(dataUrl(faPng))),
      max_completion_tokens: 5,
    });
    expect(cut.choices[0]!.finish_reason).toBe("length");
    expect(cut.usage!.completion_tokens).toBe(5);
    expect(fa.startsWith(cut.choices[0]!.message.content!)).toBe(true);
  });

  it("bad images: 400 invalid_request_error with a code and a message naming the problem", async () => {
    const gif = Buffer.concat([Buffer.from("GIF89a"), Buffer.alloc(20)]);
    const truncatedPng = faPng.subarray(0, 3000); // a valid header, then nothing
    const cases: [string, string, RegExp][] = [
      ["data:image/png;base64,@@not base64@@", "invalid_base64", /Invalid base64 image_url.*not valid base64/],
      ["data:image/png,rawbytes", "invalid_base64", /not base64-encoded/],
      [dataUrl(Buffer.from("hello, not an image")), "invalid_image_format", /unsupported image.*not a PNG or JPEG/],
      [dataUrl(Buffer.from("<svg/>"), "text/plain"), "invalid_image_format", /media type is "text\/plain"/],
      [dataUrl(gif, "image/gif"), "invalid_image_format", /GIF and WebP .* not by this stand-in/],
      [dataUrl(truncatedPng), "invalid_image_format", /Please make sure your image is valid.*messages\[1\]\.content\[1\].*could not decode/],
      ["https://example.com/page.png", "invalid_image_url", /cannot download images/],
      ["ftp://example.com/page.png", "invalid_image_url", /expected a URL or a base64 data URL/],
    ];
    for (const [url, code, message] of cases) {
      const err = await fail(client.chat.completions.create({ model: "gpt-4o-mini", messages: ocrMessages("x", imagePart(url)) }));
      expect(err, url.slice(0, 40)).toBeInstanceOf(OpenAI.BadRequestError);
      expect({ url: url.slice(0, 40), type: err.type, code: err.code }).toEqual({ url: url.slice(0, 40), type: "invalid_request_error", code });
      expect(err.message).toMatch(message);
    }

    const detail = await fail(
      client.chat.completions.create({
        model: "gpt-4o-mini",
        messages: ocrMessages("x", { type: "image_url", image_url: { url: dataUrl(faPng), detail: "ultra" as "low" } }),
      }),
    );
    expect(detail).toMatchObject({ status: 400, code: "invalid_value", param: "messages[1].content[1].image_url.detail" });
    const notObject = await fail(
      client.chat.completions.create({ model: "gpt-4o-mini", messages: ocrMessages("x", { type: "image_url", image_url: dataUrl(faPng) } as never) }),
    );
    expect(notObject).toMatchObject({ status: 400, code: "invalid_type", param: "messages[1].content[1].image_url" });
    const inSystem = await fail(
      client.chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "system", content: [imagePart(dataUrl(faPng))] } as never, { role: "user", content: "x" }],
      }),
    );
    expect(inSystem).toMatchObject({ status: 400, code: "invalid_value", param: "messages[0]" });
    expect(inSystem.message).toMatch(/only allowed for messages with role 'user'/);
    const textOnly = await fail(client.chat.completions.create({ model: "gpt-3.5-turbo", messages: ocrMessages("x", imagePart(dataUrl(faPng))) }));
    expect(textOnly).toMatchObject({ status: 400, message: expect.stringMatching(/only supported by certain models/) });

    // Over 20 MB (decoded) -> 400, refused before decoding; the raw error body has the API's four fields.
    const big = Buffer.concat([faPng.subarray(0, 33), Buffer.alloc(20 * 1024 * 1024 + 1)]);
    const res = await fetch(`${standIn.url}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: ocrMessages("x", imagePart(dataUrl(big))) }),
    });
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: Record<string, unknown> };
    expect(Object.keys(json.error).sort()).toEqual(["code", "message", "param", "type"]);
    expect(json.error).toMatchObject({
      type: "invalid_request_error",
      code: "invalid_image_format",
      message: expect.stringMatching(/below 20 MB.*20\.0 MB/),
    });
  });

  it("fault injection applies to OCR requests like to any chat request", async () => {
    const mk = `mk-${randomUUID()}`;
    await fetch(`${origin}/__faults`, { method: "POST", body: JSON.stringify({ match: mk, endpoint: "chat", status: 503 }) });
    const err = await fail(
      client.chat.completions.create({ model: "gpt-4o-mini", messages: ocrMessages(`page 1 ${mk}`, imagePart(dataUrl(faPng))) }),
    );
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect(err.status).toBe(503);
    expect(err.code).toBeNull(); // the injected overload error, not ocr_unavailable

    const mk2 = `mk-${randomUUID()}`;
    await fetch(`${origin}/__faults`, { method: "POST", body: JSON.stringify({ match: mk2, cut_after_chunks: 3 }) });
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: ocrMessages(`page 1 ${mk2}`, imagePart(dataUrl(faPng))),
      stream: true,
    });
    const got: ChatCompletionChunk[] = [];
    const broke = await (async () => {
      for await (const c of stream) got.push(c);
    })().catch((e: unknown) => e);
    expect(got).toHaveLength(3);
    expect(String((broke as Error).message)).toMatch(/terminated/);
  });

  it("stats: OCR requests counted with the usage actually sent", async () => {
    const own = await startOpenAIStandIn();
    try {
      const c = new OpenAI({ baseURL: own.url, apiKey: "x", maxRetries: 0 });
      const a = await c.chat.completions.create({
        model: "gpt-4o-mini",
        messages: ocrMessages("x", imagePart(dataUrl(enJpeg, "image/jpeg"), "low")),
      });
      const s = await c.chat.completions.create({
        model: "gpt-4o",
        messages: ocrMessages("x", imagePart(dataUrl(enJpeg, "image/jpeg"))),
        stream: true,
        stream_options: { include_usage: true },
      });
      let streamTotal = 0;
      for await (const ch of s) streamTotal += ch.usage?.total_tokens ?? 0;
      await fail(c.chat.completions.create({ model: "gpt-4o-mini", messages: ocrMessages("x", imagePart(dataUrl(faPng.subarray(0, 3000)))) }));
      const stats = (await (await fetch(own.url.replace(/\/v1$/, "/__stats"))).json()) as {
        requests: Record<string, number>;
        usage: { chat: { total_tokens: number } };
        total_tokens: number;
        ocr: Record<string, number>;
      };
      expect(stats.requests).toMatchObject({ chat: 3, total: 3 });
      expect(stats.usage.chat.total_tokens).toBe(a.usage!.total_tokens + streamTotal);
      expect(stats.total_tokens).toBe(a.usage!.total_tokens + streamTotal);
      expect(stats.ocr).toEqual({ requests: 3, images: 2, failed: 1 });
    } finally {
      await own.close();
    }
  });
});

/** A private stand-in, optionally with OPENAI_STANDIN_* env vars set while it starts. */
async function withStandIn(opts: OpenAIStandInOptions, env: Record<string, string>, fn: (s: OpenAIStandIn, c: OpenAI) => Promise<void>) {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  let s: OpenAIStandIn;
  try {
    s = await startOpenAIStandIn(opts);
  } finally {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
  try {
    // Default retries (2): the point is that ocr_unavailable and ocr_timeout are not retried.
    await fn(s, new OpenAI({ baseURL: s.url, apiKey: "x" }));
  } finally {
    await s.close();
  }
}
const chatRequests = async (s: OpenAIStandIn) =>
  ((await (await fetch(s.url.replace(/\/v1$/, "/__stats"))).json()) as { requests: { chat: number } }).requests.chat;

/** A stand-in tesseract: a bash script (`--list-langs` answers eng+fas; a run executes `body`). */
function fakeTesseract(name: string, body: string): string {
  const path = join(tmp, name);
  writeFileSync(
    path,
    `#!/usr/bin/env bash\nif [ "$1" = "--list-langs" ]; then printf 'List of available languages in "/fake/" (2):\\neng\\nfas\\n'; exit 0; fi\n${body}\n`,
  );
  chmodSync(path, 0o755);
  return path;
}

describe("OCR availability, limits and configuration", () => {
  it("no tesseract: 503 server_error ocr_unavailable naming the fix, not retried by the SDK", async () => {
    await withStandIn({}, { OPENAI_STANDIN_TESSERACT: join(tmp, "no-such-dir", "tesseract") }, async (s, c) => {
      const err = await fail(
        c.chat.completions.create({ model: "gpt-4o-mini", messages: ocrMessages("x", imagePart(dataUrl(enJpeg, "image/jpeg"))) }),
      );
      expect(err).toBeInstanceOf(OpenAI.InternalServerError);
      expect(err).toMatchObject({ status: 503, type: "server_error", code: "ocr_unavailable" });
      // The body's message (the SDK's err.message prefixes the status).
      expect((err.error as { message: string }).message).toMatch(
        /^OCR is not available in the OpenAI stand-in: tesseract was not found at '.*no-such-dir\/tesseract'/,
      );
      expect(err.message).toContain("apt-get install tesseract-ocr tesseract-ocr-fas tesseract-ocr-eng");
      expect(err.headers?.get("x-should-retry")).toBe("false");
      expect(await chatRequests(s)).toBe(1); // one request: the SDK obeyed x-should-retry
      // Text-only chat still works without tesseract.
      await expect(c.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] })).resolves.toBeTruthy();
    });
    await withStandIn({ ocr: { tesseract: "tesseract-not-installed-here" } }, {}, async (_s, c) => {
      const err = await fail(
        c.chat.completions.create({ model: "gpt-4o-mini", messages: ocrMessages("x", imagePart(dataUrl(enJpeg, "image/jpeg"))) }),
      );
      expect(err).toMatchObject({ status: 503, code: "ocr_unavailable" });
      expect(err.message).toMatch(/tesseract was not found on PATH/);
    });
  });

  it("missing traineddata: 503 ocr_unavailable naming the language and its Debian package", async () => {
    await withStandIn({}, { OPENAI_STANDIN_OCR_LANGS: "fas+zzz_qq" }, async (s, c) => {
      const err = await fail(
        c.chat.completions.create({ model: "gpt-4o-mini", messages: ocrMessages("x", imagePart(dataUrl(enJpeg, "image/jpeg"))) }),
      );
      expect(err).toMatchObject({ status: 503, type: "server_error", code: "ocr_unavailable" });
      expect(err.message).toMatch(/no traineddata for 'zzz_qq' \(it has: .*fas.*\); apt-get install tesseract-ocr-zzz-qq/);
      expect(await chatRequests(s)).toBe(1);
    });
  });

  it("runs tesseract with stdin image, the configured languages, OMP_THREAD_LIMIT=1; cleans form feeds and bidi marks", async () => {
    const bin = fakeTesseract(
      "echo-tesseract",
      `head -c 8 | od -An -tx1 | tr -d ' \\n'; printf '\\n\\u200eargs: %s\\u200f\\n\\n\\n\\n\\fOMP=%s\\n\\f' "$*" "$OMP_THREAD_LIMIT"`,
    );
    await withStandIn({}, { OPENAI_STANDIN_TESSERACT: bin, OPENAI_STANDIN_OCR_LANGS: "eng" }, async (_s, c) => {
      const res = await c.chat.completions.create({ model: "gpt-4o-mini", messages: ocrMessages("x", imagePart(dataUrl(faPng))) });
      // The PNG signature arrived on stdin; the form feeds, LRM/RLM and extra blank lines are gone.
      expect(res.choices[0]!.message.content).toBe("89504e470d0a1a0a\nargs: stdin stdout -l eng --psm 3\n\nOMP=1");
    });
  });

  it("at most N tesseract runs at once (default 2), the rest queue; a client that leaves the queue frees its turn", async () => {
    const log = join(tmp, "concurrency.log");
    writeFileSync(log, "");
    const bin = fakeTesseract("slow-tesseract", `cat >/dev/null; echo + >> '${log}'; sleep 0.3; echo - >> '${log}'; echo done`);
    await withStandIn({ ocr: { tesseract: bin } }, {}, async (_s, c) => {
      const t0 = Date.now();
      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          c.chat.completions.create({ model: "gpt-4o-mini", messages: ocrMessages("x", imagePart(dataUrl(enJpeg, "image/jpeg"))) }),
        ),
      );
      expect(results.every((r) => r.choices[0]!.message.content === "done")).toBe(true);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(3 * 300 - 50); // 5 runs, 2 at a time: 3 rounds
      let running = 0;
      let max = 0;
      for (const ev of readFileSync(log, "utf8").split("\n").filter(Boolean)) {
        running += ev === "+" ? 1 : -1;
        max = Math.max(max, running);
      }
      expect(max).toBe(2);
    });

    writeFileSync(log, "");
    await withStandIn({ ocr: { tesseract: bin, concurrency: 1 } }, {}, async (_s, c) => {
      const first = c.chat.completions.create({ model: "gpt-4o-mini", messages: ocrMessages("x", imagePart(dataUrl(enJpeg, "image/jpeg"))) });
      const ac = new AbortController();
      const second = c.chat.completions.create(
        { model: "gpt-4o-mini", messages: ocrMessages("x", imagePart(dataUrl(enJpeg, "image/jpeg"))) },
        { signal: ac.signal },
      );
      setTimeout(() => ac.abort(), 100); // while it waits behind the first
      await expect(second).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
      await first;
      await new Promise((r) => setTimeout(r, 500));
      expect(
        readFileSync(log, "utf8")
          .split("\n")
          .filter((l) => l === "+"),
      ).toHaveLength(1); // the abandoned one never ran
      // ... and took no slot with it: the next request still gets the single slot.
      const next = c.chat.completions.create({ model: "gpt-4o-mini", messages: ocrMessages("x", imagePart(dataUrl(enJpeg, "image/jpeg"))) });
      const late = new Promise((r) => setTimeout(() => r("stuck"), 3000));
      expect(await Promise.race([next.then((r) => r.choices[0]!.message.content), late])).toBe("done");
    });
  });

  it("a run over the time limit is killed: 500 server_error ocr_timeout, not retried; a client that leaves kills its run", async () => {
    const pidFile = join(tmp, "stuck.pid");
    const bin = fakeTesseract("stuck-tesseract", `echo $$ > '${pidFile}'; exec sleep 30`);
    await withStandIn({ ocr: { tesseract: bin, timeoutMs: 300 } }, {}, async (s, c) => {
      const t0 = Date.now();
      const err = await fail(
        c.chat.completions.create({ model: "gpt-4o-mini", messages: ocrMessages("x", imagePart(dataUrl(enJpeg, "image/jpeg"))) }),
      );
      expect(err).toMatchObject({ status: 500, type: "server_error", code: "ocr_timeout" });
      expect(err.message).toMatch(/ran over 0\.3 s on messages\[1\]\.content\[1\]/);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(await chatRequests(s)).toBe(1);
    });

    writeFileSync(pidFile, "");
    await withStandIn({ ocr: { tesseract: bin } }, {}, async (_s, c) => {
      const ac = new AbortController();
      const req = c.chat.completions.create(
        { model: "gpt-4o-mini", messages: ocrMessages("x", imagePart(dataUrl(enJpeg, "image/jpeg"))) },
        { signal: ac.signal },
      );
      let pid = 0;
      for (let i = 0; i < 100 && !pid; i++) {
        await new Promise((r) => setTimeout(r, 20));
        pid = Number(readFileSync(pidFile, "utf8").trim()) || 0;
      }
      expect(pid).toBeGreaterThan(0);
      ac.abort();
      await expect(req).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
      let alive = true;
      for (let i = 0; i < 100 && alive; i++) {
        await new Promise((r) => setTimeout(r, 20));
        try {
          process.kill(pid, 0);
        } catch {
          alive = false;
        }
      }
      expect(alive).toBe(false); // killed, not left to run for 30 s
    });
  });
});
