// Chat over the WebSocket, the happy paths: grounded answers with page-accurate citations (English and Persian),
// streaming, history across reconnects, several sockets on one session, file scoping, and usage accounting.
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { call, fixturePdf, json, login, search, upload, uploadReady, waitForIngestion } from "../support/api.ts";
import {
  type Answer,
  ChatClient,
  type Citation,
  citationMarkers,
  citedSentence,
  embeddingTokens,
  overrideSessionEnv,
  sessionMessages,
  upgradeRequest,
  usageReport,
} from "../support/chat.ts";
import { sql } from "../support/db.ts";
import { makeTextPdf } from "../support/pdf-factory.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// Page 15 of lshort-en.pdf: "Knuth started writing the TEX typesetting engine in 1977 to explore ..."
const KNUTH_EN = "In which year did Knuth start writing the TeX typesetting engine?";
// Page 15 of lshort-fa.pdf: "کنوث در سال ۱۹۷۷ شروع به نوشتن تک کرد تا ..."
const KNUTH_FA = "کنوث در چه سالی شروع به نوشتن تک کرد؟";
// Page 1 of first-latex-doc-en.pdf: "For a Macintosh get MacTEX [7], a version of TEX Live with some Mac-specific add-ons."
const MAC_EN = "Which TeX distribution should I get for a Macintosh?";

const covers = (c: Citation | undefined, page: number) => !!c && c.page_start <= page && page <= c.page_end;

/** True when most letters are Arabic-script. */
const mainlyPersian = (text: string) => {
  const arabic = text.match(/[\u0600-\u06FF\uFB50-\uFDFF\uFE70-\uFEFF]/g)?.length ?? 0;
  return arabic > 0 && arabic * 2 >= (text.match(/\p{L}/gu)?.length ?? 0);
};

/** The invariants of every complete answer. */
function expectWellFormed(a: Answer) {
  expect(a.error).toBeNull();
  expect(a.done).toMatchObject({ type: "done", status: "complete", message_id: expect.stringMatching(UUID) });
  // One citations frame first, then the deltas, then done: nothing else, nothing out of order.
  expect(a.frames.map((f) => f.type)).toEqual(["citations", ...a.deltas.map(() => "delta"), "done"]);
  const usage = a.done!.usage;
  expect(usage.prompt_tokens).toBeGreaterThan(0);
  expect(usage.completion_tokens).toBeGreaterThan(0);
  expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
  // Citations are numbered 1..k, at most CHAT_SOURCES (6), best first.
  const citations = a.citations!;
  expect(citations.map((c) => c.n)).toEqual(citations.map((_, i) => i + 1));
  expect(citations.length).toBeLessThanOrEqual(6);
  for (let i = 1; i < citations.length; i++) expect(citations[i]!.score).toBeLessThanOrEqual(citations[i - 1]!.score);
  // Every [n] in the answer refers to a citation that was sent.
  for (const n of citationMarkers(a.text)) expect(citations.map((c) => c.n)).toContain(n);
}

let en: { token: string; user: { id: string }; lshort: { id: string }; first: { id: string } };
let fa: { token: string; lshort: { id: string } };

beforeAll(async () => {
  const [a, b] = await Promise.all([login(), login()]);
  const [lshortEn, first, lshortFa] = await Promise.all([
    upload(a.token, fixturePdf("lshort-en.pdf"), "lshort-en.pdf").then((r) => json(r)),
    upload(a.token, fixturePdf("first-latex-doc-en.pdf"), "first-latex-doc-en.pdf").then((r) => json(r)),
    upload(b.token, fixturePdf("lshort-fa.pdf"), "lshort-fa.pdf").then((r) => json(r)),
  ]);
  const ready = await Promise.all([
    waitForIngestion(a.token, lshortEn.id),
    waitForIngestion(a.token, first.id),
    waitForIngestion(b.token, lshortFa.id),
  ]);
  for (const r of ready) expect(r.doc.status).toBe("ready");
  en = { token: a.token, user: a.user, lshort: lshortEn, first };
  fa = { token: b.token, lshort: lshortFa };
});

