// GET /v1/chat/sessions — the caller's chat sessions, most recently active first.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { listSessions } from "../../chat/repository.ts";
import type { AppEnv } from "../../env.ts";
import { requireUser } from "../../middleware/auth.ts";
import { apiRateLimit } from "../../middleware/rate-limit.ts";
import { requireTenant } from "../../middleware/tenant.ts";
import { authErrors, bearerSecurity, TenantHeader } from "../schemas.ts";
import { presentSession, SessionSchema } from "./schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/chat/sessions",
  tags: ["Chat"],
  summary: "Your chat sessions",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, apiRateLimit] as const,
  request: { headers: TenantHeader, query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(50) }) },
  responses: {
    200: { description: "Sessions, most recently active first", content: { "application/json": { schema: z.object({ sessions: z.array(SessionSchema) }) } } },
    ...authErrors,
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const rows = await listSessions(c.var.services.db, { tenantId: c.var.tenant.id, userId: c.var.user.id }, c.req.valid("query").limit);
  return c.json({ sessions: rows.map(presentSession) }, 200);
};
