// Who may open which chat socket and read or delete which session: authentication before the upgrade, tenant and
// origin checks, session ownership over the socket and over HTTP, spoofed internal headers, and session deletion.
import { env, exports } from "cloudflare:workers";
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { call, expectErrorShape, json, login, uploadReady } from "../support/api.ts";
import { ChatClient, eventually, faultUsedUp, injectFault, marker, sessionMessages, upgradeRequest, usageReport } from "../support/chat.ts";
import { count } from "../support/db.ts";
import { makeTextPdf } from "../support/pdf-factory.ts";

type Login = Awaited<ReturnType<typeof login>>;

/** A refused upgrade: the status, the error code, and no socket. */
async function expectRefused(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.webSocket).toBeNull();
  expectErrorShape(await json(res), code);
}

let alice: Login;
let bob: Login;
let aliceSession: string;

beforeAll(async () => {
  [alice, bob] = await Promise.all([login(), login()]);
  const chat = await ChatClient.open({ token: alice.token });
  aliceSession = chat.sessionId;
  expect((await chat.ask("Is anybody there?")).done?.status).toBe("complete");
  chat.close();
});

describe("the upgrade", () => {
  it("refuses a request without the Upgrade header with 426", async () => {
    const res = await upgradeRequest({ token: alice.token, upgrade: false });
    expect(res.headers.get("Upgrade")).toBe("websocket");
    await expectRefused(res, 426, "upgrade_required");
  });

  it("refuses a missing token with 401 before upgrading", async () => {
    const res = await upgradeRequest({});
    expect(res.headers.get("WWW-Authenticate")).toContain("Bearer");
    await expectRefused(res, 401, "unauthorized");
  });

  it.each([
    ["a garbage token in ?token=", { token: "not-a-jwt" }],
    ["a garbage token in Sec-WebSocket-Protocol", { token: "not-a-jwt", tokenInProtocol: true }],
  ])("refuses %s with 401", async (_, options) => {
    await expectRefused(await upgradeRequest(options), 401, "unauthorized");
  });

  it("refuses a token signed with another key, or expired, with 401", async () => {
    const now = Math.floor(Date.now() / 1000);
    const sign = (key: Uint8Array, exp: number) =>
      new SignJWT({ tid: "acme", email: alice.email })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject(alice.user.id)
        .setIssuer("docuchat")
        .setAudience("docuchat-api")
        .setIssuedAt(now - 100)
        .setExpirationTime(exp)
        .sign(key);
    const good = new TextEncoder().encode(env.JWT_SECRET);
    // Control: the same claims with the real key and a future expiry open a socket.
    const control = await upgradeRequest({ token: await sign(good, now + 600) });
    expect(control.status).toBe(101);
    control.webSocket!.accept();
    control.webSocket!.close(1000);
    await expectRefused(await upgradeRequest({ token: await sign(crypto.getRandomValues(new Uint8Array(32)), now + 600) }), 401, "unauthorized");
    await expectRefused(await upgradeRequest({ token: await sign(good, now - 10) }), 401, "unauthorized");
  });

  it("refuses a token of another tenant with 403 tenant_mismatch", async () => {
    const globex = await login(undefined, "globex");
    await expectRefused(await upgradeRequest({ token: globex.token, tenant: "acme" }), 403, "tenant_mismatch");
    await expectRefused(await upgradeRequest({ token: alice.token, tenant: "globex" }), 403, "tenant_mismatch");
  });

  it("needs a known, active tenant", async () => {
    await expectRefused(await upgradeRequest({ token: alice.token, tenant: null }), 400, "tenant_required");
    await expectRefused(await upgradeRequest({ token: alice.token, tenant: "nosuchtenant" }), 404, "tenant_not_found");
    await expectRefused(await upgradeRequest({ token: alice.token, tenant: "frozen" }), 404, "tenant_not_found");
  });

  it("refuses a browser Origin outside CORS_ORIGINS with 403, even before authentication", async () => {
    await expectRefused(await upgradeRequest({ token: alice.token, origin: "https://evil.example" }), 403, "origin_not_allowed");
    await expectRefused(await upgradeRequest({ origin: "https://evil.example" }), 403, "origin_not_allowed");
    await expectRefused(await upgradeRequest({ token: alice.token, origin: "https://app.example.com.evil.example" }), 403, "origin_not_allowed");
    // The allowed origin gets its socket.
    const chat = await ChatClient.open({ token: alice.token, origin: "https://app.example.com" });
    await chat.ping();
    chat.close();
  });

  it("always allows the Worker's own origin (the demo page), even when CORS_ORIGINS does not list it", async () => {
    const chat = await ChatClient.open({ token: alice.token, origin: "http://docuchat.test" });
    await chat.ping();
    chat.close();
  });

  it("creates no session for a refused upgrade", async () => {
    const sessions = () => count("select 1 from chat_sessions where user_id = $1", [alice.user.id]);
    const before = await sessions();
    await upgradeRequest({ token: alice.token, origin: "https://evil.example" });
    await upgradeRequest({ token: alice.token, upgrade: false });
    await upgradeRequest({ token: alice.token, sessionId: crypto.randomUUID() });
    expect(await sessions()).toBe(before);
  });
});

