// @docuchat/client (client/src) against `wrangler dev` and the local stack, as a Node app would use it: login,
// upload with progress, waiting for ingestion, typed search, and the chat socket (streaming, cancel, reconnect).
import { readFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, expectTypeOf, inject, it } from "vitest";
import {
  type AnswerFrame,
  type ChatState,
  type ClientFrame,
  CloseCode,
  createDocuChat,
  type DocuChatError,
  type ServerFrame,
  unwrap,
} from "../../client/src/index.ts";
import type { paths } from "../../client/src/schema.ts";
import {
  type ClientFrame as ServerClientFrame,
  CloseCode as ServerCloseCode,
  type ServerFrame as ServerServerFrame,
} from "../../src/chat/protocol.ts";

const api = inject("apiUrl");
const openaiUrl = inject("openaiUrl");
const PDF = "first-latex-doc-en.pdf";
const pdf = readFileSync(new URL(`../fixtures/pdf/${PDF}`, import.meta.url));

/** A TCP hop between the client and the API whose connections the test can cut, as a flaky network would. */
async function flakyProxy(target: URL): Promise<{ url: string; drop: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect(Number(target.port), target.hostname);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => s.destroy());
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    drop: () => {
      const n = sockets.size;
      for (const s of sockets) s.destroy();
      return n;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function collect(frames: AsyncIterable<AnswerFrame>) {
  const all: AnswerFrame[] = [];
  for await (const f of frames) all.push(f);
  const text = all.flatMap((f) => (f.type === "delta" ? [f.content] : [])).join("");
  return { all, text, done: all.at(-1) };
}

const fault = (spec: Record<string, unknown>) =>
  fetch(`${new URL(openaiUrl).origin}/__faults`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(spec) });

