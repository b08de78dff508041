// GET /v1/chat/sessions — the caller's chat sessions, most recently active first, cursor-paginated.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { listSessions } from "../../chat/repository.ts";
import type { AppEnv } from "../../env.ts";
import { decodeCursor, pageQuery, paginate } from "../../lib/cursor.ts";
import { requireUser } from "../../middleware/auth.ts";
import { apiRateLimit } from "../../middleware/rate-limit.ts";
import { requireTenant } from "../../middleware/tenant.ts";
import { authErrors, bearerSecurity } from "../schemas.ts";
import { presentSession, SessionSchema } from "./schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/chat/sessions",
  operationId: "listChatSessions",
  tags: ["Chat"],
  summary: "Your chat sessions",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, apiRateLimit] as const,
  request: {
    query: pageQuery(50),
  },
  responses: {
    200: {
      description: "One page of sessions, most recently active first",
      content: {
        "application/json": {
          schema: z.object({ sessions: z.array(SessionSchema), next_cursor: z.string().nullable() }).openapi("ChatSessionList"),
        },
      },
    },
    ...authErrors,
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const owner = { tenantId: c.var.tenant.id, userId: c.var.user.id };
  const after = cursor ? decodeCursor(cursor) : undefined;
  const rows = await listSessions(c.var.services.db, owner, limit + 1, after && { updatedAt: after.at, id: after.id });
  const { page, nextCursor } = paginate(rows, limit, (session) => ({ at: session.updatedAt, id: session.id }));
  return c.json({ sessions: page.map(presentSession), next_cursor: nextCursor }, 200);
};
