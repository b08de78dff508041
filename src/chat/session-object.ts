// A Durable Object per chat session. It holds the session's WebSockets with the hibernation API (an idle chat
// costs nothing) and the one answer being streamed, which it broadcasts to every socket and can cancel.
// Messages live in Postgres, not in this object's SQLite: history, deletion and usage are then plain
// tenant-scoped SQL served by any Worker, and there is one source of truth for the HTTP API and the socket.
import { DurableObject } from "cloudflare:workers";
import { type PrincipalProblem, principalProblem, userStanding } from "../auth/principal.ts";
import { type Config, getConfig } from "../config.ts";
import { databaseUnavailableIn } from "../db/errors.ts";
import type { Owner } from "../documents/repository.ts";
import type { ApiKeyGrant, Env } from "../env.ts";
import { ApiError } from "../lib/errors.ts";
import { type LimitScope, limitUser } from "../middleware/rate-limit.ts";
import { recordChat } from "../observability/events.ts";
import { type Services, servicesFor } from "../services/index.ts";
import { answer, ChatError } from "./answer.ts";
import { ClientFrame, CloseCode, MAX_FRAME_BYTES, type ServerFrame } from "./protocol.ts";

/** Who is on the socket; set by the Worker after it authenticated the upgrade. */
export interface SocketIdentity {
  tenantId: string;
  userId: string;
  sessionId: string;
  /** The upgrade request's id: every answer on this socket logs it. */
  requestId: string;
  /** When the socket's access token expires (seconds since the epoch): no answer after that. */
  expiresAt: number;
  /** Whether the session's row exists; it is written with the first message, not at the upgrade. */
  stored: boolean;
  /** When the socket was opened with an API key: what the key may read. */
  apiKey?: ApiKeyGrant;
}

export const IDENTITY_HEADER = "X-DocuChat-Identity";

const PRINCIPAL_MESSAGES: Record<PrincipalProblem, string> = {
  tenant_unavailable: "Your organisation's account is disabled",
  user_not_found: "Your user account no longer exists",
  user_disabled: "Your user account is disabled",
};

/** Logs a failure we did not foresee (a database outage, a bug) and says so to the client, who may try again. */
function internalError(identity: SocketIdentity, err: unknown): ServerFrame {
  const unavailable = databaseUnavailableIn(err);
  console.error(
    JSON.stringify({ level: "error", msg: "chat answer failed", session_id: identity.sessionId, error: unavailable?.message ?? String(err) }),
  );
  if (unavailable)
    return { type: "error", code: "database_unavailable", message: "The database is not answering; try again in a few seconds", retryable: true };
  return { type: "error", code: "internal_error", message: "Something went wrong on our side", retryable: true };
}

/** Sockets are tagged with their owner, to find whether the owner is on a session not stored yet. */
const ownerTag = (o: Owner) => `owner:${o.tenantId}:${o.userId}`;