describe("answers", () => {
  it("answers an English question from the right page, streamed as deltas, with citations and usage", async () => {
    const chat = await ChatClient.open({ token: en.token });
    expect(chat.sessionId).toMatch(UUID);
    const a = await chat.ask(KNUTH_EN);
    expectWellFormed(a);
    // Streamed word by word, not in one frame.
    expect(a.deltas.length).toBeGreaterThan(10);
    expect(a.text).toContain("1977");

    // The sentence with the answer is cited, and its citation points at page 15 of lshort-en.pdf.
    const cited = citedSentence(a.text, "1977");
    expect(cited?.sentence).toMatch(/^Knuth started writing the TEX typesetting engine in 1977/);
    const source = a.citations!.find((c) => c.n === cited!.n);
    expect(source).toMatchObject({ file_id: en.lshort.id, filename: "lshort-en.pdf" });
    expect(covers(source, 15), JSON.stringify(source)).toBe(true);

    // The sources are exactly what POST /v1/search returns for the question (the same hybrid retrieval).
    const hits = await search(en.token, { query: KNUTH_EN, top_k: 6 });
    expect(a.citations!.map((c) => c.chunk_id)).toEqual(hits.map((h) => h.chunk_id));
    expect(a.citations!.map((c) => [c.file_id, c.page_start, c.page_end])).toEqual(hits.map((h) => [h.file_id, h.page_start, h.page_end]));
    chat.close();
  });

  it("answers a Persian question in Persian from the right page of the Persian document", async () => {
    const chat = await ChatClient.open({ token: fa.token });
    const a = await chat.ask(KNUTH_FA);
    expectWellFormed(a);
    expect(mainlyPersian(a.text)).toBe(true);
    // Ingestion normalises Persian digits, so the year comes back as 1977.
    const cited = citedSentence(a.text, "1977");
    expect(cited?.sentence).toMatch(/^کنوث در سال 1977 شروع به نوشتن تک کرد/);
    const source = a.citations!.find((c) => c.n === cited!.n);
    expect(source).toMatchObject({ file_id: fa.lshort.id, filename: "lshort-fa.pdf" });
    expect(covers(source, 15), JSON.stringify(source)).toBe(true);
    chat.close();
  });

  it("says plainly that the sources do not answer, with no citations, when the user has no documents", async () => {
    const { token } = await login();
    const chat = await ChatClient.open({ token });
    const a = await chat.ask("What is the capital of Mongolia?");
    expect(a.citations).toEqual([]);
    expect(a.done?.status).toBe("complete");
    expect(a.text).toBe("I could not find the answer in the provided sources.");
    expect(citationMarkers(a.text)).toEqual([]);
    chat.close();
  });

  it("answers with an allowed non-default model and records it", async () => {
    const chat = await ChatClient.open({ token: en.token });
    const a = await chat.ask(MAC_EN, { model: "gpt-4o" });
    expectWellFormed(a);
    expect(a.text).toContain("MacTEX");
    const { messages } = await sessionMessages(en.token, chat.sessionId);
    expect(messages.map((m) => [m.role, m.model])).toEqual([
      ["user", null],
      ["assistant", "gpt-4o"],
    ]);
    chat.close();
  });
});

