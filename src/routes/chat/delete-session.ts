// DELETE /v1/chat/sessions/{id} — deletes the session and its messages, and hangs up its sockets.
import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { deleteSession } from "../../chat/repository.ts";
import type { AppEnv } from "../../env.ts";
import { ApiError } from "../../lib/errors.ts";
import { requireUser } from "../../middleware/auth.ts";
import { apiRateLimit } from "../../middleware/rate-limit.ts";
import { requireTenant } from "../../middleware/tenant.ts";
import { authErrors, bearerSecurity, errorResponse } from "../schemas.ts";
import { SessionIdParams } from "./schemas.ts";

export const route = createRoute({
  method: "delete",
  path: "/v1/chat/sessions/{id}",
  operationId: "deleteChatSession",
  tags: ["Chat"],
  summary: "Delete a chat session",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, apiRateLimit] as const,
  request: { params: SessionIdParams },
  responses: { 204: { description: "Deleted" }, ...authErrors, 404: errorResponse("No such session for this user (session_not_found)") },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const id = c.req.valid("param").id;
  if (!(await deleteSession(c.var.services.db, { tenantId: c.var.tenant.id, userId: c.var.user.id }, id)))
    throw new ApiError(404, "session_not_found", "No such chat session");
  await c.env.CHAT_SESSIONS.get(c.env.CHAT_SESSIONS.idFromName(id)).fetch("https://session/close", { method: "POST" });
  return c.body(null, 204);
};
