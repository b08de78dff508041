// Errors the stand-in answers with, in the OpenAI error shape: {error: {message, type, param, code}}.

/** A request error carrying the OpenAI error object fields (and extra response headers). */
export class ApiError extends Error {
  status: number;
  type: string;
  param: string | null;
  code: string | null;
  headers: Record<string, string>;
  constructor(
    status: number,
    message: string,
    f: { type?: string; param?: string | null; code?: string | null; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.status = status;
    this.type = f.type ?? "invalid_request_error";
    this.param = f.param ?? null;
    this.code = f.code ?? null;
    this.headers = f.headers ?? {};
  }
}

/** A 400 invalid_request_error. */
export const invalid = (message: string, param: string | null = null, code: string | null = null) => new ApiError(400, message, { param, code });
