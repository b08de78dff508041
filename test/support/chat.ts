// A small client for the chat WebSocket (GET /ws/chat) inside workerd, plus the OpenAI stand-in's test controls.

import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import type { Citation, ServerFrame } from "../../src/chat/protocol.ts";
import type { Totals, WindowReport } from "../../src/usage/report.ts";
import { call, json, uniqueIp } from "./api.ts";

// The protocol's own types: the tests read exactly what the server declares it sends.
export type { Citation, Usage } from "../../src/chat/protocol.ts";
export type Frame = ServerFrame;

export type FrameOf<T extends Frame["type"]> = Extract<Frame, { type: T }>;

export interface UpgradeOptions {
  token?: string;
  /** The tenant; null sends none. Goes in ?tenant= unless tenantHeader is set. */
  tenant?: string | null;
  tenantHeader?: boolean;
  /** Send the token in Sec-WebSocket-Protocol ("docuchat, bearer.<token>") instead of ?token=. */
  tokenInProtocol?: boolean;
  sessionId?: string;
  origin?: string;
  /** false: a plain GET without the Upgrade header. */
  upgrade?: boolean;
}

/** The raw upgrade request: the Response (101 with a webSocket, or an HTTP error). */
export function upgradeRequest(options: UpgradeOptions = {}): Promise<Response> {
  const url = new URL("http://docuchat.test/ws/chat");
  const headers = new Headers({ "CF-Connecting-IP": uniqueIp() });
  if (options.upgrade !== false) headers.set("Upgrade", "websocket");
  const tenant = options.tenant === undefined ? "acme" : options.tenant;
  if (tenant !== null) {
    if (options.tenantHeader) headers.set("X-Tenant-ID", tenant);
    else url.searchParams.set("tenant", tenant);
  }
  if (options.token !== undefined) {
    if (options.tokenInProtocol) headers.set("Sec-WebSocket-Protocol", `docuchat, bearer.${options.token}`);
    else url.searchParams.set("token", options.token);
  }
  if (options.sessionId) url.searchParams.set("session_id", options.sessionId);
  if (options.origin) headers.set("Origin", options.origin);
  return exports.default.fetch(new Request(url, { headers }));
}

export interface Answer {
  citations: Citation[] | null;
  deltas: string[];
  /** The deltas concatenated. */
  text: string;
  done: FrameOf<"done"> | null;
  error: FrameOf<"error"> | null;
  /** Every frame of this answer, in order. */
  frames: Frame[];
}

type Waiter = { match: (f: Frame) => boolean; resolve: (f: Frame) => void };

export class ChatClient {
  readonly ws: WebSocket;
  readonly response: Response;
  /** Every frame received, in order. */
  readonly frames: Frame[] = [];
  /** Frames before this index were already consumed by next(). */
  private cursor = 0;
  private waiters: Waiter[] = [];
  private closeWaiters: Array<(e: { code: number; reason: string }) => void> = [];
  closed: { code: number; reason: string } | null = null;
  sessionId = "";

