// A local, deterministic, offline stand-in for the OpenAI API (embeddings, chat completions, models),
// shaped exactly like the real API so the Worker can use the real `openai` SDK against it.
// Chat requests with image parts (vision) are answered with the images' text, read by tesseract (ocr.ts).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { BodyTooLargeError, closeServer, listen, readBody, sendJson, serveFaultRules } from "../lib/http.ts";
import { answer, contentText, type PlainMessage } from "./chat.ts";
import { embed, toBase64 } from "./embeddings.ts";
import { ApiError, invalid } from "./errors.ts";
import { type FaultEndpoint, FaultRegistry, type FaultRule } from "./faults.ts";
import { type ImageInput, imageInputs, imageTokens } from "./images.ts";
import { OcrAbortedError, OcrEngine, type OcrOptions, ocrOptions } from "./ocr.ts";
import { chatPromptTokens, countTokens, decode, encode, encodingForModel } from "./tokens.ts";

export interface OpenAIStandIn {
  url: string; // http://127.0.0.1:PORT/v1
  close(): Promise<void>;
}

export interface OpenAIStandInOptions {
  port?: number;
  host?: string;
  /** If set, /v1 requests need `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  log?: (line: string) => void;
  /** OCR settings for vision requests; unset fields come from OPENAI_STANDIN_* env vars (see ocr.ts). */
  ocr?: Partial<OcrOptions>;
}

/** Native sizes of the accepted embedding models; only text-embedding-3-* accept `dimensions`. */
const EMBEDDING_MODELS: Record<string, number> = {
  "text-embedding-3-small": 1536,
  "text-embedding-3-large": 3072,
  "text-embedding-ada-002": 1536,
};
const LISTED_MODELS = ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1-nano", ...Object.keys(EMBEDDING_MODELS)];
const MAX_EMBEDDING_INPUTS = 2048;
const MAX_EMBEDDING_INPUT_TOKENS = 8192;
const MAX_EMBEDDING_REQUEST_TOKENS = 300_000;
const CHAT_ROLES = new Set(["system", "developer", "user", "assistant", "tool", "function"]);
const CREATED = 1_700_000_000; // fixed "created" for listed models

interface Stats {
  requests: { embeddings: number; chat: number; models: number; other: number; total: number };
  usage: {
    embeddings: { prompt_tokens: number; total_tokens: number };
    chat: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  };
  /** Sum of total_tokens over every usage object actually sent to a client. */
  total_tokens: number;
  faults_applied: number;
  /** Vision chat requests: how many came, images read by tesseract, requests that failed in OCR. */
  ocr: { requests: number; images: number; failed: number };
}

function emptyStats(): Stats {
  return {
    requests: { embeddings: 0, chat: 0, models: 0, other: 0, total: 0 },
    usage: { embeddings: { prompt_tokens: 0, total_tokens: 0 }, chat: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } },
    total_tokens: 0,
    faults_applied: 0,
    ocr: { requests: 0, images: 0, failed: 0 },
  };
}

/** The error an injected `status` fault answers with, worded like the API's. */
function faultError(rule: FaultRule): ApiError {
  const status = rule.status!;
  if (status === 429) {
    const headers: Record<string, string> = { "retry-after": String(Math.max(1, Math.ceil((rule.retry_after_ms ?? 1000) / 1000))) };
    if (rule.retry_after_ms !== undefined) headers["retry-after-ms"] = String(rule.retry_after_ms);
    return new ApiError(429, "Rate limit reached for requests (injected fault). Please try again later.", {
      type: "requests",
      code: "rate_limit_exceeded",
      headers,
    });
  }
  if (status >= 500)
    return new ApiError(
      status,
      status === 503
        ? "The engine is currently overloaded, please try again later."
        : "The server had an error while processing your request. Sorry about that!",
      { type: "server_error" },
    );
  return new ApiError(status, `Injected fault: HTTP ${status}.`);
}

