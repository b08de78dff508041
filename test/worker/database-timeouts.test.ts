// A database that stops answering, fails or drops connections: every call gives up after DB_TIMEOUT_MS and
// the API answers 503 database_unavailable with Retry-After; the queue retries; health says so quickly.
// Each test freezes (or breaks) only its own database name in the Neon stand-in (dev/neon/faults.ts), so the
// tests running beside it keep a working database.

import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import type { IngestMessage } from "../../src/ingest/messages.ts";
import { expectErrorShape, fetchWithEnv, json, login, uniqueIp } from "../support/api.ts";
import { ChatClient, overrideSessionEnv } from "../support/chat.ts";

const DB_TIMEOUT_MS = 1_000;
/** Time for everything but the database (auth, Redis, workerd) on a loaded 2-core machine. */
const MARGIN_MS = 1_500;
/** How long a test waits before calling the answer missing. */
const WAIT_MS = 12_000;

const faultsUrl = (id = "") => `http://${env.NEON_LOCAL_PROXY}/__faults${id}`;
const rules: number[] = [];

/** A database of its own, with a stand-in fault on it: the Worker's bindings pointed at it. */
async function brokenDatabase(fault: Record<string, unknown>) {
  const name = `broken_${crypto.randomUUID().replace(/-/g, "")}`;
  const res = await fetch(faultsUrl(), { method: "POST", body: JSON.stringify({ match: name, ...fault }) });
  expect(res.status).toBe(201);
  rules.push((await res.json<{ id: number }>()).id);
  const url = new URL(env.DATABASE_URL);
  url.pathname = `/${name}`;
  return { DATABASE_URL: url.toString(), DB_TIMEOUT_MS: String(DB_TIMEOUT_MS) };
}

// Thawing lets whatever the frozen database still holds finish, so no test leaves work hanging.
afterEach(async () => {
  for (const id of rules.splice(0)) await fetch(faultsUrl(`/${id}`), { method: "DELETE" });
});

/** The outcome of `work` and how long it took, or null when it had not settled after WAIT_MS. */
async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number } | null> {
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const gaveUp = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), WAIT_MS)));
  try {
    return await Promise.race([work.then((value) => ({ value, ms: Date.now() - started })), gaveUp]);
  } finally {
    clearTimeout(timer);
  }
}

async function listFiles(bindings: Record<string, string>) {
  const { token } = await login();
  return timed(
    fetchWithEnv("/v1/files", bindings, { headers: { "X-Tenant-ID": "acme", Authorization: `Bearer ${token}`, "CF-Connecting-IP": uniqueIp() } }),
  );
}

async function expectDatabaseUnavailable(outcome: { value: Response; ms: number } | null, withinMs: number) {
  expect(outcome, `no answer within ${WAIT_MS} ms`).not.toBeNull();
  const { value: res, ms } = outcome!;
  expect(res.status).toBe(503);
  expect(res.headers.get("Retry-After")).toBe("5");
  const body = await json(res);
  expectErrorShape(body, "database_unavailable");
  expect(JSON.stringify(body)).not.toMatch(/broken_|postgres:|stack|Server error|fetch failed/i);
  expect(ms).toBeLessThan(withinMs);
  return ms;
}

describe("database timeouts", () => {
  it("answers GET /v1/files with 503 database_unavailable within DB_TIMEOUT_MS when the database is frozen", async () => {
    const ms = await expectDatabaseUnavailable(await listFiles(await brokenDatabase({ freeze: true })), DB_TIMEOUT_MS + MARGIN_MS);
    expect(ms).toBeGreaterThanOrEqual(DB_TIMEOUT_MS - 50); // it did wait for the database, then gave up
  });

  it("answers 503 database_unavailable when the database proxy answers 5xx", async () => {
    await expectDatabaseUnavailable(await listFiles(await brokenDatabase({ status: 503 })), MARGIN_MS);
  });

  it("answers 503 database_unavailable when the connection to the database drops", async () => {
    await expectDatabaseUnavailable(await listFiles(await brokenDatabase({ drop: true })), MARGIN_MS);
  });

  it("retries a queue message while the database is frozen, where a working database acks it", async () => {
    const message: IngestMessage = { tenantId: "acme", userId: crypto.randomUUID(), documentId: crypto.randomUUID(), fromPage: 1 };
    const deliver = async (bindings: Record<string, unknown>) => {
      const batch = createMessageBatch<IngestMessage>("docuchat-ingest", [
        { id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body: message },
      ]);
      const ctx = createExecutionContext();
      await worker.queue!(batch, { ...env, ...bindings } as never, ctx);
      return getQueueResult(batch, ctx);
    };
    // No such document: with the database answering, there is nothing to do and the message is acked.
    expect((await deliver({})).explicitAcks).toHaveLength(1);

    const outcome = await timed(deliver(await brokenDatabase({ freeze: true })));
    expect(outcome, `no outcome within ${WAIT_MS} ms`).not.toBeNull();
    expect(outcome!.value.explicitAcks).toHaveLength(0);
    expect(outcome!.value.retryMessages).toHaveLength(1);
    expect(outcome!.ms).toBeLessThan(DB_TIMEOUT_MS + MARGIN_MS);
  });

  it("tells a chat socket database_unavailable (retryable) when its database freezes, and keeps the socket open", async () => {
    const { token } = await login();
    const chat = await ChatClient.open({ token });
    await overrideSessionEnv(chat.sessionId, await brokenDatabase({ freeze: true }));
    const started = Date.now();
    const answer = await chat.ask("When does the ferry leave?", {}, WAIT_MS);
    expect(answer.error).toMatchObject({ code: "database_unavailable", retryable: true });
    expect(Date.now() - started).toBeLessThan(DB_TIMEOUT_MS + MARGIN_MS);
    expect((await chat.ping()).type).toBe("pong");
    chat.close();
  });

  it("reports the frozen database as down from /healthz within its 3 s check, Redis still ok", async () => {
    const bindings = { ...(await brokenDatabase({ freeze: true })), DB_TIMEOUT_MS: "30000" }; // health's own check must win
    const outcome = await timed(fetchWithEnv("/healthz", bindings));
    expect(outcome, `no answer within ${WAIT_MS} ms`).not.toBeNull();
    expect(outcome!.value.status).toBe(503);
    const body = await json(outcome!.value);
    expect(body.checks.database).toMatchObject({ status: "error" });
    expect(body.checks.redis.status).toBe("ok");
    expect(outcome!.ms).toBeLessThan(3_000 + MARGIN_MS);
  });

  it("refuses a DB_TIMEOUT_MS outside 100-60000 ms, naming it", async () => {
    for (const value of ["0", "fast", "600000"]) {
      const res = await fetchWithEnv("/healthz", { DB_TIMEOUT_MS: value });
      expect(res.status).toBe(500);
      const body = await json(res);
      expectErrorShape(body, "misconfigured");
      expect(body.error.message).toContain("DB_TIMEOUT_MS");
    }
  });
});
