// createDocuChat: the generated openapi-fetch client with the tenant header and bearer token on every request,
// plus the flows OpenAPI cannot describe (login, upload progress, waiting for ingestion, the chat socket).
import createClient, { type Client } from "openapi-fetch";
import { ChatSocket, type OpenChatOptions } from "./chat.ts";
import { DocuChatError, unwrap } from "./errors.ts";
import type { paths } from "./schema.ts";
import { type UploadProgress, uploadWithProgress } from "./upload.ts";

type Json<P extends keyof paths, M extends keyof paths[P], S extends number> = paths[P][M] extends {
  responses: { [K in S]: { content: { "application/json": infer T } } };
}
  ? T
  : never;

/** A document as GET /v1/files/{id} returns it. */
export type DocumentInfo = Json<"/v1/files/{id}", "get", 200>;
export type LoginResult = Json<"/v1/auth/verify-code", "post", 200>;
export type CodeRequested = Json<"/v1/auth/request-code", "post", 202>;

export interface DocuChatOptions {
  /** The API's origin, e.g. http://localhost:8787. */
  baseUrl: string;
  /** Sent as X-Tenant-ID on every request (and as ?tenant= on the chat socket). */
  tenant: string;
  /** A bearer token from a previous login; login() sets one. */
  token?: string;
  /** Overrides the global fetch (tests, proxies); browsers upload with XMLHttpRequest regardless, for progress. */
  fetch?: typeof fetch;
}

export interface WaitOptions {
  signal?: AbortSignal;
  /** Called with the document after every poll (status, progress.pages_done / pages_total). */
  onProgress?: (doc: DocumentInfo) => void;
  intervalMs?: number;
  timeoutMs?: number;
}

export type DocuChat = ReturnType<typeof createDocuChat>;

export function createDocuChat(options: DocuChatOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  let token = options.token;
  const api: Client<paths> = createClient<paths>({ baseUrl, fetch: options.fetch });
  api.use({
    onRequest({ request }) {
      request.headers.set("X-Tenant-ID", options.tenant);
      if (token) request.headers.set("Authorization", `Bearer ${token}`);
      return request;
    },
  });

  const client = {
    /** The typed openapi-fetch client: api.GET("/v1/files/{id}", { params: { path: { id } } }). */
    api,
    baseUrl,
    tenant: options.tenant,
    get token() {
      return token;
    },
    set token(value: string | undefined) {
      token = value;
    },

    /** Step 1 of login: emails a 6-digit code (dev_code is in the answer when DEV_RETURN_LOGIN_CODE=true). */
    async requestCode(email: string): Promise<CodeRequested> {
      return unwrap(await api.POST("/v1/auth/request-code", { body: { email } }));
    },

    /** Step 2 of login: exchanges the code for a bearer token, which every later call then sends. */
    async verifyCode(email: string, code: string): Promise<LoginResult> {
      const result = unwrap(await api.POST("/v1/auth/verify-code", { body: { email, code } }));
      token = result.access_token;
      return result;
    },

    /**
     * Logs in. With a code: verifies it. Without one: requests a code and, on a development stack that returns
     * it (dev_code), verifies it at once; otherwise throws code_required (ask the user, then call again with it).
     */
    async login(email: string, code?: string): Promise<LoginResult> {
      if (code) return client.verifyCode(email, code);
      const requested = await client.requestCode(email);
      if (!requested.dev_code) throw new DocuChatError(0, "code_required", `A login code was emailed to ${email}; call login(email, code)`);
      return client.verifyCode(email, requested.dev_code);
    },

    /** Uploads a PDF (multipart "file"); onProgress sees the bytes sent (in Node only 0 and the total). */
    async uploadFile(
      file: Blob,
      opts: { filename?: string; onProgress?: (p: UploadProgress) => void; signal?: AbortSignal } = {},
    ): Promise<DocumentInfo> {
      const filename = opts.filename ?? (file as File).name ?? "document.pdf";
      const headers: Record<string, string> = { "X-Tenant-ID": options.tenant };
      if (token) headers.Authorization = `Bearer ${token}`;
      return (await uploadWithProgress(`${baseUrl}/v1/files`, file, filename, headers, { ...opts, fetch: options.fetch })) as DocumentInfo;
    },

    /** Polls GET /v1/files/{id} until the document is ready; throws its error if ingestion failed. */
    async waitUntilReady(id: string, opts: WaitOptions = {}): Promise<DocumentInfo> {
      const { intervalMs = 500, timeoutMs = 300_000, signal, onProgress } = opts;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        signal?.throwIfAborted();
        const doc = unwrap(await api.GET("/v1/files/{id}", { params: { path: { id } }, signal }));
        onProgress?.(doc);
        if (doc.status === "ready") return doc;
        if (doc.status === "failed") throw new DocuChatError(0, doc.error?.code ?? "ingest_failed", doc.error?.message ?? "Ingestion failed");
        if (Date.now() + intervalMs > deadline) throw new DocuChatError(0, "timeout", `Document ${id} was not ready within ${timeoutMs} ms`);
        await sleep(intervalMs, signal);
      }
    },

    /** Opens the chat socket (a new session, or sessionId's); it reconnects by itself after a dropped connection. */
    openChat(opts: OpenChatOptions = {}): ChatSocket {
      if (!token) throw new DocuChatError(0, "unauthorized", "Log in before opening a chat");
      return new ChatSocket(`${baseUrl.replace(/^http/, "ws")}/ws/chat`, options.tenant, token, opts);
    },
  };
  return client;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener("abort", aborted);
      resolve();
    }
    function aborted() {
      clearTimeout(timer);
      reject(signal!.reason);
    }
    signal?.addEventListener("abort", aborted, { once: true });
  });
}