export async function startOpenAIStandIn(opts: OpenAIStandInOptions = {}): Promise<OpenAIStandIn> {
  const host = opts.host ?? "127.0.0.1";
  const faults = new FaultRegistry();
  const ocr = new OcrEngine(ocrOptions(opts.ocr));
  let stats = emptyStats();
  let seq = 0;
  const timers = new Set<NodeJS.Timeout>();

  /** Waits `ms`, or less if the client goes away; resolves false if the response can no longer be sent. */
  const sleep = (ms: number, res: ServerResponse) =>
    new Promise<boolean>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        timers.delete(timer);
        res.off("close", done);
        resolve(!res.destroyed);
      };
      const timer = setTimeout(done, ms);
      timers.add(timer);
      res.once("close", done);
    });

  const countUsage = (endpoint: FaultEndpoint, u: { prompt_tokens: number; completion_tokens?: number; total_tokens: number }) => {
    const s = stats.usage[endpoint] as Record<string, number>;
    for (const k of ["prompt_tokens", "completion_tokens", "total_tokens"] as const) if (k in s) s[k]! += u[k] ?? 0;
    stats.total_tokens += u.total_tokens;
  };

  // ---- /v1/embeddings ----
  const embeddings = (body: Record<string, unknown>, res: ServerResponse, requestId: string) => {
    const model = body.model;
    if (typeof model !== "string" || !model) throw invalid("you must provide a model parameter", "model");
    const native = EMBEDDING_MODELS[model];
    if (!native) throw new ApiError(404, `The model \`${model}\` does not exist or you do not have access to it.`, { code: "model_not_found" });

    const texts = embeddingInputs(body.input); // [text, tokenCount][]
    const total = texts.reduce((n, [, t]) => n + t, 0);
    if (total > MAX_EMBEDDING_REQUEST_TOKENS)
      throw invalid(`Requested ${total} tokens, max ${MAX_EMBEDDING_REQUEST_TOKENS} tokens per request`, "input", "max_tokens_per_request");

    let dims = native;
    if (body.dimensions !== undefined && body.dimensions !== null) {
      if (model === "text-embedding-ada-002") throw invalid("This model does not support specifying dimensions.", "dimensions");
      const d = body.dimensions;
      if (typeof d !== "number" || !Number.isInteger(d) || d < 1 || d > native)
        throw invalid(`Invalid value for 'dimensions' = ${String(d)}. Must be an integer between 1 and ${native}.`, "dimensions");
      dims = d;
    }
    const format = body.encoding_format ?? "float";
    if (format !== "float" && format !== "base64")
      throw invalid(`Invalid value for 'encoding_format': '${String(format)}'. Supported values are: 'float' and 'base64'.`, "encoding_format");

    const usage = { prompt_tokens: total, total_tokens: total };
    const data = texts.map(([text], index) => {
      const vec = embed(text, dims);
      return { object: "embedding", index, embedding: format === "base64" ? toBase64(vec) : Array.from(vec) };
    });
    countUsage("embeddings", usage);
    sendJson(res, 200, { object: "list", data, model, usage }, { "x-request-id": requestId });
  };

  // ---- /v1/chat/completions ----
  const chat = async (body: Record<string, unknown>, res: ServerResponse, requestId: string, fault: FaultRule | undefined) => {
    const cut = fault?.cut_after_chunks;
    const model = body.model;
    if (typeof model !== "string" || !model) throw invalid("you must provide a model parameter", "model");
    const messages = chatMessages(body.messages);
    const stream = body.stream ?? false;
    if (typeof stream !== "boolean") throw invalid(`Invalid type for 'stream': expected a boolean.`, "stream");
    const so = body.stream_options;
    if (so !== undefined && so !== null && !stream)
      throw invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options");
    const includeUsage = !!(so && typeof so === "object" && (so as { include_usage?: unknown }).include_usage === true);
    const limit = body.max_completion_tokens ?? body.max_tokens ?? null;
    if (limit !== null && (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1))
      throw invalid(
        "Invalid 'max_completion_tokens': must be a positive integer.",
        body.max_completion_tokens != null ? "max_completion_tokens" : "max_tokens",
      );

    const images = imageInputs(body.messages as unknown[], model);
    if (!stream && cut !== undefined) return void res.destroy(); // a non-stream "cut": drop the connection unanswered

    const enc = encodingForModel(model);
    let text: string;
    if (images.length > 0) {
      const read = await readImages(images, res);
      if (read === null) return; // the client went away while tesseract worked
      text = read;
    } else text = fault?.reply ?? answer(messages);
    let tokens = encode(text, enc);
    let finish: "stop" | "length" = "stop";
    if (limit !== null && tokens.length > limit) {
      tokens = tokens.slice(0, limit);
      text = decode(tokens, enc).replace(/\uFFFD+$/, ""); // drop a half-cut multibyte character
      finish = "length";
    }
    // Text parts as for any chat request, plus each image as OpenAI bills it for this model and detail.
    const prompt = chatPromptTokens(messages, enc) + images.reduce((n, im) => n + imageTokens(model, im.width, im.height, im.detail), 0);
    const usage = {
      prompt_tokens: prompt,
      completion_tokens: tokens.length,
      total_tokens: prompt + tokens.length,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    };
    const id = `chatcmpl-${requestId.slice(4)}`;
    const created = Math.floor(Date.now() / 1000);
    const tail = { service_tier: "default", system_fingerprint: "fp_docuchat" };

    if (!stream) {
      countUsage("chat", usage);
      const message = { role: "assistant", content: text, refusal: null, annotations: [] };
      const choice = { index: 0, message, logprobs: null, finish_reason: finish };
      return sendJson(res, 200, { id, object: "chat.completion", created, model, choices: [choice], usage, ...tail }, { "x-request-id": requestId });
    }

    // SSE events: a role-only delta, then content deltas of about one word with finish_reason on the
    // last one (the real API puts it on an extra empty delta; SDK consumers handle both), then, with
    // include_usage, a choices:[] chunk carrying usage.
    const chunk = (choices: unknown[], usageField: object | null = null) => ({
      id,
      object: "chat.completion.chunk",
      created,
      model,
      choices,
      ...(includeUsage ? { usage: usageField } : {}), // with include_usage every chunk carries usage (null until the last)
      ...tail,
    });
    const events: object[] = [chunk([{ index: 0, delta: { role: "assistant", content: "", refusal: null }, logprobs: null, finish_reason: null }])];
    const pieces = text.match(/\s*\S+\s*/g) ?? [];
    pieces.forEach((p, i) => {
      events.push(chunk([{ index: 0, delta: { content: p }, logprobs: null, finish_reason: i === pieces.length - 1 ? finish : null }]));
    });
    if (pieces.length === 0) events.push(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: finish }]));
    if (includeUsage) events.push(chunk([], usage));

    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-request-id": requestId });
    for (const [i, ev] of events.entries()) {
      if (res.destroyed) return; // client went away
      if (cut !== undefined && i >= cut) return void res.destroy(); // abrupt end: no more events, no [DONE]
      await write(res, `data: ${JSON.stringify(ev)}\n\n`);
      if (includeUsage && i === events.length - 1) countUsage("chat", usage);
    }
    if (cut !== undefined) return void res.destroy();
    res.end("data: [DONE]\n\n");
  };

  /**
   * The text of each image, in request order, joined by a blank line (images with no text are left
   * out). Null if the client went away meanwhile (queued and running tesseracts are then stopped).
   */
  const readImages = async (images: ImageInput[], res: ServerResponse): Promise<string | null> => {
    stats.ocr.requests++;
    const ac = new AbortController();
    const onClose = () => ac.abort();
    res.once("close", onClose);
    try {
      await ocr.ensureAvailable();
      const texts = await Promise.all(
        images.map(async (im) => {
          const t0 = Date.now();
          const text = await ocr.recognize(im.data, im.param, ac.signal);
          opts.log?.(`[openai] ocr ${im.param}: ${im.format} ${im.width}x${im.height}, ${text.length} chars, ${Date.now() - t0}ms (queue included)`);
          return text;
        }),
      );
      stats.ocr.images += images.length;
      return texts.filter(Boolean).join("\n\n");
    } catch (err) {
      ac.abort(); // stop this request's other images
      if (err instanceof OcrAbortedError || res.destroyed) return null;
      stats.ocr.failed++;
      throw err;
    } finally {
      res.off("close", onClose);
    }
  };

  // ---- routing ----
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? "GET";
    const path = new URL(req.url ?? "/", "http://local").pathname.replace(/\/+$/, "") || "/";

    // Test-control endpoints (no auth).
    if (path === "/__faults" || path.startsWith("/__faults/")) return serveFaultRules(faults, req, res, path);
    if (path === "/__stats") {
      if (method === "GET") return sendJson(res, 200, stats);
      if (method === "DELETE") {
        stats = emptyStats();
        return sendJson(res, 200, stats);
      }
    }

    const requestId = `req_${(++seq).toString(16).padStart(12, "0")}`;
    const endpoint: FaultEndpoint | "models" | "other" =
      path === "/v1/embeddings" ? "embeddings" : path === "/v1/chat/completions" ? "chat" : path.startsWith("/v1/models") ? "models" : "other";
    stats.requests[endpoint]++;
    stats.requests.total++;
    try {
      if (opts.apiKey) checkAuth(req.headers.authorization, opts.apiKey);
      if (method === "GET" && path === "/v1/models")
        return sendJson(res, 200, { object: "list", data: LISTED_MODELS.map(modelObject) }, { "x-request-id": requestId });
      if (method === "GET" && path.startsWith("/v1/models/")) {
        const id = decodeURIComponent(path.slice("/v1/models/".length));
        if (!LISTED_MODELS.includes(id)) throw new ApiError(404, `The model '${id}' does not exist`, { param: "model", code: "model_not_found" });
        return sendJson(res, 200, modelObject(id), { "x-request-id": requestId });
      }
      if (method !== "POST" || (endpoint !== "embeddings" && endpoint !== "chat")) throw new ApiError(404, `Invalid URL (${method} ${path})`);

      const raw = (await readBody(req)).toString("utf8");
      const fault = faults.take(endpoint, raw);
      if (fault) {
        stats.faults_applied++;
        opts.log?.(`[openai] fault #${fault.id} on ${requestId}: ${JSON.stringify(fault)}`);
        if (fault.delay_ms && !(await sleep(fault.delay_ms, res))) return;
        if (fault.status) throw faultError(fault);
      }
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        throw invalid(
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
        );
      }
      if (!body || typeof body !== "object" || Array.isArray(body)) throw invalid("The request body must be a JSON object.");
      if (endpoint === "embeddings") {
        if (fault?.cut_after_chunks !== undefined) return void res.destroy();
        return embeddings(body as Record<string, unknown>, res, requestId);
      }
      return await chat(body as Record<string, unknown>, res, requestId, fault);
    } catch (err) {
      if (res.headersSent) return void res.destroy(); // mid-stream: nothing sane left to send
      // biome-ignore lint/suspicious/noCatchAssign: the caught error is turned into the API error it is answered as
      if (err instanceof BodyTooLargeError) err = new ApiError(413, err.message);
      if (!(err instanceof ApiError)) {
        opts.log?.(`[openai] internal error on ${requestId}: ${(err as Error)?.stack ?? String(err)}`);
        // biome-ignore lint/suspicious/noCatchAssign: as above
        err = new ApiError(500, "The server had an error while processing your request. Sorry about that!", { type: "server_error" });
      }
      const e = err as ApiError;
      sendJson(
        res,
        e.status,
        { error: { message: e.message, type: e.type, param: e.param, code: e.code } },
        { "x-request-id": requestId, ...e.headers },
      );
    }
  };

  const server = createServer((req, res) => {
    const started = Date.now();
    res.once("close", () =>
      opts.log?.(`[openai] ${req.method} ${req.url} ${res.writableFinished ? res.statusCode : "aborted"} ${Date.now() - started}ms`),
    );
    handle(req, res).catch(() => res.destroy());
  });
  const port = await listen(server, opts.port ?? 0, host);
  const urlHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}/v1`,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      ocr.close();
      await closeServer(server);
    },
  };
}

function modelObject(id: string) {
  return { id, object: "model", created: CREATED, owned_by: id.startsWith("text-embedding") ? "system" : "openai" };
}

function write(res: ServerResponse, data: string): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve();
    res.write(data, () => resolve());
  });
}

function checkAuth(header: string | undefined, apiKey: string): void {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!m)
    throw new ApiError(
      401,
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    );
  if (m[1] !== apiKey) {
    const k = m[1]!;
    const masked = k.length > 8 ? `${k.slice(0, 3)}${"*".repeat(k.length - 7)}${k.slice(-4)}` : "*".repeat(k.length);
    throw new ApiError(401, `Incorrect API key provided: ${masked}.`, { code: "invalid_api_key" });
  }
}

/** Validates an embeddings `input` into [text, token count] pairs (token arrays are decoded with cl100k_base). */
function embeddingInputs(input: unknown): [string, number][] {
  const bad = (why: string) =>
    invalid(`'$.input' is invalid: ${why}. Please check the API reference: https://platform.openai.com/docs/api-reference.`, "input");
  const isTokens = (v: unknown): v is number[] =>
    Array.isArray(v) && v.length > 0 && v.every((t) => typeof t === "number" && Number.isInteger(t) && t >= 0);
  let items: [string, number][];
  if (input === undefined || input === null) throw invalid("'input' is a required property", "input");
  if (typeof input === "string") {
    if (input === "") throw bad("empty string");
    items = [[input, countTokens(input)]];
  } else if (!Array.isArray(input) || input.length === 0) {
    throw bad("must be a non-empty string or a non-empty array");
  } else if (isTokens(input)) {
    items = [[decode(input), input.length]];
  } else {
    if (input.length > MAX_EMBEDDING_INPUTS) throw bad(`at most ${MAX_EMBEDDING_INPUTS} inputs per request, got ${input.length}`);
    items = input.map((v, i) => {
      if (typeof v === "string") {
        if (v === "") throw bad(`input[${i}] is an empty string`);
        return [v, countTokens(v)] as [string, number];
      }
      if (isTokens(v)) return [decode(v), v.length] as [string, number];
      throw bad(`input[${i}] must be a non-empty string or a non-empty array of token ids`);
    });
  }
  for (const [, n] of items)
    if (n > MAX_EMBEDDING_INPUT_TOKENS)
      throw invalid(
        `This model's maximum context length is ${MAX_EMBEDDING_INPUT_TOKENS} tokens, however you requested ${n} tokens (${n} in your prompt; 0 for the completion). Please reduce your prompt; or completion length.`,
        "input",
      );
  return items;
}

