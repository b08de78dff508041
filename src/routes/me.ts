// GET /v1/me — the authenticated user.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../env.ts";
import { requireUser, userGone } from "../middleware/auth.ts";
import { apiRateLimit } from "../middleware/rate-limit.ts";
import { requireTenant } from "../middleware/tenant.ts";
import { findUser } from "../users/repository.ts";
import { authErrors, bearerSecurity, UserSchema } from "./schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/me",
  operationId: "getCurrentUser",
  tags: ["Users"],
  summary: "The current user",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, apiRateLimit] as const,
  responses: {
    200: {
      description: "The user behind the access token",
      content: {
        "application/json": {
          schema: UserSchema.extend({
            status: z.enum(["invited", "active", "disabled"]).openapi({ description: "active once logged in; disabled users are refused" }),
            created_at: z.iso.datetime(),
          }).openapi("Me"),
        },
      },
    },
    ...authErrors,
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const user = await findUser(c.var.services.db, c.var.tenant.id, c.var.user.id);
  // requireUser checked the user, but through a 30 s cache: it may have been deleted since.
  if (!user) throw userGone();
  return c.json(
    { id: user.id, email: user.email, tenant_id: user.tenantId, role: user.role, status: user.status, created_at: user.createdAt.toISOString() },
    200,
  );
};
