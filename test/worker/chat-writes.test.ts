// What an answer writes, now that the question, the usage of its rewrite and embedding, and the search share one
// transaction (src/search/retrieve.ts): each row once, in order, and the same rows as before when retrieval fails.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { login, uploadReady } from "../support/api.ts";
import { ChatClient, embeddingTokens, injectFault, marker, removeFault, sessionMessages } from "../support/chat.ts";
import { sql } from "../support/db.ts";
import { makeTextPdf } from "../support/pdf-factory.ts";

const FERRY = "The ferry to Bergen leaves at nine in the morning. Tickets cost forty crowns. The crossing takes three hours.";
const REWRITE_MODEL = (env as unknown as Record<string, string | undefined>).CHAT_REWRITE_MODEL ?? "gpt-4o-mini";

let reader: { token: string; user: { id: string } };

beforeEach(async () => {
  // A user of their own per test: their usage rows are this test's alone.
  reader = await login();
  await uploadReady(reader.token, makeTextPdf([FERRY]), "ferry.pdf");
});

/** The reader's chat and retrieval usage rows, oldest first (ingestion's are left out). */
async function usageRows() {
  const rows = await sql().query(
    `select kind, model, prompt_tokens, completion_tokens, embedding_tokens from usage_events
     where tenant_id = 'acme' and user_id = $1 and kind in ('chat', 'embedding') order by created_at, id`,
    [reader.user.id],
  );
  return rows as Array<{ kind: string; model: string; prompt_tokens: number; completion_tokens: number; embedding_tokens: number }>;
}

const queryOf = (frames: Array<{ type: string }>) => (frames.find((f) => f.type === "citations") as unknown as { query: string }).query;

describe("an answer's writes", () => {
  it("stores a follow-up's question, answer and usage (rewrite, embedding, answer) once each, in order", async () => {
    const ingested = (await usageRows()).length;
    const chat = await ChatClient.open({ token: reader.token });
    const first = await chat.ask("When does the ferry to Bergen leave?");
    const followUp = await chat.ask("And what does a ticket cost?");
    chat.close();
    for (const a of [first, followUp]) expect(a.done?.status, JSON.stringify(a.error)).toBe("complete");

    const { session, messages } = await sessionMessages(reader.token, chat.sessionId);
    expect(session.title).toBe("When does the ferry to Bergen leave?");
    expect(messages.map((m) => [m.role, m.status, m.content])).toEqual([
      ["user", "complete", "When does the ferry to Bergen leave?"],
      ["assistant", "complete", messages[1]!.content],
      ["user", "complete", "And what does a ticket cost?"],
      ["assistant", "complete", messages[3]!.content],
    ]);
    expect(messages[3]!.id).toBe(followUp.done!.message_id);

    const rows = (await usageRows()).slice(ingested);
    // First question: its embedding, its answer. Follow-up: the rewrite, the rewritten query's embedding, the answer.
    expect(rows.map((r) => r.kind)).toEqual(["embedding", "chat", "chat", "embedding", "chat"]);
    expect(rows[0]!.embedding_tokens).toBe(await embeddingTokens(queryOf(first.frames)));
    expect(rows[3]!.embedding_tokens).toBe(await embeddingTokens(queryOf(followUp.frames)));
    expect(rows[2]!.model).toBe(REWRITE_MODEL);
    expect(rows[2]!.prompt_tokens).toBeGreaterThan(0);
    expect([rows[1], rows[4]].map((r) => [r!.prompt_tokens, r!.completion_tokens])).toEqual(
      [first, followUp].map((a) => [a.done!.usage.prompt_tokens, a.done!.usage.completion_tokens]),
    );
  });

  it("stores a follow-up's question and its rewrite's usage when its embedding fails", async () => {
    const chat = await ChatClient.open({ token: reader.token });
    expect((await chat.ask("When does the ferry to Bergen leave?")).done?.status).toBe("complete");
    const ingestedAndFirst = (await usageRows()).length;
    const m = marker("emb");
    // The embeddings client retries 4 times: 10 failures outlast it. The rewritten query keeps the marker.
    await injectFault({ match: m, endpoint: "embeddings", status: 429, times: 10, retry_after_ms: 10 });
    const failed = await chat.ask(`And what does a ticket cost? ${m}`);
    chat.close();
    expect(failed.error).toMatchObject({ code: "upstream_rate_limited", retryable: true });

    const { messages } = await sessionMessages(reader.token, chat.sessionId);
    expect(messages.map((x) => [x.role, x.status])).toEqual([
      ["user", "complete"],
      ["assistant", "complete"],
      ["user", "complete"],
    ]);
    expect(messages[2]!.content).toBe(`And what does a ticket cost? ${m}`);
    // The rewrite was spent and is recorded; the embedding never answered, so it cost nothing.
    expect((await usageRows()).slice(ingestedAndFirst).map((r) => [r.kind, r.model])).toEqual([["chat", REWRITE_MODEL]]);
  });

  it("stores a new session with its first question when that question's embedding fails", async () => {
    const m = marker("emb-first");
    const fault = await injectFault({ match: m, endpoint: "embeddings", status: 429, times: 10, retry_after_ms: 10 });
    const chat = await ChatClient.open({ token: reader.token });
    const failed = await chat.ask(`When does the ferry leave? ${m}`);
    expect(failed.error?.code).toBe("upstream_rate_limited");
    // The next question's rewrite carries the marker on: the embeddings API is healthy again first.
    await removeFault(fault);
    // The session now exists: the next question on the socket is answered in it, after the first.
    const next = await chat.ask("When does the ferry to Bergen leave?");
    chat.close();
    expect(next.done?.status).toBe("complete");
    const { session, messages } = await sessionMessages(reader.token, chat.sessionId);
    expect(session.title).toBe(`When does the ferry leave? ${m}`);
    expect(messages.map((x) => [x.role, x.content.slice(0, 26)])).toEqual([
      ["user", "When does the ferry leave?"],
      ["user", "When does the ferry to Ber"],
      ["assistant", messages[2]!.content.slice(0, 26)],
    ]);
  });
});
