// Chat over the WebSocket when things go wrong: bad frames, refused models, a busy session, cancel, every kind of
// upstream failure (rate limit, outage, rejection, timeout, cut stream, failing embeddings) and spent quotas.
// Faults are injected into the OpenAI stand-in for questions carrying a unique marker.

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import { call, expectErrorShape, json, login, upload, uploadReady } from "../support/api.ts";
import {
  ChatClient,
  eventually,
  expectNothingStored,
  type FaultSpec,
  faultUsedUp,
  injectFault,
  liveFaults,
  marker,
  overrideSessionEnv,
  removeFault,
  sessionMessages,
  usageReport,
} from "../support/chat.ts";
import { count, sql } from "../support/db.ts";
import { makeTextPdf } from "../support/pdf-factory.ts";
import { forgetUsageBuckets } from "../support/usage-buckets.ts";

const FERRY = "The ferry to Bergen leaves at nine in the morning. Tickets cost forty crowns. The crossing takes three hours.";
const question = (m: string) => `When does the ferry to Bergen leave? ${m}`;

let owner: { token: string; user: { id: string } };

beforeAll(async () => {
  owner = await login();
  await uploadReady(owner.token, makeTextPdf([FERRY]), "ferry.pdf");
});

/** A fresh user with the ferry document, for tests that look at per-user totals. */
async function userWithFerry() {
  const u = await login();
  await uploadReady(u.token, makeTextPdf([FERRY]), "ferry.pdf");
  return u;
}

describe("bad frames", () => {
  it.each([
    ["not JSON", "{oops", "invalid_json"],
    ["an unknown type", JSON.stringify({ type: "shout", content: "hi" }), "invalid_message"],
    ["a frame without type", JSON.stringify({ content: "hi" }), "invalid_message"],
    ["an empty question", JSON.stringify({ type: "message", content: "   " }), "invalid_message"],
    ["a question over 4000 characters", JSON.stringify({ type: "message", content: "a".repeat(4001) }), "invalid_message"],
    ["file_ids that are not uuids", JSON.stringify({ type: "message", content: "hi", file_ids: ["nope"] }), "invalid_message"],
    ["a session_id that is not a uuid", JSON.stringify({ type: "message", content: "hi", session_id: 42 }), "invalid_message"],
    ["a frame over 16 KiB", JSON.stringify({ type: "message", content: "a".repeat(17 * 1024) }), "message_too_large"],
  ])("answers %s with an error frame and keeps the socket open", async (_, raw, code) => {
    const chat = await ChatClient.open({ token: owner.token });
    chat.send(raw);
    const error = await chat.next("error");
    expect(error).toMatchObject({ code, retryable: false });
    expect(error.message.length).toBeGreaterThan(0);
    await chat.ping();
    expect(chat.closed).toBeNull();
    // Nothing was asked, nothing stored.
    await expectNothingStored(owner.token, chat.sessionId);
    chat.close();
  });

  it("sends a bad frame's error to its sender only, but an answer's error to every socket of the session", async () => {
    const a = await ChatClient.open({ token: owner.token });
    const b = await ChatClient.open({ token: owner.token, sessionId: a.sessionId });
    a.send("{oops");
    expect((await a.next("error")).code).toBe("invalid_json");
    await b.ping();
    expect(b.frames.map((f) => f.type)).toEqual(["session", "pong"]);

    const m = marker("both");
    await injectFault({ match: m, endpoint: "chat", status: 400 });
    a.message(question(m));
    const [onA, onB] = await Promise.all([a.collect(), b.collect()]);
    expect(onA.error?.code).toBe("upstream_rejected");
    expect(onB.error).toEqual(onA.error);
    a.close();
    b.close();
  });

  it("names the offending field in invalid_message", async () => {
    const chat = await ChatClient.open({ token: owner.token });
    chat.send({ type: "message", content: "hi", file_ids: ["nope"] });
    expect((await chat.next("error")).message).toContain("file_ids.0");
    chat.close();
  });

  it("refuses a message for another session on this socket (session_mismatch)", async () => {
    const other = await ChatClient.open({ token: owner.token });
    const chat = await ChatClient.open({ token: owner.token });
    chat.message("When does the ferry leave?", { session_id: other.sessionId });
    expect(await chat.next("error")).toMatchObject({ code: "session_mismatch", retryable: false });
    await expectNothingStored(owner.token, other.sessionId);
    await expectNothingStored(owner.token, chat.sessionId);
    // Its own session id is fine.
    const a = await chat.ask("When does the ferry leave?", { session_id: chat.sessionId });
    expect(a.done?.status).toBe("complete");
    other.close();
    chat.close();
  });
});

