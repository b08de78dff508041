// A Durable Object per chat session. It holds the session's WebSockets with the hibernation API (an idle chat
// costs nothing) and the one answer being streamed, which it broadcasts to every socket and can cancel.
// Messages live in Postgres, not in this object's SQLite: history, deletion and usage are then plain
// tenant-scoped SQL served by any Worker, and there is one source of truth for the HTTP API and the socket.
import { DurableObject } from "cloudflare:workers";
import { getConfig } from "../config.ts";
import type { Env } from "../env.ts";
import { recordChat } from "../observability/events.ts";
import { createServices } from "../services/index.ts";
import { answer, ChatError } from "./answer.ts";
import { ClientFrame, MAX_FRAME_BYTES, type ServerFrame } from "./protocol.ts";

/** Who is on the socket; set by the Worker after it authenticated the upgrade. */
export interface SocketIdentity {
  tenantId: string;
  userId: string;
  sessionId: string;
  /** The upgrade request's id: every answer on this socket logs it. */
  requestId: string;
}

export const IDENTITY_HEADER = "X-DocuChat-Identity";

export class ChatSession extends DurableObject<Env> {
  private inflight: AbortController | null = null;

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/close") {
      // The session was deleted: hang up on everyone.
      this.inflight?.abort();
      for (const ws of this.ctx.getWebSockets()) ws.close(4004, "session deleted");
      return new Response(null, { status: 204 });
    }
    const identity = JSON.parse(request.headers.get(IDENTITY_HEADER)!) as SocketIdentity;
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server);
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
    if (this.inflight) return this.error(ws, "busy", "An answer is still being written in this session; wait for it or cancel it", true);

    const controller = new AbortController();
    this.inflight = controller;
    const config = getConfig(this.env);
    // What operators see of this answer, read off the frames it produces.
    const started = performance.now();
    const outcome = { firstDeltaMs: null as number | null, sources: 0, done: null as Extract<ServerFrame, { type: "done" }> | null, errorCode: null as string | null };
    const emit = (f: ServerFrame) => {
      if (f.type === "delta" && outcome.firstDeltaMs === null) outcome.firstDeltaMs = Math.round(performance.now() - started);
      if (f.type === "citations") outcome.sources = f.citations.length;
      if (f.type === "done") outcome.done = f;
      this.broadcast(f);
    };
    try {
      await answer(
        {
          config,
          services: createServices(config),
          owner: { tenantId: identity.tenantId, userId: identity.userId },
          sessionId: identity.sessionId,
          emit,
          signal: controller.signal,
        },
        { content: frame.content, fileIds: frame.file_ids, model: frame.model },
      );
    } catch (err) {
      outcome.errorCode = err instanceof ChatError ? err.code : "internal_error";
      if (err instanceof ChatError) this.broadcast({ type: "error", code: err.code, message: err.message, retryable: err.retryable });
      else {
        console.error(JSON.stringify({ level: "error", msg: "chat answer failed", session_id: identity.sessionId, error: String(err) }));
        this.broadcast({ type: "error", code: "internal_error", message: "Something went wrong on our side", retryable: true });
      }
    } finally {
      this.inflight = null;
      recordChat(this.env, {
        requestId: identity.requestId,
        tenant: identity.tenantId,
        sessionId: identity.sessionId,
        messageId: outcome.done?.message_id ?? null,
        status: outcome.done?.status ?? "failed",
        errorCode: outcome.errorCode,
        model: frame.model ?? config.CHAT_DEFAULT_MODEL,
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
