// Records every request (route pattern, status, latency, tenant) once the response is known.
import { createMiddleware } from "hono/factory";
import { routePath } from "hono/route";
import type { AppEnv } from "../env.ts";
import { recordRequest } from "../observability/events.ts";

export const observeRequests = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  try {
    await next();
  } finally {
    const route = routePath(c, -1);
    recordRequest(c.env, {
      requestId: c.get("requestId"),
      // The matched pattern (/v1/files/:id), so metrics group by route, not by id; only middleware matched
      // an unknown path.
      route: route.endsWith("*") ? "unmatched" : route,
      method: c.req.method,
      status: c.res.status,
      latencyMs: Math.round(performance.now() - started),
      tenant: c.get("tenant")?.id ?? null,
      userId: c.get("user")?.id ?? null,
    });
  }
});
