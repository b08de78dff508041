// Sliding-window rate limits in Upstash Redis (@upstash/ratelimit), reported with RateLimit-* headers.
// The auth routes fail closed: when the limiter cannot answer, the request is refused (503), because
// an unlimited code-guessing endpoint is worse than a short outage. The rest of the API fails open, loudly.
import { Ratelimit } from "@upstash/ratelimit";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { RateSpec } from "../config.ts";
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

async function enforce(c: Context<AppEnv>, rules: Rule[], failClosed: boolean): Promise<void> {
  const { redis } = c.var.services;
  let results;
  try {
    results = await Promise.all(
      rules.map(async (rule) => {
        const limiter = new Ratelimit({
          redis,
          limiter: Ratelimit.slidingWindow(rule.spec.limit, `${rule.spec.windowSeconds} s`),
          prefix: `ratelimit:${c.var.tenant.id}:${rule.name}`,
          ephemeralCache,
          timeout: LIMITER_TIMEOUT_MS,
          analytics: false,
        });
        const result = await limiter.limit(rule.identifier);
        if (result.reason === "timeout") throw new Error("rate limiter timed out");
        c.executionCtx.waitUntil(result.pending);
        return result;
      }),
    );
  } catch (err) {
    console.error(JSON.stringify({ level: "error", msg: "rate limiter unavailable", request_id: c.var.requestId, error: String(err) }));
    if (failClosed) throw new ApiError(503, "rate_limiter_unavailable", "Rate limiting is unavailable; try again shortly", { "Retry-After": "5" });
    return;
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
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
}

/** Per email (from the validated JSON body) and per client IP. */
export const authRateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const { config } = c.var;
  const body = await c.req.json<{ email?: unknown }>().catch(() => ({ email: undefined }));
  const rules: Rule[] = [{ name: "auth-ip", spec: config.RATE_LIMIT_AUTH_PER_IP, identifier: clientIp(c) }];
  if (typeof body.email === "string") rules.push({ name: "auth-email", spec: config.RATE_LIMIT_AUTH_PER_EMAIL, identifier: normalizeEmail(body.email) });
  await enforce(c, rules, true);
  await next();
});

/** Per authenticated user on the rest of the API. */
export const apiRateLimit = createMiddleware<AppEnv>(async (c, next) => {
  await enforce(c, [{ name: "api-user", spec: c.var.config.RATE_LIMIT_API_PER_USER, identifier: c.var.user.id }], false);
  await next();
});