describe("models", () => {
  it("refuses a model outside CHAT_MODELS with model_not_allowed, storing and charging nothing", async () => {
    const u = await login();
    const chat = await ChatClient.open({ token: u.token });
    const a = await chat.ask("When does the ferry leave?", { model: "gpt-3.5-turbo" });
    expect(a.error).toMatchObject({ code: "model_not_allowed", retryable: false });
    expect(a.error!.message).toContain("gpt-4o-mini, gpt-4o");
    expect(a.citations).toBeNull();
    await expectNothingStored(u.token, chat.sessionId);
    expect((await usageReport(u.token)).last_24h.requests).toBe(0);
    // The socket is still usable.
    expect((await chat.ask("When does the ferry leave?")).done?.status).toBe("complete");
    chat.close();
  });
});

describe("busy and cancel", () => {
  it("answers a second question during an answer with busy, and finishes the first", async () => {
    const m = marker("busy");
    await injectFault({ match: m, endpoint: "chat", delay_ms: 1500 });
    const chat = await ChatClient.open({ token: owner.token });
    chat.message(question(m));
    await chat.next("citations");
    chat.message("How much does a ticket cost?");
    expect(await chat.next("error")).toMatchObject({ code: "busy", retryable: true });
    const rest = await chat.collect();
    expect(rest.done?.status).toBe("complete");
    expect(rest.text).toContain("nine in the morning");
    const { messages } = await sessionMessages(owner.token, chat.sessionId);
    expect(messages.map((x) => [x.role, x.status, x.content])).toEqual([
      ["user", "complete", question(m)],
      ["assistant", "complete", rest.text],
    ]);
    // Once done, the session takes the next question.
    expect((await chat.ask("How much does a ticket cost?")).text).toContain("forty crowns");
    chat.close();
  });

  it("cancels an answer in flight: done with status cancelled, the partial answer stored as incomplete", async () => {
    const u = await userWithFerry();
    const m = marker("cancel");
    const fault = await injectFault({ match: m, endpoint: "chat", delay_ms: 10_000 });
    const chat = await ChatClient.open({ token: u.token });
    const before = await usageReport(u.token);
    chat.message(question(m));
    await chat.next("citations");
    await faultUsedUp(fault); // the model has the request and is "thinking"
    const started = Date.now();
    chat.send({ type: "cancel" });
    const a = await chat.collect(5_000);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(a.error).toBeNull();
    expect(a.done).toMatchObject({ status: "cancelled", usage: { completion_tokens: 0 } });
    expect(a.done!.usage.prompt_tokens).toBeGreaterThan(0);
    expect(a.done!.usage.total_tokens).toBe(a.done!.usage.prompt_tokens);

    const { messages } = await sessionMessages(u.token, chat.sessionId);
    expect(messages.map((x) => [x.role, x.status, x.content])).toEqual([
      ["user", "complete", question(m)],
      ["assistant", "incomplete", ""],
    ]);
    expect(messages[1]).toMatchObject({ id: a.done!.message_id, model: "gpt-4o-mini" });
    expect(messages[1]!.usage).toEqual({ prompt_tokens: a.done!.usage.prompt_tokens, completion_tokens: 0 });
    // The (estimated) prompt is charged.
    const after = await usageReport(u.token);
    expect(after.last_24h.prompt_tokens - before.last_24h.prompt_tokens).toBe(a.done!.usage.prompt_tokens);

    // The session is free again.
    expect((await chat.ask("How much does a ticket cost?")).done?.status).toBe("complete");
    chat.close();
  });

  it("cancels before the model is called when the cancel comes during retrieval: no deltas, no model call", async () => {
    const m = marker("early");
    // A harmless rule that only tells whether the model was ever asked.
    const probe = await injectFault({ match: m, endpoint: "chat", delay_ms: 1 });
    const chat = await ChatClient.open({ token: owner.token });
    chat.message(question(m));
    chat.send({ type: "cancel" });
    const a = await chat.collect();
    expect(a.error).toBeNull();
    expect(a.done?.status).toBe("cancelled");
    expect(a.deltas).toEqual([]);
    expect(a.done!.usage.completion_tokens).toBe(0);
    expect((await liveFaults()).some((f) => f.id === probe)).toBe(true);
    await removeFault(probe);
    const { messages } = await sessionMessages(owner.token, chat.sessionId);
    expect(messages.map((x) => [x.role, x.status, x.content])).toEqual([
      ["user", "complete", question(m)],
      ["assistant", "incomplete", ""],
    ]);
    chat.close();
  });

  it("ignores a cancel with nothing in flight", async () => {
    const chat = await ChatClient.open({ token: owner.token });
    chat.send({ type: "cancel" });
    await chat.ping();
    expect(chat.frames.map((f) => f.type)).toEqual(["session", "pong"]);
    chat.close();
  });

  it("lets another socket of the session cancel the answer", async () => {
    const m = marker("cancel2");
    const fault = await injectFault({ match: m, endpoint: "chat", delay_ms: 10_000 });
    const a = await ChatClient.open({ token: owner.token });
    const b = await ChatClient.open({ token: owner.token, sessionId: a.sessionId });
    a.message(question(m));
    await b.next("citations");
    await faultUsedUp(fault);
    b.send({ type: "cancel" });
    const [onA, onB] = await Promise.all([a.collect(5_000), b.collect(5_000)]);
    expect(onA.done?.status).toBe("cancelled");
    expect(onB.done).toEqual(onA.done);
    a.close();
    b.close();
  });

  it("keeps answering when the asking socket goes away, and stores the answer", async () => {
    const m = marker("gone");
    await injectFault({ match: m, endpoint: "chat", delay_ms: 800 });
    const chat = await ChatClient.open({ token: owner.token });
    chat.message(question(m));
    await chat.next("citations");
    chat.close();
    const messages = await eventually(
      async () => {
        const { messages } = await sessionMessages(owner.token, chat.sessionId);
        return messages.length === 2 ? messages : undefined;
      },
      5_000,
      "the stored answer",
    );
    expect(messages[1]).toMatchObject({ role: "assistant", status: "complete" });
    expect(messages[1]!.content).toContain("nine in the morning");
  });
});

