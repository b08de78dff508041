// Turns every failure into the one error shape; nothing internal (stack, SQL) reaches the client.
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";
import { ConfigError } from "../config.ts";
import { databaseUnavailableIn } from "../db/errors.ts";
import type { AppEnv } from "../env.ts";
import { ApiError, errorBody } from "../lib/errors.ts";

const requestIdOf = (c: Context<AppEnv>) => c.get("requestId") ?? "unknown";

export function errorResponse(c: Context<AppEnv>, status: ContentfulStatusCode, code: string, message: string, headers: Record<string, string> = {}) {
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  return c.json(errorBody(code, message, requestIdOf(c)), status);
}

/** Seconds a client should wait before retrying when the database did not answer. */
const DATABASE_RETRY_AFTER_SECONDS = 5;

const HTTP_EXCEPTION_CODES: Partial<Record<number, string>> = {
  400: "bad_request",
  401: "unauthorized",
  413: "payload_too_large",
  415: "unsupported_media_type",
};

export const onError: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof ApiError) return errorResponse(c, err.status, err.code, err.message, err.headers);
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    return errorResponse(c, status, HTTP_EXCEPTION_CODES[status] ?? "http_error", err.message || "Request failed");
  }
  const unavailable = databaseUnavailableIn(err);
  if (unavailable) {
    const cause = unavailable.cause === undefined ? {} : { cause: String(unavailable.cause) };
    console.error(JSON.stringify({ level: "error", msg: "database unavailable", request_id: requestIdOf(c), error: unavailable.message, ...cause }));
    return errorResponse(c, 503, "database_unavailable", "The database is not answering; try again in a few seconds", {
      "Retry-After": String(DATABASE_RETRY_AFTER_SECONDS),
    });
  }
  if (err instanceof ConfigError) {
    console.error(JSON.stringify({ level: "error", msg: err.message, request_id: requestIdOf(c) }));
    return errorResponse(c, 500, "misconfigured", err.message);
  }
  console.error(JSON.stringify({ level: "error", msg: "unhandled error", request_id: requestIdOf(c), error: String(err), stack: err.stack }));
  return errorResponse(c, 500, "internal_error", "Something went wrong on our side. Quote the request id if you report it.");
};

export const notFound: NotFoundHandler<AppEnv> = (c) =>
  errorResponse(c, 404, "not_found", `No route for ${c.req.method} ${new URL(c.req.url).pathname}`);

export function describeZodError(error: ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
}

/** Validation failures from the OpenAPI route schemas (body, query, params, headers). */
export function validationHook(result: { success: boolean; error?: unknown }, c: Context<AppEnv>) {
  if (!result.success) return errorResponse(c, 400, "validation_failed", describeZodError(result.error as ZodError));
}