describe("@docuchat/client against the local stack", () => {
  const dc = createDocuChat({ baseUrl: api, tenant: "demo" });
  const email = `client.${Date.now()}@example.com`;
  let fileId = "";
  let proxy: Awaited<ReturnType<typeof flakyProxy>>;

  beforeAll(async () => {
    proxy = await flakyProxy(new URL(api));
  });
  afterAll(async () => {
    await fetch(`${new URL(openaiUrl).origin}/__faults`, { method: "DELETE" });
    await proxy.close();
  });

  it("declares the same frames and close codes as the server", () => {
    expectTypeOf<ServerFrame>().toEqualTypeOf<ServerServerFrame>();
    expectTypeOf<ClientFrame>().toEqualTypeOf<ServerClientFrame>();
    expect(CloseCode).toEqual(ServerCloseCode);
  });

  it("logs in with the dev code and sends the token on later calls", async () => {
    const wrong = await dc.verifyCode(email, "000000").catch((e: DocuChatError) => e);
    expect(wrong).toMatchObject({ name: "DocuChatError", status: 401, code: "invalid_code" });
    expect((wrong as DocuChatError).requestId).toMatch(/\S/);

    const login = await dc.login(email);
    expect(dc.token).toBe(login.access_token);
    const me = unwrap(await dc.api.GET("/v1/me"));
    expect(me.email).toBe(email);
  });

  it("reports an unknown tenant as the API's 404 error", async () => {
    const other = createDocuChat({ baseUrl: api, tenant: "no-such-tenant", token: dc.token });
    const err = await other.waitUntilReady("00000000-0000-4000-8000-000000000000").catch((e: DocuChatError) => e);
    expect(err).toMatchObject({ status: 404, code: "tenant_not_found" });
  });

  it("uploads with progress events and waits until the document is ready", async () => {
    const progress: { loaded: number; total: number }[] = [];
    const uploaded = await dc.uploadFile(new Blob([pdf], { type: "application/pdf" }), { filename: PDF, onProgress: (p) => progress.push(p) });
    expect(uploaded.filename).toBe(PDF);
    // Node's fetch cannot report upload bytes: the client reports the start and the end.
    expect(progress).toEqual([
      { loaded: 0, total: pdf.length },
      { loaded: pdf.length, total: pdf.length },
    ]);

    const statuses: string[] = [];
    const ready = await dc.waitUntilReady(uploaded.id, { intervalMs: 100, onProgress: (d) => statuses.push(d.status) });
    expect(ready.status).toBe("ready");
    expect(ready.page_count).toBeGreaterThan(0);
    expect(statuses.at(-1)).toBe("ready");
    fileId = ready.id;
  });

  it("uploads a Blob through the generated client's raw call, typed as Blob without a cast", async () => {
    // The same bytes again: the API answers 200 with the document the test above uploaded.
    const file = new File([pdf], PDF, { type: "application/pdf" });
    const res = await dc.api.POST("/v1/files", {
      body: { file },
      bodySerializer: (body) => {
        const form = new FormData();
        form.append("file", body.file, PDF);
        return form;
      },
    });
    expectTypeOf<paths["/v1/files"]["post"]["requestBody"]["content"]["multipart/form-data"]["file"]>().toEqualTypeOf<Blob>();
    expect(res.response.status).toBe(200);
    expect(unwrap(res).id).toBe(fileId);
  });

  it("throws the API's error when an upload is refused", async () => {
    const progress: number[] = [];
    const err = await dc
      .uploadFile(new Blob(["not a pdf"]), { filename: "notes.txt", onProgress: (p) => progress.push(p.loaded) })
      .catch((e: DocuChatError) => e);
    expect(err).toMatchObject({ name: "DocuChatError", status: 415, code: "unsupported_media_type" });
    expect((err as DocuChatError).requestId).toMatch(/\S/);
    expect(progress).toEqual([0]);
  });

  it("stops waiting when its signal is aborted", async () => {
    const controller = new AbortController();
    controller.abort(new Error("user left"));
    await expect(dc.waitUntilReady(fileId, { signal: controller.signal })).rejects.toThrow("user left");
  });

  it("searches through the typed client", async () => {
    const { results } = unwrap(await dc.api.POST("/v1/search", { body: { query: "How do I start a new section?", top_k: 3 } }));
    expect(results.length).toBeGreaterThan(0);
    expect(results[0]!.file_id).toBe(fileId);
    expect(results[0]!.page_start).toBeGreaterThan(0);
  });

  it("streams an answer with citations over the chat socket", async () => {
    const chat = dc.openChat();
    const sessionId = await chat.ready();
    const { all, text, done } = await collect(chat.ask("How do I start a new section?"));
    expect(all[0]!.type).toBe("citations");
    const citations = all[0]!.type === "citations" ? all[0]!.citations : [];
    expect(citations[0]).toMatchObject({ n: 1, file_id: fileId, filename: PDF });
    expect(all.filter((f) => f.type === "delta").length).toBeGreaterThan(1);
    expect(text).toMatch(/\[\d+\]/);
    expect(done).toMatchObject({ type: "done", status: "complete" });
    expect(chat.sessionId).toBe(sessionId);
    chat.close();
  });

  it("cancels an answer that is being written", async () => {
    const slow = `slow-${Date.now()}`;
    expect((await fault({ match: slow, endpoint: "chat", delay_ms: 5000 })).status).toBe(201);
    const chat = dc.openChat();
    const started = Date.now();
    const frames: AnswerFrame[] = [];
    for await (const f of chat.ask(`${slow} how do I start a new section?`)) {
      frames.push(f);
      if (f.type === "citations") chat.cancel();
    }
    expect(frames.at(-1)).toMatchObject({ type: "done", status: "cancelled" });
    expect(Date.now() - started).toBeLessThan(4000);
    chat.close();
  });

  it("reconnects to the same session after the connection drops", async () => {
    const flaky = createDocuChat({ baseUrl: proxy.url, tenant: "demo", token: dc.token });
    const states: ChatState[] = [];
    const chat = flaky.openChat({ reconnect: { delayMs: 50 }, onState: (s) => states.push(s) });
    const sessionId = await chat.ready();
    expect((await collect(chat.ask("How do I start a new section?"))).done).toMatchObject({ status: "complete" });

    expect(proxy.drop()).toBeGreaterThan(0);
    await expect.poll(() => states, { timeout: 10_000, interval: 20 }).toEqual(["open", "reconnecting", "open"]);
    expect(await chat.ready()).toBe(sessionId);

    expect((await collect(chat.ask("What is a paragraph?"))).done).toMatchObject({ status: "complete" });
    const { messages } = unwrap(await dc.api.GET("/v1/chat/sessions/{id}/messages", { params: { path: { id: sessionId } } }));
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    chat.close();
  });

  it("fails the answer in flight when the connection drops mid-answer", async () => {
    const slow = `slow-drop-${Date.now()}`;
    await fault({ match: slow, endpoint: "chat", delay_ms: 3000 });
    const flaky = createDocuChat({ baseUrl: proxy.url, tenant: "demo", token: dc.token });
    const chat = flaky.openChat({ reconnect: { delayMs: 50 } });
    await chat.ready();
    const answer = collect(chat.ask(`${slow} how do I start a new section?`));
    await new Promise((r) => setTimeout(r, 300));
    proxy.drop();
    await expect(answer).rejects.toMatchObject({ code: "connection_lost", retryable: true });
    chat.close();
  });

  it("does not reconnect once the session is deleted (close code 4004)", async () => {
    const states: [ChatState, string | undefined][] = [];
    const chat = dc.openChat({ reconnect: { delayMs: 50 }, onState: (s, e) => states.push([s, e?.code]) });
    const sessionId = await chat.ready();
    await collect(chat.ask("How do I start a new section?"));
    const deleted = await dc.api.DELETE("/v1/chat/sessions/{id}", { params: { path: { id: sessionId } } });
    expect(deleted.response.status).toBe(204);
    await expect.poll(() => states.at(-1), { timeout: 10_000, interval: 20 }).toEqual(["closed", "session_deleted"]);
    expect(states.map(([s]) => s)).toEqual(["open", "closed"]);
    await expect(chat.ready()).rejects.toMatchObject({ code: "session_deleted" });
  });
});