  private constructor(response: Response) {
    this.response = response;
    this.ws = response.webSocket!;
    this.ws.accept();
    this.ws.addEventListener("message", (e) => {
      const frame = JSON.parse(typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data as ArrayBuffer)) as Frame;
      this.frames.push(frame);
      this.wake();
    });
    this.ws.addEventListener("close", (e) => {
      this.closed = { code: e.code, reason: e.reason };
      for (const w of this.closeWaiters.splice(0)) w(this.closed);
    });
  }

  /** Opens a socket; fails unless the upgrade answers 101. Waits for the session frame. */
  static async open(options: UpgradeOptions = {}): Promise<ChatClient> {
    const res = await upgradeRequest(options);
    if (res.status !== 101 || !res.webSocket) throw new Error(`upgrade answered ${res.status}: ${await res.text()}`);
    const client = new ChatClient(res);
    client.sessionId = (await client.next("session")).session_id;
    return client;
  }

  private wake() {
    for (const w of [...this.waiters]) {
      const i = this.frames.findIndex((f, idx) => idx >= this.cursor && w.match(f));
      if (i >= 0) {
        this.cursor = i + 1;
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(this.frames[i]!);
      }
    }
  }

  /** The next not-yet-consumed frame of this type (skipping others), within timeoutMs. */
  next<T extends Frame["type"]>(type: T, timeoutMs = 15_000): Promise<FrameOf<T>> {
    return this.nextMatching((f) => f.type === type, `a '${type}' frame`, timeoutMs) as Promise<FrameOf<T>>;
  }

  nextMatching(match: (f: Frame) => boolean, what = "a matching frame", timeoutMs = 15_000): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${what} within ${timeoutMs} ms; frames so far: ${JSON.stringify(this.frames).slice(0, 2000)}`));
      }, timeoutMs);
      const waiter: Waiter = {
        match,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      this.waiters.push(waiter);
      this.wake();
    });
  }

  send(frame: unknown) {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Sends a message frame; does not wait. */
  message(content: string, extra: { session_id?: string; file_ids?: string[]; model?: string } = {}) {
    this.send({ type: "message", content, ...extra });
  }

  /** Collects this socket's frames of one answer (from the cursor) until its done or error frame. */
  async collect(timeoutMs = 20_000): Promise<Answer> {
    const start = this.cursor;
    const end = await this.nextMatching((f) => f.type === "done" || f.type === "error", "done/error frame", timeoutMs);
    const frames = this.frames.slice(start, this.cursor);
    const citationsFrame = frames.find((f) => f.type === "citations") as FrameOf<"citations"> | undefined;
    const deltas = frames.filter((f): f is FrameOf<"delta"> => f.type === "delta").map((f) => f.content);
    return {
      citations: citationsFrame?.citations ?? null,
      deltas,
      text: deltas.join(""),
      done: end.type === "done" ? end : null,
      error: end.type === "error" ? end : null,
      frames,
    };
  }

  /** Sends a question and waits for its whole answer. */
  async ask(content: string, extra: { session_id?: string; file_ids?: string[]; model?: string } = {}, timeoutMs = 20_000): Promise<Answer> {
    this.message(content, extra);
    return this.collect(timeoutMs);
  }

  async ping(timeoutMs = 5_000): Promise<FrameOf<"pong">> {
    this.send({ type: "ping" });
    return this.next("pong", timeoutMs);
  }

  waitClosed(timeoutMs = 5_000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`socket not closed within ${timeoutMs} ms`)), timeoutMs);
      this.closeWaiters.push((e) => {
        clearTimeout(timer);
        resolve(e);
      });
    });
  }

  close() {
    try {
      this.ws.close(1000, "test done");
    } catch {
      // already closed
    }
  }
}

/**
 * The " [n]" markers the model put after its sentences, in order. Document text can contain its own bracketed
 * numbers (a bibliography's "MacTEX [7], a version"), so only a marker followed by a space or the end counts.
 */
export const citationMarkers = (text: string) => [...text.matchAll(/ \[(\d+)\](?= |$)/g)].map((m) => Number(m[1]));

/** The sentence of an answer containing `needle`, and the [n] the stand-in put right after it. */
export function citedSentence(text: string, needle: string): { sentence: string; n: number } | null {
  for (const m of text.matchAll(/(.*?) \[(\d+)\](?: |$)/g)) if (m[1]!.includes(needle)) return { sentence: m[1]!.trim(), n: Number(m[2]) };
  return null;
}

/** A unique marker to put in a question so that an injected fault applies to that question only. */
export const marker = (label = "mark") => `${label}${crypto.randomUUID().replace(/-/g, "")}`;

const standIn = (path: string, init?: RequestInit) => fetch(new URL(path, env.OPENAI_BASE_URL), init);

export interface FaultSpec {
  match: string;
  endpoint?: "chat" | "embeddings";
  status?: number;
  delay_ms?: number;
  cut_after_chunks?: number;
  /** Chat: the model's answer, verbatim. */
  reply?: string;
  times?: number;
  retry_after_ms?: number;
}

/** Registers a fault on the OpenAI stand-in; returns its id. */
export async function injectFault(spec: FaultSpec): Promise<number> {
  const res = await standIn("/__faults", { method: "POST", body: JSON.stringify(spec) });
  if (res.status !== 201) throw new Error(`fault refused (${res.status}): ${await res.text()}`);
  return (await res.json<{ id: number }>()).id;
}

export async function liveFaults(): Promise<Array<{ id: number; remaining: number }>> {
  return (await (await standIn("/__faults")).json<{ faults: Array<{ id: number; remaining: number }> }>()).faults;
}

export async function removeFault(id: number) {
  await standIn(`/__faults/${id}`, { method: "DELETE" });
}

/** What the stand-in charges for embedding this text (its usage.prompt_tokens), asked of the stand-in itself. */
export async function embeddingTokens(text: string): Promise<number> {
  const res = await standIn("/v1/embeddings", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${env.OPENAI_API_KEY}` },
    body: JSON.stringify({ model: env.EMBEDDING_MODEL ?? "text-embedding-3-small", input: [text], dimensions: 1536 }),
  });
  if (res.status !== 200) throw new Error(`embeddings answered ${res.status}: ${await res.text()}`);
  return (await res.json<{ usage: { prompt_tokens: number } }>()).usage.prompt_tokens;
}

