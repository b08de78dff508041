// PATCH /v1/admin/users/{id} — changes a person's role or status, under the owner rules.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { audit } from "../../../audit/log.ts";
import { forgetUser } from "../../../auth/principal.ts";
import { USER_ROLES } from "../../../db/schema.ts";
import type { AppEnv } from "../../../env.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { changePerson } from "../../../users/admin.ts";
import { authErrors, bearerSecurity, errorResponse } from "../../schemas.ts";
import { AdminUserSchema, changeRefused, ownerRulesRefused, presentPerson, UserIdParams } from "./present.ts";

const UpdateBody = z
  .object({
    role: z.enum(USER_ROLES).optional(),
    status: z.enum(["active", "disabled"]).optional(),
  })
  .refine((b) => b.role !== undefined || b.status !== undefined, { message: "role or status is required", path: ["role"] })
  .openapi("UserUpdate");

export const route = createRoute({
  method: "patch",
  path: "/v1/admin/users/{id}",
  operationId: "updateUser",
  tags: ["Admin: users"],
  summary: "Change a user's role or status",
  description:
    "Only an owner may change an owner or grant the owner role, and the organisation always keeps at least one active owner " +
    "(409 last_owner). The change applies to the user's next request (within 30 s on every server); a disabled user's tokens " +
    "get 401 and their open chat sockets are closed (4003) at their next message.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: { params: UserIdParams, body: { required: true, content: { "application/json": { schema: UpdateBody } } } },
  responses: {
    200: { description: "The user as changed", content: { "application/json": { schema: AdminUserSchema } } },
    ...authErrors,
    403: ownerRulesRefused,
    404: errorResponse("No such user in this organisation (user_not_found)"),
    409: errorResponse("The change would leave no active owner (last_owner)"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { id } = c.req.valid("param");
  const change = c.req.valid("json");
  const { tenant, user } = c.var;
  const result = await changePerson(c.var.services.db, tenant.id, id, change, user.role === "owner");
  if (!result.ok) throw changeRefused(result.problem);
  forgetUser(tenant.id, id);

  const { before, after } = result;
  const details: Record<string, { from: string; to: string }> = {};
  if (before.role !== after.role) details.role = { from: before.role, to: after.role };
  if (before.status !== after.status) details.status = { from: before.status, to: after.status };
  await audit(c, { action: "user.update", targetType: "user", targetId: id, details });
  return c.json(presentPerson(after), 200);
};