describe("the socket", () => {
  it("answers ping with pong, and nothing else", async () => {
    const chat = await ChatClient.open({ token: en.token });
    await chat.ping();
    await chat.ping();
    expect(chat.frames.map((f) => f.type)).toEqual(["session", "pong", "pong"]);
    chat.close();
  });

  it("accepts the token in Sec-WebSocket-Protocol and the tenant in X-Tenant-ID, echoing the docuchat subprotocol", async () => {
    const res = await upgradeRequest({ token: en.token, tokenInProtocol: true, tenantHeader: true });
    expect(res.status).toBe(101);
    expect(res.headers.get("Sec-WebSocket-Protocol")).toBe("docuchat");
    res.webSocket!.accept();
    const frames: Array<{ type: string; session_id?: string }> = [];
    const session = new Promise<void>((resolve) =>
      res.webSocket!.addEventListener("message", (e) => {
        frames.push(JSON.parse(e.data as string));
        resolve();
      }),
    );
    await session;
    expect(frames[0]).toEqual({ type: "session", session_id: expect.stringMatching(UUID) });
    res.webSocket!.close(1000);

    // And the socket works: the same user can chat on it.
    const chat = await ChatClient.open({ token: en.token, tokenInProtocol: true });
    expect(chat.response.headers.get("Sec-WebSocket-Protocol")).toBe("docuchat");
    expectWellFormed(await chat.ask(MAC_EN));
    chat.close();
  });

  it("echoes docuchat when it is offered with the token in the query, and never a protocol that was not offered", async () => {
    const open = (protocols: string, query = "") =>
      exports.default.fetch(
        new Request(`http://docuchat.test/ws/chat?tenant=acme${query}`, {
          headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": protocols, "X-DocuChat-Protocol": "evil" },
        }),
      );
    const offered = await open("docuchat", `&token=${en.token}`);
    expect(offered.status).toBe(101);
    expect(offered.headers.get("Sec-WebSocket-Protocol")).toBe("docuchat");
    const tokenOnly = await open(`bearer.${en.token}`);
    expect(tokenOnly.status).toBe(101);
    // "docuchat" was not offered: echoing it (or the client's own X-DocuChat-Protocol) would fail the handshake.
    expect(tokenOnly.headers.get("Sec-WebSocket-Protocol")).toBeNull();
    for (const r of [offered, tokenOnly]) {
      r.webSocket!.accept();
      r.webSocket!.close(1000);
    }
  });
});

describe("history", () => {
  it("continues a session after a reconnect, and lists both turns in order with citations and usage", async () => {
    const { token } = await login();
    await uploadReady(token, fixturePdf("first-latex-doc-en.pdf"), "first-latex-doc-en.pdf");

    const first = await ChatClient.open({ token });
    const a1 = await first.ask(MAC_EN);
    expectWellFormed(a1);
    first.close();

    // Another, newer session in between.
    const other = await ChatClient.open({ token });
    expectWellFormed(await other.ask("How do I compile the first document?"));
    other.close();

    const again = await ChatClient.open({ token, sessionId: first.sessionId });
    expect(again.sessionId).toBe(first.sessionId);
    const followUp = "And what should I download on Windows?";
    const a2 = await again.ask(followUp);
    expectWellFormed(a2);
    expect(a2.text).toContain("MiKTEX");
    again.close();

    // The continued session is now the most recently active one; its title is its first question.
    const list = await json<{ sessions: Array<{ id: string; title: string }> }>(await call("/v1/chat/sessions", { token }));
    expect(list.sessions.map((s) => s.id)).toEqual([first.sessionId, other.sessionId]);
    expect(list.sessions[0]!.title).toBe(MAC_EN);
    const limited = await json<{ sessions: Array<{ id: string }> }>(await call("/v1/chat/sessions?limit=1", { token }));
    expect(limited.sessions.map((s) => s.id)).toEqual([first.sessionId]);

    const { session, messages } = await sessionMessages(token, first.sessionId);
    expect(session).toMatchObject({ id: first.sessionId, title: MAC_EN });
    expect(messages.map((m) => [m.role, m.status, m.content])).toEqual([
      ["user", "complete", MAC_EN],
      ["assistant", "complete", a1.text],
      ["user", "complete", followUp],
      ["assistant", "complete", a2.text],
    ]);
    const [, m1, , m2] = messages;
    expect(m1).toMatchObject({ id: a1.done!.message_id, citations: a1.citations, model: "gpt-4o-mini" });
    expect(m1!.usage).toEqual({ prompt_tokens: a1.done!.usage.prompt_tokens, completion_tokens: a1.done!.usage.completion_tokens });
    expect(m2).toMatchObject({ id: a2.done!.message_id, citations: a2.citations });
    expect(m2!.usage).toEqual({ prompt_tokens: a2.done!.usage.prompt_tokens, completion_tokens: a2.done!.usage.completion_tokens });
    const times = messages.map((m) => Date.parse(m.created_at));
    expect([...times].sort((x, y) => x - y)).toEqual(times);
  });

  it("sends the earlier turns to the model after a reconnect", async () => {
    // Without documents the stand-in answers from the rest of the conversation: the history must be in the prompt.
    const { token } = await login();
    const first = await ChatClient.open({ token });
    expect((await first.ask("Please remember this: the lighthouse keeper on Skarvoy island is called Arvid Holm.")).done?.status).toBe("complete");
    first.close();
    const again = await ChatClient.open({ token, sessionId: first.sessionId });
    const a = await again.ask("What is the lighthouse keeper on Skarvoy island called?");
    expect(a.done?.status).toBe("complete");
    expect(a.text).toContain("Arvid Holm");
    again.close();
    // A new session does not see that history.
    const fresh = await ChatClient.open({ token });
    const b = await fresh.ask("What is the lighthouse keeper on Skarvoy island called?");
    expect(b.text).not.toContain("Arvid Holm");
    fresh.close();
  });

  it("sends no more history than CHAT_HISTORY_TOKENS allows", async () => {
    const { token } = await login();
    const chat = await ChatClient.open({ token });
    // This session's Durable Object runs with a history budget too small for any turn.
    await overrideSessionEnv(chat.sessionId, { CHAT_HISTORY_TOKENS: "5" });
    expect((await chat.ask("Please remember this: the lighthouse keeper on Skarvoy island is called Arvid Holm.")).done?.status).toBe("complete");
    const a = await chat.ask("What is the lighthouse keeper on Skarvoy island called?");
    expect(a.done?.status).toBe("complete");
    expect(a.text).not.toContain("Arvid Holm");
    chat.close();
  });
});