/** Validates chat `messages` into role + text pairs. */
function chatMessages(messages: unknown): PlainMessage[] {
  if (messages === undefined || messages === null) throw invalid("Missing required parameter: 'messages'.", "messages", "missing_required_parameter");
  if (!Array.isArray(messages)) throw invalid("Invalid type for 'messages': expected an array of objects.", "messages", "invalid_type");
  if (messages.length === 0) throw invalid("[] is too short - 'messages'", "messages", "empty_array");
  return messages.map((m, i) => {
    if (!m || typeof m !== "object") throw invalid(`Invalid type for 'messages[${i}]': expected an object.`, `messages[${i}]`, "invalid_type");
    const { role, content, name } = m as { role?: unknown; content?: unknown; name?: unknown };
    if (typeof role !== "string" || !CHAT_ROLES.has(role))
      throw invalid(`Invalid value for 'messages[${i}].role': '${String(role)}'.`, `messages[${i}].role`, "invalid_value");
    const okContent = typeof content === "string" || Array.isArray(content) || (content == null && role === "assistant");
    if (!okContent)
      throw invalid(`Invalid type for 'messages[${i}].content': expected a string or an array.`, `messages[${i}].content`, "invalid_type");
    return { role, text: contentText(content), ...(typeof name === "string" ? { name } : {}) };
  });
}
