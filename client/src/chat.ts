// The chat socket: typed frames, one answer at a time as an async iterator, cancel, and automatic reconnection
// to the same session after a dropped connection (never after 4001/4003/4004, which reconnecting cannot fix).
import { DocuChatError } from "./errors.ts";
import { type AnswerFrame, type ClientFrame, CloseCode, type ServerFrame } from "./frames.ts";

export interface OpenChatOptions {
  /** Join an existing session of yours; omit to start a new one. */
  sessionId?: string;
  /** Reconnection after a dropped socket: attempts before giving up (default 5) and the first delay (doubling). */
  reconnect?: { attempts?: number; delayMs?: number };
  /** Every frame the server sends, for logging or UIs that want more than ask(). */
  onFrame?: (frame: ServerFrame) => void;
  /** The socket's state changes; "closed" comes with the error that ended it, if any. */
  onState?: (state: ChatState, error?: DocuChatError) => void;
}

export type ChatState = "connecting" | "open" | "reconnecting" | "closed";

export interface AskOptions {
  /** Only search these documents. */
  fileIds?: string[];
  /** Answer only from these collections' documents (and the files in fileIds). */
  collectionIds?: string[];
  /** Answer only from documents carrying at least one of these tags. */
  tags?: string[];
  model?: string;
  /** Aborting sends {"type":"cancel"}: the answer then ends with done.status "cancelled". */
  signal?: AbortSignal;
}

/** The error code each final close code stands for (the server's error frame before it, if any, says more). */
const FINAL_CLOSE_CODES = new Map<number, string>([
  [CloseCode.tokenExpired, "token_expired"],
  [CloseCode.unauthorized, "unauthorized"],
  [CloseCode.sessionDeleted, "session_deleted"],
]);
const SUBPROTOCOL = "docuchat";
const closedByClient = () => new DocuChatError(0, "closed", "The chat was closed");

/** Frames of the answer being streamed, handed to whoever iterates ask()'s result. */
class AnswerStream {
  private readonly queue: AnswerFrame[] = [];
  private failure?: DocuChatError;
  private finished = false;
  private wake?: () => void;

  push(frame: AnswerFrame) {
    this.queue.push(frame);
    if (frame.type === "done") this.finished = true;
    this.wake?.();
  }

  fail(error: DocuChatError) {
    if (this.finished) return;
    this.failure = error;
    this.finished = true;
    this.wake?.();
  }

  get ended() {
    return this.finished;
  }

  async *frames(): AsyncGenerator<AnswerFrame> {
    for (;;) {
      const frame = this.queue.shift();
      if (frame) {
        yield frame;
        if (frame.type === "done") return;
      } else if (this.failure) throw this.failure;
      else await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

export class ChatSocket {
  private ws?: WebSocket;
  private id?: string;
  /** A session exists on the server once a message was sent in it (until then a reconnect starts a new one). */
  private stored: boolean;
  private answer?: AnswerStream;
  private attempts = 0;
  private closedByUs = false;
  private state: ChatState = "connecting";
  private readyWaiters: { resolve: (id: string) => void; reject: (e: DocuChatError) => void }[] = [];
  private finalError?: DocuChatError;

  private readonly url: string;
  private readonly tenant: string;
  private readonly token: string;
  private readonly options: OpenChatOptions;

  constructor(url: string, tenant: string, token: string, options: OpenChatOptions) {
    this.url = url;
    this.tenant = tenant;
    this.token = token;
    this.options = options;
    this.id = options.sessionId;
    this.stored = Boolean(options.sessionId);
    this.connect();
  }

  /** The session's id (known once the server's session frame arrived). */
  get sessionId(): string | undefined {
    return this.id;
  }

  /** Resolves with the session id when the socket is open; rejects if it closed for good. */
  ready(): Promise<string> {
    if (this.state === "open" && this.id) return Promise.resolve(this.id);
    if (this.state === "closed") return Promise.reject(this.finalError ?? closedByClient());
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  /** Asks a question; iterate the result for citations, deltas and done. An error frame is thrown as DocuChatError. */
  ask(content: string, opts: AskOptions = {}): AsyncGenerator<AnswerFrame> {
    if (this.answer && !this.answer.ended) throw new DocuChatError(0, "busy", "An answer is still streaming; wait for it or cancel() it");
    const answer = new AnswerStream();
    this.answer = answer;
    opts.signal?.addEventListener("abort", () => this.cancel(), { once: true });
    this.ready()
      .then(() => {
        this.stored = true;
        this.send({ type: "message", content, file_ids: opts.fileIds, collection_ids: opts.collectionIds, tags: opts.tags, model: opts.model });
      })
      .catch((e: DocuChatError) => answer.fail(e));
    return answer.frames();
  }

  /** Stops the answer being written; it ends with a done frame whose status is "cancelled". */
  cancel(): void {
    if (this.answer && !this.answer.ended) this.send({ type: "cancel" });
  }

  /** Closes the socket for good (no reconnection). */
  close(): void {
    this.closedByUs = true;
    this.ws?.close(1000, "client closed");
    this.finish(undefined);
  }

  private send(frame: ClientFrame) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  private connect() {
    const params = new URLSearchParams({ tenant: this.tenant });
    if (this.id && this.stored) params.set("session_id", this.id);
    const ws = new WebSocket(`${this.url}?${params}`, [SUBPROTOCOL, `bearer.${this.token}`]);
    this.ws = ws;
    let lastError: Extract<ServerFrame, { type: "error" }> | undefined;
    ws.addEventListener("message", (event) => {
      const frame = JSON.parse(String(event.data)) as ServerFrame;
      this.options.onFrame?.(frame);
      if (frame.type === "session") this.opened(frame.session_id);
      else if (frame.type === "citations" || frame.type === "delta" || frame.type === "done") this.answer?.push(frame);
      else if (frame.type === "error") {
        lastError = frame;
        this.answer?.fail(new DocuChatError(0, frame.code, frame.message, undefined, frame.retryable, frame.retry_after));
      }
    });
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws || this.closedByUs) return;
      const finalCode = FINAL_CLOSE_CODES.get(event.code);
      if (finalCode) return this.finish(new DocuChatError(0, finalCode, lastError?.message ?? (event.reason || "The server closed the chat")));
      // An answer cannot resume on another socket: its caller learns the connection was lost and may ask again.
      this.answer?.fail(new DocuChatError(0, "connection_lost", "The chat connection was lost", undefined, true));
      this.reconnect();
    });
  }

  private opened(sessionId: string) {
    this.id = sessionId;
    this.attempts = 0;
    this.setState("open");
    for (const w of this.readyWaiters.splice(0)) w.resolve(sessionId);
  }

  private reconnect() {
    const { attempts = 5, delayMs = 250 } = this.options.reconnect ?? {};
    if (this.attempts >= attempts)
      return this.finish(new DocuChatError(0, "connection_lost", `Could not reconnect after ${attempts} attempts`, undefined, true));
    this.setState("reconnecting");
    const delay = Math.min(delayMs * 2 ** this.attempts++, 10_000);
    setTimeout(() => !this.closedByUs && this.connect(), delay);
  }

  private finish(error: DocuChatError | undefined) {
    if (this.state === "closed") return;
    this.finalError = error;
    const reason = error ?? closedByClient();
    this.answer?.fail(reason);
    for (const w of this.readyWaiters.splice(0)) w.reject(reason);
    this.setState("closed", error);
  }

  private setState(state: ChatState, error?: DocuChatError) {
    if (this.state === state) return;
    this.state = state;
    this.options.onState?.(state, error);
  }
}