describe("several sockets on one session", () => {
  it("streams the same answer to every socket of the session, whichever socket asked", async () => {
    const a = await ChatClient.open({ token: en.token });
    const b = await ChatClient.open({ token: en.token, sessionId: a.sessionId });
    expect(b.sessionId).toBe(a.sessionId);

    a.message(MAC_EN);
    const [onA, onB] = await Promise.all([a.collect(), b.collect()]);
    expectWellFormed(onA);
    expect(onB.frames).toEqual(onA.frames);

    const [fromB, seenByA] = await Promise.all([b.ask(KNUTH_EN), a.collect()]);
    expectWellFormed(fromB);
    expect(seenByA.frames).toEqual(fromB.frames);
    expect(fromB.done!.message_id).not.toBe(onA.done!.message_id);
    expect((await sessionMessages(en.token, a.sessionId)).messages).toHaveLength(4);
    a.close();
    b.close();
  });
});

describe("file_ids", () => {
  it("retrieves only from the named documents", async () => {
    const chat = await ChatClient.open({ token: en.token });
    const all = await chat.ask(MAC_EN);
    expectWellFormed(all);
    expect(new Set(all.citations!.map((c) => c.file_id))).toEqual(new Set([en.first.id, en.lshort.id]));

    const onlyFirst = await chat.ask(MAC_EN, { file_ids: [en.first.id] });
    expectWellFormed(onlyFirst);
    expect(new Set(onlyFirst.citations!.map((c) => c.file_id))).toEqual(new Set([en.first.id]));
    const cited = citedSentence(onlyFirst.text, "For a Macintosh get MacTEX");
    expect(
      covers(
        onlyFirst.citations!.find((c) => c.n === cited?.n),
        1,
      ),
    ).toBe(true);

    const onlyLshort = await chat.ask(KNUTH_EN, { file_ids: [en.lshort.id] });
    expectWellFormed(onlyLshort);
    expect(new Set(onlyLshort.citations!.map((c) => c.file_id))).toEqual(new Set([en.lshort.id]));

    // The Knuth story is only in lshort: scoped to the other document, the answer cannot contain it.
    const wrongScope = await chat.ask(KNUTH_EN, { file_ids: [en.first.id] });
    expect(new Set(wrongScope.citations!.map((c) => c.file_id))).toEqual(new Set([en.first.id]));
    expect(wrongScope.text).not.toContain("1977");
    chat.close();
  });
});