describe("upstream failures", () => {
  const cases: Array<{ name: string; fault: Omit<FaultSpec, "match">; code: string; retryable: boolean; remaining?: number }> = [
    // times 3: the first try and the SDK's single retry use two, so one is left.
    {
      name: "a 429 that outlasts the retry",
      fault: { status: 429, times: 3, retry_after_ms: 10 },
      code: "upstream_rate_limited",
      retryable: true,
      remaining: 1,
    },
    { name: "a 500 that outlasts the retry", fault: { status: 500, times: 3 }, code: "upstream_error", retryable: true, remaining: 1 },
    { name: "a 503 that outlasts the retry", fault: { status: 503, times: 3 }, code: "upstream_error", retryable: true, remaining: 1 },
    { name: "a 400 (not retried)", fault: { status: 400, times: 2 }, code: "upstream_rejected", retryable: false, remaining: 1 },
    // role-only chunk, then three words, then the connection drops.
    { name: "a stream cut after three words", fault: { cut_after_chunks: 4 }, code: "upstream_interrupted", retryable: true },
  ];

  it.each(cases)("$name → error $code, retryable $retryable, partial answer stored as incomplete", async ({ fault, code, retryable, remaining }) => {
    const m = marker("up");
    const id = await injectFault({ match: m, endpoint: "chat", ...fault });
    const chat = await ChatClient.open({ token: owner.token });
    const a = await chat.ask(question(m));
    expect(a.done).toBeNull();
    expect(a.error).toMatchObject({ type: "error", code, retryable });
    expect(a.citations!.length).toBeGreaterThan(0);
    if (fault.cut_after_chunks) {
      expect(a.deltas).toHaveLength(3);
      // The space after the last word is held back until the next delta shows whether a citation marker follows
      // (src/chat/citation-markers.ts); the stream broke off first.
      expect(a.text).toBe("The ferry to");
    } else expect(a.deltas).toEqual([]);
    if (remaining !== undefined) expect((await liveFaults()).find((f) => f.id === id)?.remaining).toBe(remaining);
    // The failed question stays in the session's history, so the rest of the rule would hit the next question too.
    await removeFault(id);

    const { messages } = await sessionMessages(owner.token, chat.sessionId);
    expect(messages.map((x) => [x.role, x.status, x.content])).toEqual([
      ["user", "complete", question(m)],
      ["assistant", "incomplete", a.text],
    ]);
    expect(messages[1]!.citations).toEqual(a.citations);
    expect(messages[1]!.usage.prompt_tokens).toBeGreaterThan(0);

    // The same session answers the next question normally.
    const next = await chat.ask("How much does a ticket cost?");
    expect(next.done?.status).toBe("complete");
    expect(next.text).toContain("forty crowns");
    chat.close();
  });

  it("times out a model that does not answer within CHAT_TIMEOUT_MS (upstream_timeout)", async () => {
    const m = marker("slow");
    await injectFault({ match: m, endpoint: "chat", delay_ms: 8_000 });
    const chat = await ChatClient.open({ token: owner.token });
    // This session's Durable Object runs with a 1-second model timeout (the default is 60 s).
    await overrideSessionEnv(chat.sessionId, { CHAT_TIMEOUT_MS: "1000" });
    const started = Date.now();
    const a = await chat.ask(question(m));
    const elapsed = Date.now() - started;
    expect(a.error).toMatchObject({ code: "upstream_timeout", retryable: true });
    expect(elapsed).toBeGreaterThanOrEqual(1_000);
    expect(elapsed).toBeLessThan(4_000);
    const { messages } = await sessionMessages(owner.token, chat.sessionId);
    expect(messages.map((x) => [x.role, x.status, x.content])).toEqual([
      ["user", "complete", question(m)],
      ["assistant", "incomplete", ""],
    ]);
    chat.close();
  });

  it("reports a failing embeddings API as an upstream error, not an internal one", async () => {
    const m = marker("emb");
    // The embeddings client retries 4 times: 10 failures outlast it.
    await injectFault({ match: m, endpoint: "embeddings", status: 429, times: 10, retry_after_ms: 10 });
    const chat = await ChatClient.open({ token: owner.token });
    const a = await chat.ask(question(m));
    expect(a.error).toMatchObject({ code: "upstream_rate_limited", retryable: true });
    expect(a.citations).toBeNull();
    chat.close();
  });
});

