// Sliding-window rate limits in Upstash Redis (@upstash/ratelimit), reported with RateLimit-* headers.
// The auth routes fail closed: when the limiter cannot answer, the request is refused (503), because
// an unlimited code-guessing endpoint is worse than a short outage. The rest of the API fails open, loudly.
import { Ratelimit } from "@upstash/ratelimit";
import type { Redis } from "@upstash/redis/cloudflare";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { Config, RateSpec } from "../config.ts";
import type { AppEnv } from "../env.ts";
import { normalizeEmail } from "../lib/email.ts";
import { ApiError } from "../lib/errors.ts";

interface Rule {
  name: string;
  spec: RateSpec;
  identifier: string;
}

// Identifiers known to be blocked, per isolate: spares Redis a round trip while a client hammers us.
const ephemeralCache = new Map<string, number>();
const LIMITER_TIMEOUT_MS = 2_000;

export function clientIp(c: Context<AppEnv>): string {
  return c.req.header("CF-Connecting-IP") ?? "unknown";
}

/** Where a request is counted: the tenant's limiter keys, and how to keep the limiter's background work alive. */
export interface LimitScope {
  redis: Redis;
  tenantId: string;
  requestId: string;
  waitUntil: (promise: Promise<unknown>) => void;
}

/** Counts one request against every rule: the RateLimit-* headers of the tightest rule, or ApiError 429. */
async function countRequest(scope: LimitScope, rules: Rule[], failClosed: boolean): Promise<Record<string, string>> {
  let results;
  try {
    results = await Promise.all(
      rules.map(async (rule) => {
        const limiter = new Ratelimit({
          redis: scope.redis,
          limiter: Ratelimit.slidingWindow(rule.spec.limit, `${rule.spec.windowSeconds} s`),
          prefix: `ratelimit:${scope.tenantId}:${rule.name}`,
          ephemeralCache,
          timeout: LIMITER_TIMEOUT_MS,
          analytics: false,
        });
        const result = await limiter.limit(rule.identifier);
        if (result.reason === "timeout") throw new Error("rate limiter timed out");
        scope.waitUntil(result.pending);
        return result;
      }),
    );
  } catch (err) {
    console.error(JSON.stringify({ level: "error", msg: "rate limiter unavailable", request_id: scope.requestId, error: String(err) }));
    if (failClosed) throw new ApiError(503, "rate_limiter_unavailable", "Rate limiting is unavailable; try again shortly", { "Retry-After": "5" });
    return {};
  }

  // Report the tightest rule: the one with the fewest requests left.
  const tightest = results.reduce((a, b) => (b.remaining < a.remaining || (!b.success && a.success) ? b : a));
  const resetSeconds = Math.max(0, Math.ceil((tightest.reset - Date.now()) / 1000));
  const headers = {
    "RateLimit-Limit": String(tightest.limit),
    "RateLimit-Remaining": String(Math.max(0, tightest.remaining)),
    "RateLimit-Reset": String(resetSeconds),
  };
  const blocked = results.find((r) => !r.success);
  if (blocked) {
    const retryAfter = Math.max(1, Math.ceil((blocked.reset - Date.now()) / 1000));
    throw new ApiError(429, "rate_limited", `Too many requests; retry in ${retryAfter} s`, {
      ...headers,
      "RateLimit-Remaining": "0",
      "Retry-After": String(retryAfter),
    });
  }
  return headers;
}

/** A request's scope, once its tenant is resolved. */
export const limitScope = (c: Context<AppEnv>): LimitScope => ({
  redis: c.var.services.redis,
  tenantId: c.var.tenant.id,
  requestId: c.var.requestId,
  waitUntil: (p) => c.executionCtx.waitUntil(p),
});

async function enforce(c: Context<AppEnv>, rules: Rule[], failClosed: boolean): Promise<void> {
  for (const [name, value] of Object.entries(await countRequest(limitScope(c), rules, failClosed))) c.header(name, value);
}

const NOT_JSON = Symbol("not JSON");

/** The email an auth request's body names, if it names one at all: the body is not validated yet (it may be null). */
const emailIn = (body: unknown) =>
  typeof body === "object" && body !== null && "email" in body && typeof body.email === "string" ? body.email : undefined;

/**
 * Per client IP, and per email when the body names one. It runs before the route validates the body, so malformed
 * bodies count against the IP too; a body that is not JSON at all is refused here, once counted.
 */
export const authRateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const { config } = c.var;
  const body: unknown = await c.req.json().catch(() => NOT_JSON);
  const rules: Rule[] = [{ name: "auth-ip", spec: config.RATE_LIMIT_AUTH_PER_IP, identifier: clientIp(c) }];
  const email = emailIn(body);
  if (email !== undefined) rules.push({ name: "auth-email", spec: config.RATE_LIMIT_AUTH_PER_EMAIL, identifier: normalizeEmail(email) });
  await enforce(c, rules, true);
  if (body === NOT_JSON) throw new ApiError(400, "validation_failed", "The request body must be a JSON object");
  await next();
});

const apiUserRule = (config: Config, userId: string): Rule => ({ name: "api-user", spec: config.RATE_LIMIT_API_PER_USER, identifier: userId });

/** Per authenticated user on the rest of the API. */
export const apiRateLimit = createMiddleware<AppEnv>(async (c, next) => {
  await enforce(c, [apiUserRule(c.var.config, c.var.user.id)], false);
  await next();
});

/**
 * The same per-user limit where there is no middleware chain: each chat socket upgrade and message counts.
 * Throws ApiError 429 rate_limited (Retry-After in its headers); fails open like apiRateLimit.
 */
export async function limitUser(scope: LimitScope, config: Config, userId: string): Promise<void> {
  await countRequest(scope, [apiUserRule(config, userId)], false);
}