/**
 * Runs this session's Durable Object with some bindings changed (as a deployment with other settings would),
 * like api-surface's fetchWithEnv does for the Worker. The object reads its config from `this.env` per message.
 */
export async function overrideSessionEnv(sessionId: string, overrides: Record<string, string>) {
  const ns = env.CHAT_SESSIONS as DurableObjectNamespace;
  await runInDurableObject(ns.get(ns.idFromName(sessionId)), (instance: unknown) => {
    const o = instance as { env: Record<string, unknown> };
    o.env = { ...o.env, ...overrides };
  });
}

export interface StoredMessage {
  id: string;
  role: "user" | "assistant";
  content: string;
  status: "complete" | "incomplete";
  citations: Citation[];
  model: string | null;
  usage: { prompt_tokens: number; completion_tokens: number };
  created_at: string;
}

/** GET /v1/chat/sessions/{id}/messages; throws unless 200. */
export async function sessionMessages(token: string, sessionId: string, tenant = "acme") {
  const res = await call(`/v1/chat/sessions/${sessionId}/messages`, { token, tenant });
  if (res.status !== 200) throw new Error(`messages answered ${res.status}: ${await res.text()}`);
  return json<{ session: { id: string; title: string | null; created_at: string; updated_at: string }; messages: StoredMessage[] }>(res);
}

/**
 * Asserts over HTTP that nothing was stored for this session: a session is stored with its first question, so
 * one where nothing was asked (or every question was refused) is unknown to the API.
 */
export async function expectNothingStored(token: string, sessionId: string, tenant = "acme") {
  const res = await call(`/v1/chat/sessions/${sessionId}/messages`, { token, tenant });
  if (res.status !== 404) throw new Error(`expected session ${sessionId} not to be stored, got ${res.status}: ${await res.text()}`);
}

export type { Totals };
export type UsageReport = Record<"last_24h" | "last_7d", WindowReport> & {
  daily_budget: { user: { used: number; limit: number }; tenant: { remaining_fraction: number | null } };
};

/** GET /v1/usage; throws unless 200. */
export async function usageReport(token: string, tenant = "acme"): Promise<UsageReport> {
  const res = await call("/v1/usage", { token, tenant });
  if (res.status !== 200) throw new Error(`usage answered ${res.status}: ${await res.text()}`);
  return json<UsageReport>(res);
}

/** Polls until check() returns a value (not undefined), or fails after timeoutMs. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the stand-in has applied this fault `times` times in all (a used-up rule disappears). */
export function faultUsedUp(id: number, timeoutMs = 10_000) {
  return eventually(async () => ((await liveFaults()).some((f) => f.id === id) ? undefined : true), timeoutMs, `fault ${id} used up`);
}