/** Runs the real Worker with some bindings changed, as api-surface.test.ts does. */
async function fetchWithEnv(path: string, overrides: Record<string, string>, init: RequestInit) {
  const ctx = createExecutionContext();
  const res = await worker.fetch!(new Request(`http://docuchat.test${path}`, init) as any, { ...env, ...overrides } as any, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe("quotas", () => {
  const spend = async (userId: string, tokens: number, ago = "0 seconds") => {
    await sql().query(
      `insert into usage_events (tenant_id, user_id, kind, model, prompt_tokens, created_at)
       values ('acme', $1, 'chat', 'gpt-4o-mini', $2, now() - $3::interval)`,
      [userId, tokens, ago],
    );
    await forgetUsageBuckets("acme");
  };

  it("refuses chat (error frame) and search and upload (429) once the user's daily budget is spent", async () => {
    const u = await login();
    const { limit } = (await usageReport(u.token)).daily_budget.user;
    expect(limit).toBeGreaterThan(1);

    // Spent a day and an hour ago: outside the rolling window, it does not count.
    await spend(u.user.id, limit, "25 hours");
    // One token short of the budget: still allowed.
    await spend(u.user.id, limit - 1);
    expect((await call("/v1/search", { token: u.token, body: { query: "ferry" } })).status).toBe(200);

    await spend(u.user.id, 1);
    expect((await usageReport(u.token)).daily_budget.user.used).toBeGreaterThanOrEqual(limit);

    const chat = await ChatClient.open({ token: u.token });
    const a = await chat.ask("When does the ferry leave?");
    expect(a.error).toMatchObject({ code: "quota_exceeded", retryable: false });
    expect(a.error!.message).toMatch(new RegExp(`^Your daily token budget is used up \\(\\d+ of ${limit} tokens`));
    expect(a.citations).toBeNull();
    await expectNothingStored(u.token, chat.sessionId);
    await chat.ping();
    chat.close();

    const searched = await call("/v1/search", { token: u.token, body: { query: "ferry" } });
    expect(searched.status).toBe(429);
    expect(searched.headers.get("Retry-After")).toBe("3600");
    expectErrorShape(await json(searched), "quota_exceeded");
    const uploaded = await upload(u.token, makeTextPdf(["Anything at all."]), "more.pdf");
    expect(uploaded.status).toBe(429);
    expectErrorShape(await json(uploaded), "quota_exceeded");
    expect(await count("select 1 from documents where user_id = $1", [u.user.id])).toBe(0);

    // Another user of the same tenant is not affected.
    const other = await login();
    expect((await call("/v1/search", { token: other.token, body: { query: "ferry" } })).status).toBe(200);
  });

  it("refuses chat and search once the tenant's daily budget is spent", async () => {
    const u = await login();
    const chat = await ChatClient.open({ token: u.token });
    // This session's Durable Object, and the Worker below, run with a tenant budget acme has long used up.
    await overrideSessionEnv(chat.sessionId, { DAILY_TOKEN_BUDGET_PER_TENANT: "1" });
    const a = await chat.ask("When does the ferry leave?");
    expect(a.error).toMatchObject({ code: "quota_exceeded", retryable: false });
    // Without the tenant's totals: they are other members' spending.
    expect(a.error!.message).toBe("Your organisation's daily token budget is used up; try again later");
    chat.close();

    const res = await fetchWithEnv(
      "/v1/search",
      { DAILY_TOKEN_BUDGET_PER_TENANT: "1" },
      {
        method: "POST",
        headers: { "X-Tenant-ID": "acme", Authorization: `Bearer ${u.token}`, "Content-Type": "application/json", "CF-Connecting-IP": "10.250.0.1" },
        body: JSON.stringify({ query: "ferry" }),
      },
    );
    expect(res.status).toBe(429);
    const body = await json(res);
    expectErrorShape(body, "quota_exceeded");
    expect(body.error.message).toContain("organisation");
  });
});
