// What the global middleware (src/app.ts) adds to every route's answers, written into the generated document in one
// place rather than repeated in each route: X-Request-Id on every response, a 500 on every operation, 413 and 415 on
// every JSON body, and the RateLimit-* and Retry-After headers of the rate-limited routes.
import type { OpenAPIHono } from "@hono/zod-openapi";

type Document = ReturnType<OpenAPIHono["getOpenAPI31Document"]>;

const header = (description: string, schema: { type: "string" | "integer" }) => ({ description, schema });
const ref = (name: string) => ({ $ref: `#/components/headers/${name}` });

const HEADERS = {
  RequestId: header("This request's id (also in error bodies as request_id): quote it when reporting a problem", { type: "string" }),
  RateLimitLimit: header("Requests allowed in the tightest rate-limit window", { type: "integer" }),
  RateLimitRemaining: header("Requests left in that window", { type: "integer" }),
  RateLimitReset: header("Seconds until that window has room again", { type: "integer" }),
  RetryAfter: header("Seconds to wait before trying again", { type: "integer" }),
};

const RATE_LIMIT_HEADERS = {
  "RateLimit-Limit": ref("RateLimitLimit"),
  "RateLimit-Remaining": ref("RateLimitRemaining"),
  "RateLimit-Reset": ref("RateLimitReset"),
};

/** A response every operation of its kind can give, with the Error schema the routes register. */
const errorResponse = (description: string) => ({ description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } });

const INTERNAL_ERROR = errorResponse("An unexpected failure (internal_error), or the deployment's configuration is invalid (misconfigured)");
const PAYLOAD_TOO_LARGE = errorResponse("The JSON body is over MAX_JSON_BODY_BYTES (payload_too_large)");
const NOT_JSON = errorResponse("The body is not sent as application/json (unsupported_media_type)");

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"] as const;
type Response = { headers?: Record<string, unknown>; content?: Record<string, { schema?: { $ref?: string } }> };

export function addStandardResponses(doc: Document): Document {
  doc.components = { ...doc.components, headers: { ...doc.components?.headers, ...HEADERS } };
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation?.responses) continue;
      const responses = operation.responses as Record<string, Response>;
      const body = operation.requestBody as { content?: Record<string, unknown> } | undefined;
      if (body?.content?.["application/json"]) {
        responses["413"] ??= structuredClone(PAYLOAD_TOO_LARGE);
        responses["415"] ??= structuredClone(NOT_JSON);
      }
      responses["500"] ??= structuredClone(INTERNAL_ERROR);
      // Every /v1 request is counted (apiRateLimit, authRateLimit): once it is, every answer carries RateLimit-*.
      const counted = path.startsWith("/v1/");
      for (const [status, response] of Object.entries(responses)) {
        const isError = response.content?.["application/json"]?.schema?.$ref === "#/components/schemas/Error";
        response.headers = {
          ...response.headers,
          "X-Request-Id": ref("RequestId"),
          ...(counted || status === "429" ? RATE_LIMIT_HEADERS : {}),
          ...(isError && (status === "429" || status === "503") ? { "Retry-After": ref("RetryAfter") } : {}),
        };
      }
    }
  }
  return doc;
}