export class ChatSession extends DurableObject<Env> {
  private inflight: AbortController | null = null;

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/close") {
      // The session was deleted: hang up on everyone.
      this.inflight?.abort();
      for (const ws of this.ctx.getWebSockets()) ws.close(CloseCode.sessionDeleted, "session deleted");
      return new Response(null, { status: 204 });
    }
    const identity = JSON.parse(request.headers.get(IDENTITY_HEADER)!) as SocketIdentity;
    // A session without a row exists only while its owner is on it: its id was handed to them alone.
    if (url.pathname === "/join" && this.ctx.getWebSockets(ownerTag(identity)).length === 0) return new Response(null, { status: 404 });
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server, [ownerTag(identity)]);
    server.serializeAttachment(identity);
    this.send(server, { type: "session", session_id: identity.sessionId });
    const protocol = request.headers.get("X-DocuChat-Protocol");
    return new Response(null, { status: 101, webSocket: client, headers: protocol ? { "Sec-WebSocket-Protocol": protocol } : {} });
  }

  private send(ws: WebSocket, frame: ServerFrame) {
    try {
      ws.send(JSON.stringify(frame));
    } catch {
      // The socket closed meanwhile; the others still get the frame.
    }
  }

  private broadcast(frame: ServerFrame) {
    for (const ws of this.ctx.getWebSockets()) this.send(ws, frame);
  }

  private error(ws: WebSocket, code: ChatError["code"], message: string, retryable = false) {
    this.send(ws, { type: "error", code, message, retryable });
  }

  /** Says why, then closes: the client must not reconnect with the same credentials. */
  private hangUp(sockets: WebSocket[], code: "token_expired" | "unauthorized", message: string, closeCode: number) {
    for (const ws of sockets) {
      this.error(ws, code, message);
      try {
        ws.close(closeCode, code);
      } catch {
        // already closed
      }
    }
  }

  /**
   * Whether the socket may still be answered: its token has not expired, its tenant and user still exist (as
   * cached for PRINCIPAL_CACHE_MS), and the message is within the user's rate limit. Tells the client when not.
   */
  private async admit(ws: WebSocket, identity: SocketIdentity, config: Config, services: Services): Promise<boolean> {
    if (Date.now() >= identity.expiresAt * 1000) {
      this.hangUp([ws], "token_expired", "The access token has expired; reconnect with a new one", CloseCode.tokenExpired);
      return false;
    }
    try {
      const problem = await principalProblem(services.db, identity);
      // Every socket of the session is the same owner's.
      if (problem) {
        this.hangUp(this.ctx.getWebSockets(), "unauthorized", PRINCIPAL_MESSAGES[problem], CloseCode.unauthorized);
        return false;
      }
      const scope: LimitScope = { ...identity, redis: services.redis, waitUntil: (p) => this.ctx.waitUntil(p) };
      await limitUser(scope, config, identity.userId);
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.code === "rate_limited") {
        const retryAfter = Number(err.headers["Retry-After"]);
        this.send(ws, { type: "error", code: "rate_limited", message: err.message, retryable: true, retry_after: retryAfter });
      } else this.send(ws, internalError(identity, err));
      return false;
    }
  }

  /** The session's row was written with its first message: every socket remembers that it exists. */
  private markStored(identity: SocketIdentity) {
    if (identity.stored) return;
    identity.stored = true;
    for (const ws of this.ctx.getWebSockets()) ws.serializeAttachment({ ...(ws.deserializeAttachment() as SocketIdentity), stored: true });
  }

  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    const size = typeof raw === "string" ? new TextEncoder().encode(raw).length : raw.byteLength;
    if (size > MAX_FRAME_BYTES) return this.error(ws, "message_too_large", `Frames are limited to ${MAX_FRAME_BYTES} bytes`);
    let data: unknown;
    try {
      data = JSON.parse(typeof raw === "string" ? raw : new TextDecoder().decode(raw));
    } catch {
      return this.error(ws, "invalid_json", "Frames must be JSON");
    }
    const parsed = ClientFrame.safeParse(data);
    if (!parsed.success)
      return this.error(ws, "invalid_message", parsed.error.issues.map((i) => `${i.path.join(".") || "frame"}: ${i.message}`).join("; "));
    const frame = parsed.data;
    const identity = ws.deserializeAttachment() as SocketIdentity;

    if (frame.type === "ping") return this.send(ws, { type: "pong" });
    if (frame.type === "cancel") {
      this.inflight?.abort();
      return;
    }
    if (frame.session_id && frame.session_id !== identity.sessionId)
      return this.error(ws, "session_mismatch", "This socket belongs to another session; open a new socket for that one");
    // Claimed before any await, so that a cancel sent right behind this message finds the answer to cancel.
    const controller = this.inflight ? null : new AbortController();
    if (controller) this.inflight = controller;
    try {
      const config = getConfig(this.env);
      const services = servicesFor(config);
      // Every message is checked and counted, even one that is then refused as busy.
      if (!(await this.admit(ws, identity, config, services))) return;
      if (!controller) return this.error(ws, "busy", "An answer is still being written in this session; wait for it or cancel it", true);
      await this.answerQuestion(identity, frame, controller.signal, config, services);
    } finally {
      if (controller) this.inflight = null;
    }
  }

  private async answerQuestion(
    identity: SocketIdentity,
    frame: Extract<ClientFrame, { type: "message" }>,
    signal: AbortSignal,
    config: Config,
    services: Services,
  ) {
    // admit() just checked the user (through the cache this reads), so the role is the current one.
    const role = (await userStanding(services.db, identity.tenantId, identity.userId))?.role ?? "member";
    // What operators see of this answer, read off the frames it produces.
    const started = performance.now();
    const outcome = {
      firstDeltaMs: null as number | null,
      sources: 0,
      done: null as Extract<ServerFrame, { type: "done" }> | null,
      errorCode: null as string | null,
      model: frame.model ?? null,
    };
    const emit = (f: ServerFrame) => {
      if (f.type === "delta" && outcome.firstDeltaMs === null) outcome.firstDeltaMs = Math.round(performance.now() - started);
      if (f.type === "citations") outcome.sources = f.citations.length;
      if (f.type === "done") outcome.done = f;
      this.broadcast(f);
    };
    try {
      outcome.model = await answer(
        {
          config,
          services,
          owner: { tenantId: identity.tenantId, userId: identity.userId },
          reader: { tenantId: identity.tenantId, id: identity.userId, role, apiKey: identity.apiKey },
          sessionId: identity.sessionId,
          sessionStored: identity.stored,
          onSessionStored: () => this.markStored(identity),
          emit,
          signal,
        },
        { content: frame.content, fileIds: frame.file_ids, collectionIds: frame.collection_ids, tags: frame.tags, model: frame.model },
      );
    } catch (err) {
      outcome.errorCode = err instanceof ChatError ? err.code : "internal_error";
      if (err instanceof ChatError) this.broadcast({ type: "error", code: err.code, message: err.message, retryable: err.retryable });
      else this.broadcast(internalError(identity, err));
    } finally {
      recordChat(this.env, {
        requestId: identity.requestId,
        tenant: identity.tenantId,
        sessionId: identity.sessionId,
        messageId: outcome.done?.message_id ?? null,
        status: outcome.done?.status ?? "failed",
        errorCode: outcome.errorCode,
        // Only a refused question has no model: it is reported under the deployment's default.
        model: outcome.model ?? config.CHAT_DEFAULT_MODEL,
        firstDeltaMs: outcome.firstDeltaMs,
        durationMs: Math.round(performance.now() - started),
        promptTokens: outcome.done?.usage.prompt_tokens ?? 0,
        completionTokens: outcome.done?.usage.completion_tokens ?? 0,
        sources: outcome.sources,
      });
    }
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    // Echo the close; an answer in flight keeps going for the session's other sockets and its history.
    try {
      ws.close(code === 1005 ? 1000 : code, "closing");
    } catch {
      // already closed
    }
  }
}