describe("sessions belong to their owner", () => {
  it("answers 404 when reconnecting to an unknown session or another user's", async () => {
    await expectRefused(await upgradeRequest({ token: alice.token, sessionId: crypto.randomUUID() }), 404, "session_not_found");
    await expectRefused(await upgradeRequest({ token: bob.token, sessionId: aliceSession }), 404, "session_not_found");
    // A user of another tenant, with a valid token for it, cannot reach it either.
    const globex = await login(undefined, "globex");
    await expectRefused(await upgradeRequest({ token: globex.token, tenant: "globex", sessionId: aliceSession }), 404, "session_not_found");
    // The owner can.
    const chat = await ChatClient.open({ token: alice.token, sessionId: aliceSession });
    expect(chat.sessionId).toBe(aliceSession);
    chat.close();
  });

  it("answers 404 for another user's session over HTTP, and lists only one's own sessions", async () => {
    const messages = await call(`/v1/chat/sessions/${aliceSession}/messages`, { token: bob.token });
    expect(messages.status).toBe(404);
    expectErrorShape(await json(messages), "session_not_found");
    const deleted = await call(`/v1/chat/sessions/${aliceSession}`, { method: "DELETE", token: bob.token });
    expect(deleted.status).toBe(404);
    expectErrorShape(await json(deleted), "session_not_found");

    const bobs = await json<{ sessions: Array<{ id: string }> }>(await call("/v1/chat/sessions", { token: bob.token }));
    expect(bobs.sessions.map((s) => s.id)).not.toContain(aliceSession);
    const alices = await json<{ sessions: Array<{ id: string }> }>(await call("/v1/chat/sessions", { token: alice.token }));
    expect(alices.sessions.map((s) => s.id)).toContain(aliceSession);
    // Bob's DELETE did nothing.
    expect((await sessionMessages(alice.token, aliceSession)).messages).toHaveLength(2);
  });

  it("needs a token for the HTTP session routes", async () => {
    for (const [path, method] of [
      ["/v1/chat/sessions", "GET"],
      [`/v1/chat/sessions/${aliceSession}/messages`, "GET"],
      [`/v1/chat/sessions/${aliceSession}`, "DELETE"],
    ] as const) {
      const res = await call(path, { method });
      expect(res.status, `${method} ${path}`).toBe(401);
    }
    expect((await sessionMessages(alice.token, aliceSession)).messages).toHaveLength(2);
  });

  it("ignores a spoofed identity header from the client", async () => {
    const identity = JSON.stringify({ tenantId: "acme", userId: alice.user.id, sessionId: aliceSession });
    const res = await exports.default.fetch(
      new Request(`http://docuchat.test/ws/chat?tenant=acme&token=${bob.token}`, {
        headers: { Upgrade: "websocket", "X-DocuChat-Identity": identity },
      }),
    );
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    ws.accept();
    const frames: any[] = [];
    const done = new Promise<void>((resolve) =>
      ws.addEventListener("message", (e) => {
        const f = JSON.parse(e.data as string);
        frames.push(f);
        if (f.type === "done" || f.type === "error") resolve();
      }),
    );
    ws.send(JSON.stringify({ type: "message", content: "Bob was here" }));
    await done;
    // Bob got a session of his own; Alice's session is untouched.
    expect(frames[0].type).toBe("session");
    expect(frames[0].session_id).not.toBe(aliceSession);
    expect(frames.at(-1).type).toBe("done");
    ws.close(1000);
    expect((await sessionMessages(bob.token, frames[0].session_id)).messages[0]?.content).toBe("Bob was here");
    expect((await sessionMessages(alice.token, aliceSession)).messages.map((m) => m.content)).not.toContain("Bob was here");
  });

  it("never retrieves from another user's documents, even when file_ids names them", async () => {
    const secret = "The vault combination is 7341 and the vault is behind the painting of the harbour.";
    const doc = await uploadReady(alice.token, makeTextPdf([secret]), "vault.pdf");
    const chat = await ChatClient.open({ token: bob.token });
    for (const extra of [{}, { file_ids: [doc.id] }]) {
      const a = await chat.ask("What is the vault combination?", extra);
      expect(a.done?.status).toBe("complete");
      expect(a.citations).toEqual([]);
      expect(a.text).not.toContain("7341");
    }
    chat.close();
    // Control: Alice gets it.
    const own = await ChatClient.open({ token: alice.token });
    const a = await own.ask("What is the vault combination?", { file_ids: [doc.id] });
    expect(a.citations?.[0]?.file_id).toBe(doc.id);
    expect(a.text).toContain("7341");
    own.close();
  });
});

