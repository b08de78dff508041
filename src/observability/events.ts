// What operators see: one Workers Analytics Engine data point and one JSON log line per request, per ingestion
// job and per chat answer. Column layout (query with the SQL API, see docs/operations.md):
//   request: blob1 'request', blob2 route, blob3 method, blob4 tenant; double1 status, double2 latency_ms
//   ingest:  blob1 'ingest', blob2 status, blob3 error_code, blob4 tenant; double1 duration_ms, double2 pages,
//            double3 chunks, double4 embedding_tokens, double5 ocr_pages, double6 bytes_read
//   chat:    blob1 'chat', blob2 status, blob3 model, blob4 tenant; double1 first_delta_ms, double2 duration_ms,
//            double3 prompt_tokens, double4 completion_tokens, double5 sources
// The index (sampling key) is the tenant.
import type { Env } from "../env.ts";

export interface RequestEvent {
  requestId: string;
  route: string;
  method: string;
  status: number;
  latencyMs: number;
  tenant: string | null;
  userId: string | null;
}

export interface IngestEvent {
  requestId: string | null;
  tenant: string;
  documentId: string;
  fromPage: number;
  toPage: number;
  status: "range_done" | "ready" | "failed";
  errorCode: string | null;
  durationMs: number;
  pages: number;
  chunks: number;
  embeddingTokens: number;
  /** Pages of the range read by OCR. */
  ocrPages: number;
  /** Bytes of the PDF read from R2: the whole file, or what pdf.js asked for when the range read by ranges. */
  bytesRead: number;
}

export interface ChatEvent {
  requestId: string;
  tenant: string;
  sessionId: string;
  messageId: string | null;
  status: "complete" | "cancelled" | "failed";
  errorCode: string | null;
  model: string;
  firstDeltaMs: number | null;
  durationMs: number;
  promptTokens: number;
  completionTokens: number;
  sources: number;
}

type Analytics = Pick<AnalyticsEngineDataset, "writeDataPoint">;

function write(env: Env, point: AnalyticsEngineDataPoint) {
  try {
    (env.ANALYTICS as Analytics | undefined)?.writeDataPoint(point);
  } catch (err) {
    // Analytics must never break a request.
    console.error(JSON.stringify({ level: "error", msg: "analytics write failed", error: String(err) }));
  }
}

const log = (fields: Record<string, unknown>) => console.log(JSON.stringify({ level: "info", ...fields }));

export function recordRequest(env: Env, e: RequestEvent): void {
  log({
    msg: "request",
    request_id: e.requestId,
    method: e.method,
    route: e.route,
    status: e.status,
    latency_ms: e.latencyMs,
    tenant: e.tenant,
    user_id: e.userId,
  });
  write(env, { indexes: [e.tenant ?? "-"], blobs: ["request", e.route, e.method, e.tenant ?? ""], doubles: [e.status, e.latencyMs] });
}

export function recordIngest(env: Env, e: IngestEvent): void {
  log({
    msg: "ingest",
    request_id: e.requestId,
    tenant: e.tenant,
    document_id: e.documentId,
    from_page: e.fromPage,
    to_page: e.toPage,
    status: e.status,
    error_code: e.errorCode,
    duration_ms: e.durationMs,
    pages: e.pages,
    chunks: e.chunks,
    embedding_tokens: e.embeddingTokens,
    ocr_pages: e.ocrPages,
    bytes_read: e.bytesRead,
  });
  write(env, {
    indexes: [e.tenant],
    blobs: ["ingest", e.status, e.errorCode ?? "", e.tenant],
    doubles: [e.durationMs, e.pages, e.chunks, e.embeddingTokens, e.ocrPages, e.bytesRead],
  });
}

export function recordChat(env: Env, e: ChatEvent): void {
  log({
    msg: "chat",
    request_id: e.requestId,
    tenant: e.tenant,
    session_id: e.sessionId,
    message_id: e.messageId,
    status: e.status,
    error_code: e.errorCode,
    model: e.model,
    first_delta_ms: e.firstDeltaMs,
    duration_ms: e.durationMs,
    prompt_tokens: e.promptTokens,
    completion_tokens: e.completionTokens,
    sources: e.sources,
  });
  write(env, {
    indexes: [e.tenant],
    blobs: ["chat", e.status, e.model, e.tenant],
    doubles: [e.firstDeltaMs ?? -1, e.durationMs, e.promptTokens, e.completionTokens, e.sources],
  });
}