describe("usage", () => {
  it("adds exactly what the model API reported to GET /v1/usage, per model", async () => {
    const { token, user } = await login();
    const doc = await json(
      await upload(
        token,
        makeTextPdf(["The ferry to Bergen leaves at nine in the morning. Tickets cost forty crowns. The crossing takes three hours."]),
        "ferry.pdf",
      ),
    );
    expect((await waitForIngestion(token, doc.id)).doc.status).toBe("ready");

    // Ingestion: one embedding request, charged what the stand-in charges for the chunk texts.
    const before = await usageReport(token);
    const chunks = (await sql().query("select text from chunks where document_id = $1 order by ordinal", [doc.id])) as Array<{ text: string }>;
    let ingestTokens = 0;
    for (const c of chunks) ingestTokens += await embeddingTokens(c.text);
    expect(before.last_24h).toMatchObject({
      requests: 1,
      prompt_tokens: 0,
      completion_tokens: 0,
      embedding_tokens: ingestTokens,
      total_tokens: ingestTokens,
    });

    const questions: Array<[string, string]> = [
      ["When does the ferry to Bergen leave?", "gpt-4o-mini"],
      ["How much does a ticket cost?", "gpt-4o"],
    ];
    const chat = await ChatClient.open({ token });
    // Two requests per question exactly: the follow-up's rewrite is metered in chat-rewrite.test.ts.
    await overrideSessionEnv(chat.sessionId, { CHAT_REWRITE_MODEL: "off" });
    const answers: Answer[] = [];
    for (const [q, model] of questions) answers.push(await chat.ask(q, { model }));
    chat.close();
    expect(answers[0]!.text).toContain("nine in the morning");
    expect(answers[1]!.text).toContain("forty crowns");

    const questionTokens = await Promise.all(questions.map(([q]) => embeddingTokens(q)));
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const prompt = sum(answers.map((a) => a.done!.usage.prompt_tokens));
    const completion = sum(answers.map((a) => a.done!.usage.completion_tokens));
    const embedding = ingestTokens + sum(questionTokens);

    const after = await usageReport(token);
    const expected24h = {
      requests: 1 + 2 * questions.length, // ingestion, then an embedding and a completion per question
      prompt_tokens: prompt,
      completion_tokens: completion,
      embedding_tokens: embedding,
      total_tokens: prompt + completion + embedding,
    };
    expect(after.last_24h).toMatchObject(expected24h);
    const model = (i: number) => ({
      requests: 1,
      prompt_tokens: answers[i]!.done!.usage.prompt_tokens,
      completion_tokens: answers[i]!.done!.usage.completion_tokens,
      embedding_tokens: 0,
      total_tokens: answers[i]!.done!.usage.total_tokens,
    });
    expect(after.last_24h.by_model).toEqual({
      "gpt-4o-mini": model(0),
      "gpt-4o": model(1),
      "text-embedding-3-small": { requests: 3, prompt_tokens: 0, completion_tokens: 0, embedding_tokens: embedding, total_tokens: embedding },
    });
    expect(after.last_7d).toEqual(after.last_24h);
    expect(after.daily_budget.user).toEqual({ used: expected24h.total_tokens, limit: before.daily_budget.user.limit });
    expect(before.daily_budget.user.limit).toBeGreaterThan(0);
    expect(after.daily_budget.tenant).toEqual({ remaining_fraction: expect.any(Number) });

    // Only the rolling windows count: an event of 3 days ago is in last_7d only, one of 8 days ago in neither.
    await sql().query(
      `insert into usage_events (tenant_id, user_id, kind, model, prompt_tokens, completion_tokens, created_at)
       values ('acme', $1, 'chat', 'gpt-4o-mini', 100, 10, now() - interval '3 days'),
              ('acme', $1, 'chat', 'gpt-4o-mini', 5000, 500, now() - interval '8 days')`,
      [user.id],
    );
    const later = await usageReport(token);
    expect(later.last_24h).toEqual(after.last_24h);
    expect(later.last_7d).toMatchObject({ requests: expected24h.requests + 1, prompt_tokens: prompt + 100, completion_tokens: completion + 10 });
    expect(later.last_7d.by_model["gpt-4o-mini"]).toMatchObject({ requests: 2, prompt_tokens: model(0).prompt_tokens + 100 });
    expect(later.daily_budget.user.used).toBe(expected24h.total_tokens);
  });
});
