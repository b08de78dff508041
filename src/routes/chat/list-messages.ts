// GET /v1/chat/sessions/{id}/messages — a session's messages, oldest first, with citations and usage.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { findSession, listMessages } from "../../chat/repository.ts";
import type { AppEnv } from "../../env.ts";
import { ApiError } from "../../lib/errors.ts";
import { requireUser } from "../../middleware/auth.ts";
import { apiRateLimit } from "../../middleware/rate-limit.ts";
import { requireTenant } from "../../middleware/tenant.ts";
import { authErrors, bearerSecurity, errorResponse } from "../schemas.ts";
import { MessageSchema, presentMessage, presentSession, SessionIdParams, SessionSchema } from "./schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/chat/sessions/{id}/messages",
  operationId: "listChatMessages",
  tags: ["Chat"],
  summary: "A session's messages",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, apiRateLimit] as const,
  request: { params: SessionIdParams },
  responses: {
    200: {
      description: "The session and its messages, oldest first",
      content: { "application/json": { schema: z.object({ session: SessionSchema, messages: z.array(MessageSchema) }) } },
    },
    ...authErrors,
    404: errorResponse("No such session for this user (session_not_found)"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const owner = { tenantId: c.var.tenant.id, userId: c.var.user.id };
  const session = await findSession(c.var.services.db, owner, c.req.valid("param").id);
  if (!session) throw new ApiError(404, "session_not_found", "No such chat session");
  const messages = await listMessages(c.var.services.db, owner, session.id);
  return c.json({ session: presentSession(session), messages: messages.map(presentMessage) }, 200);
};
