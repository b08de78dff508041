// GET /healthz — checks the database and Redis; 503 when either is down, with per-dependency status and latency.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { databaseUnavailableIn } from "../db/errors.ts";
import type { AppEnv } from "../env.ts";
import { APP_VERSION } from "../lib/version.ts";
import { publicSecurity } from "./schemas.ts";

const CHECK_TIMEOUT_MS = 3_000;

const Check = z.object({
  status: z.enum(["ok", "error"]),
  latency_ms: z.number(),
  error: z.string().optional(),
});

const Health = z
  .object({ status: z.enum(["ok", "unavailable"]), version: z.string(), checks: z.object({ database: Check, redis: Check }) })
  .openapi("Health");

export const route = createRoute({
  method: "get",
  path: "/healthz",
  operationId: "getHealth",
  tags: ["Meta"],
  security: publicSecurity,
  summary: "Health of the service and its dependencies",
  responses: {
    200: { description: "Everything answers", content: { "application/json": { schema: Health } } },
    503: { description: "A dependency is down", content: { "application/json": { schema: Health } } },
  },
});

async function check(probe: () => Promise<unknown>): Promise<z.infer<typeof Check>> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS))),
    ]);
    return { status: "ok", latency_ms: Math.round(performance.now() - started) };
  } catch (err) {
    // The driver's and drizzle's wrappers would say "Failed query: select 1"; the cause says what is wrong.
    const message = databaseUnavailableIn(err)?.message ?? (err instanceof Error ? err.message : String(err));
    return { status: "error", latency_ms: Math.round(performance.now() - started), error: message };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { db, redis } = c.var.services;
  const [database, redisCheck] = await Promise.all([check(() => db.execute(sql`select 1`)), check(() => redis.ping())]);
  const healthy = database.status === "ok" && redisCheck.status === "ok";
  c.header("Cache-Control", "no-store");
  return c.json({ status: healthy ? "ok" : "unavailable", version: APP_VERSION, checks: { database, redis: redisCheck } }, healthy ? 200 : 503);
};
