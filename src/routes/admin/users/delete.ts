// DELETE /v1/admin/users/{id} — erases a person (the right to erasure): see src/users/erasure.ts for what goes.
import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { audit } from "../../../audit/log.ts";
import { forgetUser } from "../../../auth/principal.ts";
import type { AppEnv } from "../../../env.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { changePerson } from "../../../users/admin.ts";
import { eraseUser } from "../../../users/erasure.ts";
import { authErrors, bearerSecurity, errorResponse } from "../../schemas.ts";
import { changeRefused, ownerRulesRefused, UserIdParams } from "./present.ts";

export const route = createRoute({
  method: "delete",
  path: "/v1/admin/users/{id}",
  operationId: "deleteUser",
  tags: ["Admin: users"],
  summary: "Delete a user and their data",
  description:
    "Deletes the user's private documents (with their chunks, pages and stored PDFs), chat sessions and messages, and collection " +
    "memberships. Documents they added to collections stay, with no uploader; their usage stays in the organisation's totals with " +
    "no user; audit entries they made keep their id but not their email. The owner rules of PATCH apply. A delete that failed part " +
    "way is finished by sending it again.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: { params: UserIdParams },
  responses: {
    204: { description: "Deleted, with everything that was theirs alone" },
    ...authErrors,
    403: ownerRulesRefused,
    404: errorResponse("No such user in this organisation (user_not_found)"),
    409: errorResponse("The user is the last active owner (last_owner)"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { id } = c.req.valid("param");
  const { tenant, user, services } = c.var;
  // Disabled first, under the owner rules: they stop acting, and a retry after a crash finds them (src/users/erasure.ts).
  const disabled = await changePerson(services.db, tenant.id, id, { status: "disabled" }, user.role === "owner");
  if (!disabled.ok) throw changeRefused(disabled.problem);
  forgetUser(tenant.id, id);
  // Before the erasure, which takes the email off every entry the user made, this one too when they erase themselves.
  await audit(c, { action: "user.delete", targetType: "user", targetId: id, details: { role: disabled.before.role } });
  await eraseUser(services.db, c.env.DOCUMENTS, tenant.id, id);
  return c.body(null, 204);
};