describe("DELETE /v1/chat/sessions/{id}", () => {
  it("deletes the session and its messages, and hangs up every socket on it with 4004", async () => {
    const { token, user } = await login();
    const a = await ChatClient.open({ token });
    expect((await a.ask("First question?")).done?.status).toBe("complete");
    const b = await ChatClient.open({ token, sessionId: a.sessionId });
    const elsewhere = await ChatClient.open({ token });
    expect(await count("select 1 from messages where session_id = $1", [a.sessionId])).toBe(2);

    const res = await call(`/v1/chat/sessions/${a.sessionId}`, { method: "DELETE", token });
    expect(res.status).toBe(204);
    expect(await a.waitClosed()).toMatchObject({ code: 4004 });
    expect(await b.waitClosed()).toMatchObject({ code: 4004 });
    // Another session's socket stays up.
    await elsewhere.ping();
    expect(elsewhere.closed).toBeNull();
    elsewhere.close();

    expect(await count("select 1 from messages where session_id = $1", [a.sessionId])).toBe(0);
    expect(await count("select 1 from chat_sessions where id = $1", [a.sessionId])).toBe(0);
    expect((await call(`/v1/chat/sessions/${a.sessionId}/messages`, { token })).status).toBe(404);
    expect((await call(`/v1/chat/sessions/${a.sessionId}`, { method: "DELETE", token })).status).toBe(404);
    await expectRefused(await upgradeRequest({ token, sessionId: a.sessionId }), 404, "session_not_found");
    const list = await json<{ sessions: Array<{ id: string }> }>(await call("/v1/chat/sessions", { token }));
    expect(list.sessions.map((s) => s.id)).not.toContain(a.sessionId);
    // The tokens it used stay accounted for.
    expect((await usageReport(token)).last_24h.requests).toBe(2);
    expect(await count("select 1 from usage_events where user_id = $1 and kind = 'chat'", [user.id])).toBe(1);
  });

  it("still charges an answer that was in flight when its session was deleted", async () => {
    const { token, user } = await login();
    const m = marker("deleted");
    const fault = await injectFault({ match: m, endpoint: "chat", delay_ms: 10_000 });
    const chat = await ChatClient.open({ token });
    chat.message(`Anything in here? ${m}`);
    await chat.next("citations");
    await faultUsedUp(fault);
    expect((await call(`/v1/chat/sessions/${chat.sessionId}`, { method: "DELETE", token })).status).toBe(204);
    expect((await chat.waitClosed()).code).toBe(4004);
    // The embedding of the question and the (estimated) prompt of the aborted completion are both recorded.
    const chatEvents = await eventually(
      async () => {
        const n = await count("select 1 from usage_events where user_id = $1 and kind = 'chat' and prompt_tokens > 0", [user.id]);
        return n > 0 ? n : undefined;
      },
      5_000,
      "the aborted answer's usage event",
    );
    expect(chatEvents).toBe(1);
    expect(await count("select 1 from messages where session_id = $1", [chat.sessionId])).toBe(0);
  });
});
