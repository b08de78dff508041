// GET /asyncapi.json: the chat WebSocket protocol as an AsyncAPI 3.0 document. The document must be valid AsyncAPI,
// and every frame real sockets exchange (answers, errors, pings, cancels, hang-ups) must match its message schema.
import asyncApi300 from "@asyncapi/specs/schemas/3.0.0.json";
import Ajv, { type ValidateFunction } from "ajv";
import { beforeAll, describe, expect, it } from "vitest";
import { call, json, login, upload, waitForIngestion } from "../support/api.ts";
import { ChatClient, type Frame, faultUsedUp, injectFault, marker, overrideSessionEnv } from "../support/chat.ts";
import { makeTextPdf } from "../support/pdf-factory.ts";

const FERRY = "The ferry to Bergen leaves at nine in the morning. Tickets cost forty crowns. The crossing takes three hours.";

type Direction = "send" | "receive";
/** The served document, walked by key. */
let doc: any;
const validators: Record<Direction, Map<string, ValidateFunction>> = { send: new Map(), receive: new Map() };
let owner: { token: string };

/** Follows a local "#/a/b" reference in the document. */
const resolve = (ref: string) =>
  ref
    .slice(2)
    .split("/")
    .reduce((node, key) => node?.[key], doc);

/** The schema errors of a frame in this direction, by the message its operation lists for the frame's type. */
function problems(direction: Direction, frame: unknown): string | null {
  const type = (frame as { type?: unknown })?.type;
  const validate = validators[direction].get(String(type));
  if (!validate) return `no ${direction} message for type ${JSON.stringify(type)}`;
  return validate(frame) ? null : JSON.stringify(validate.errors);
}

function expectConforms(direction: Direction, frames: unknown[]) {
  expect(frames.length).toBeGreaterThan(0);
  for (const frame of frames) expect(problems(direction, frame), JSON.stringify(frame)).toBeNull();
}

/** Sends a frame after checking it against the client schema: the tests speak only the documented protocol. */
function sendChecked(chat: ChatClient, frame: Record<string, unknown>) {
  expectConforms("send", [frame]);
  chat.send(frame);
}

beforeAll(async () => {
  const res = await call("/asyncapi.json", { tenant: null });
  expect(res.status).toBe(200);
  expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
  doc = await json(res);
  // The payloads are draft-07 (AsyncAPI's own schema dialect); z.uuid() also carries a pattern, so the
  // format annotation need not be checked separately.
  const ajv = new Ajv({ allErrors: true, strict: true, formats: { uuid: true } });
  for (const direction of ["send", "receive"] as const)
    for (const { $ref } of doc.operations[direction].messages) {
      const message = resolve(resolve($ref).$ref);
      validators[direction].set(message.name, ajv.compile(message.payload));
    }

  owner = await login();
  const file = await json(await upload(owner.token, makeTextPdf([FERRY]), "ferry.pdf"));
  expect((await waitForIngestion(owner.token, file.id)).doc.status).toBe("ready");
});

describe("the document", () => {
  it("is a valid AsyncAPI 3.0.0 document for /ws/chat on this Worker", () => {
    // The official schema bundles its own copy of the draft-07 meta-schema, so ajv must not add its one.
    const validate = new Ajv({ meta: false, validateSchema: false, validateFormats: false, strict: false, allErrors: true }).compile(asyncApi300);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(doc.asyncapi).toBe("3.0.0");
    expect(doc.servers.worker).toMatchObject({ host: "docuchat.test", protocol: "ws" });
    expect(doc.channels.chat.address).toBe("/ws/chat");
    expect(Object.keys(doc.channels.chat.bindings.ws.query.properties)).toEqual(["token", "tenant", "session_id"]);
    expect(doc.operations.send.action).toBe("send");
    expect(doc.operations.receive.action).toBe("receive");
  });

  it("names one message per frame type, each with a title, summary and examples, all references resolving", () => {
    expect([...validators.send.keys()]).toEqual(["message", "cancel", "ping"]);
    expect([...validators.receive.keys()]).toEqual(["session", "citations", "delta", "done", "error", "pong"]);
    const refs = JSON.stringify(doc)
      .match(/"\$ref":"[^"]+"/g)!
      .map((r) => r.slice(8, -1));
    expect(refs.length).toBeGreaterThan(9);
    for (const ref of refs) expect(resolve(ref), ref).toBeDefined();
    for (const [name, message] of Object.entries<any>(doc.components.messages)) {
      expect(message).toMatchObject({ name, title: expect.any(String), summary: expect.any(String) });
      expect(message.examples.length).toBeGreaterThan(0);
      // The examples are frames too: they match their own schema.
      expectConforms(
        validators.send.has(name) ? "send" : "receive",
        message.examples.map((e: { payload: unknown }) => e.payload),
      );
    }
  });

  it("documents how to authenticate and every close code", () => {
    const text = doc.info.description;
    for (const code of ["4001", "4003", "4004", "?token=", "bearer.<token>", "?tenant="]) expect(text).toContain(code);
    expect(Object.values<any>(doc.components.securitySchemes).map((s) => [s.in, s.name])).toEqual([
      ["query", "token"],
      ["header", "Sec-WebSocket-Protocol"],
    ]);
  });
});

