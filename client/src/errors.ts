// One error type for everything the client throws: the API's {"error":{"code","message","request_id"}} body,
// a chat error frame, or a client-side condition (connection_lost, timeout, aborted).

export class DocuChatError extends Error {
  override readonly name = "DocuChatError";
  /** HTTP status, or 0 when the error did not come from an HTTP response. */
  readonly status: number;
  readonly code: string;
  readonly requestId?: string;
  /** Whether trying again may succeed, and after how many seconds. */
  readonly retryable: boolean;
  readonly retryAfter?: number;

  constructor(status: number, code: string, message: string, requestId?: string, retryable = false, retryAfter?: number) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.retryable = retryable;
    this.retryAfter = retryAfter;
  }
}

interface ErrorBody {
  error?: { code?: string; message?: string; request_id?: string };
}

/** The error an API response carries (any non-2xx answer, JSON error body or not). */
export function errorFromResponse(response: Response, body: unknown): DocuChatError {
  const e = (body as ErrorBody | undefined)?.error;
  const retryAfter = Number(response.headers.get("Retry-After")) || undefined;
  return new DocuChatError(
    response.status,
    e?.code ?? `http_${response.status}`,
    e?.message ?? (response.statusText || `HTTP ${response.status}`),
    e?.request_id ?? response.headers.get("X-Request-Id") ?? undefined,
    response.status === 429 || response.status >= 500,
    retryAfter,
  );
}

/** openapi-fetch's result → its data, or the API's error thrown as a DocuChatError. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) throw errorFromResponse(result.response, result.error);
  return result.data as T;
}