describe("the schemas", () => {
  it.each<[string, Direction, unknown]>([
    ["a delta whose content is not a string", "receive", { type: "delta", content: 7 }],
    [
      "a done with an unknown status",
      "receive",
      { type: "done", message_id: crypto.randomUUID(), status: "finished", usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } },
    ],
    ["an error with an undocumented code", "receive", { type: "error", code: "oops", message: "x", retryable: false }],
    ["an error without retryable", "receive", { type: "error", code: "busy", message: "x" }],
    [
      "a citation with a page 0",
      "receive",
      {
        type: "citations",
        citations: [{ n: 1, file_id: crypto.randomUUID(), filename: "a.pdf", page_start: 0, page_end: 1, chunk_id: crypto.randomUUID(), score: 1 }],
      },
    ],
    ["a session frame with an extra field", "receive", { type: "session", session_id: crypto.randomUUID(), user_id: "u" }],
    ["an undocumented frame type", "receive", { type: "typing" }],
    ["a blank question", "send", { type: "message", content: "   " }],
    ["a question over 4000 characters", "send", { type: "message", content: "a".repeat(4001) }],
    ["file_ids that are not uuids", "send", { type: "message", content: "hi", file_ids: ["nope"] }],
    ["a client frame of an unknown type", "send", { type: "shout" }],
  ])("reject %s", (_, direction, frame) => {
    expect(problems(direction, frame)).not.toBeNull();
  });
});

describe("the real frames match the schemas", () => {
  it("a whole answer: session, citations, deltas, done", async () => {
    const chat = await ChatClient.open({ token: owner.token });
    sendChecked(chat, { type: "message", content: "When does the ferry to Bergen leave?" });
    const a = await chat.collect();
    expect(a.done?.status).toBe("complete");
    expect(a.citations!.length).toBeGreaterThan(0);
    expect(a.deltas.length).toBeGreaterThan(1);
    expect(chat.frames.map((f) => f.type)).toEqual(["session", "citations", ...a.deltas.map(() => "delta"), "done"]);
    expectConforms("receive", chat.frames);
    chat.close();
  });

  it("pong, and a cancelled answer's done", async () => {
    const m = marker("schema-cancel");
    const fault = await injectFault({ match: m, endpoint: "chat", delay_ms: 10_000 });
    const chat = await ChatClient.open({ token: owner.token });
    sendChecked(chat, { type: "ping" });
    await chat.next("pong");
    sendChecked(chat, { type: "message", content: `When does the ferry leave? ${m}`, session_id: chat.sessionId });
    await chat.next("citations");
    await faultUsedUp(fault);
    sendChecked(chat, { type: "cancel" });
    expect((await chat.collect(5_000)).done?.status).toBe("cancelled");
    expectConforms("receive", chat.frames);
    chat.close();
  });

  it("error frames for bad frames, a busy session and the rate limit", async () => {
    const m = marker("schema-busy");
    await injectFault({ match: m, endpoint: "chat", delay_ms: 1_500 });
    const chat = await ChatClient.open({ token: owner.token });
    const errors: Frame[] = [];
    chat.send("{oops");
    errors.push(await chat.next("error"));
    chat.send({ type: "message", content: "a".repeat(4001) });
    errors.push(await chat.next("error"));
    sendChecked(chat, { type: "message", content: `When does the ferry leave? ${m}` });
    await chat.next("citations");
    sendChecked(chat, { type: "message", content: "And how much is a ticket?" });
    errors.push(await chat.next("error"));
    await chat.collect();
    // One message an hour from now on: the next one at the latest is refused, with the seconds to wait.
    await overrideSessionEnv(chat.sessionId, { RATE_LIMIT_API_PER_USER: "1/1h" });
    for (let i = 0; i < 2; i++) {
      sendChecked(chat, { type: "message", content: "How long is the crossing?" });
      const end = (await chat.collect()).error;
      if (end) errors.push(end);
    }
    expect(errors.map((e) => e.type === "error" && e.code)).toEqual(
      expect.arrayContaining(["invalid_json", "invalid_message", "busy", "rate_limited"]),
    );
    expect(errors.find((e) => e.type === "error" && e.code === "rate_limited")).toMatchObject({ retry_after: expect.any(Number) });
    expectConforms("receive", chat.frames);
    chat.close();
  });

  it("a deleted session's sockets: closed with a close code the document lists", async () => {
    const { token } = await login();
    const chat = await ChatClient.open({ token });
    const other = await ChatClient.open({ token, sessionId: chat.sessionId });
    sendChecked(other, { type: "message", content: "Is anybody there?" });
    await other.collect();
    // Deleting the session hangs up on its sockets with 4004.
    expect((await call(`/v1/chat/sessions/${chat.sessionId}`, { method: "DELETE", token })).status).toBe(204);
    const closed = await chat.waitClosed();
    expect(closed.code).toBe(4004);
    expect(doc.info.description).toContain(`- ${closed.code}: `);
    expectConforms("receive", [...chat.frames, ...other.frames]);
  });
});
