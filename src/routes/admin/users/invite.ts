// POST /v1/admin/users — invites a person by email: they may log in whatever the sign-up policy, and become active then.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { audit } from "../../../audit/log.ts";
import { USER_ROLES } from "../../../db/schema.ts";
import type { AppEnv } from "../../../env.ts";
import { normalizeEmail } from "../../../lib/email.ts";
import { ApiError } from "../../../lib/errors.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { invitePerson, withdrawInvite } from "../../../users/admin.ts";
import { authErrors, bearerSecurity, errorResponse } from "../../schemas.ts";
import { AdminUserSchema, changeRefused, ownerRulesRefused, presentPerson } from "./present.ts";

const InviteBody = z
  .object({
    email: z.email().max(254),
    role: z.enum(USER_ROLES).default("member").openapi({ description: "Only an owner may invite an owner" }),
  })
  .openapi("UserInvite");

export const route = createRoute({
  method: "post",
  path: "/v1/admin/users",
  operationId: "inviteUser",
  tags: ["Admin: users"],
  summary: "Invite a user",
  description:
    "Creates the user with status `invited` and emails them. An invited user may log in under any sign-up policy and is active " +
    "from their first login. email: at most 254 characters, matched case-insensitively.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: { body: { required: true, content: { "application/json": { schema: InviteBody } } } },
  responses: {
    201: { description: "Invited", content: { "application/json": { schema: AdminUserSchema } } },
    ...authErrors,
    403: ownerRulesRefused,
    409: errorResponse("The email already is a user of the organisation (user_exists)"),
    502: errorResponse("The invitation could not be emailed (mail_delivery_failed); nothing was created"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { services, tenant, user } = c.var;
  const body = c.req.valid("json");
  if (body.role === "owner" && user.role !== "owner") throw changeRefused("owner_only");
  const email = normalizeEmail(body.email);
  const invited = await invitePerson(services.db, tenant.id, email, body.role);
  if (!invited) throw new ApiError(409, "user_exists", "This email already is a user of the organisation");

  try {
    await services.mailer.sendInvite({ to: email, tenantId: tenant.id, tenantName: tenant.name, role: body.role, invitedBy: user.email });
  } catch (err) {
    // Withdrawn, so that inviting again works once mail does.
    await withdrawInvite(services.db, tenant.id, invited.id);
    console.error(JSON.stringify({ level: "error", msg: "invitation delivery failed", request_id: c.var.requestId, error: String(err) }));
    throw new ApiError(502, "mail_delivery_failed", "The invitation could not be emailed; try again");
  }

  // No email in the entry: an erased user's address must not outlive them in the log.
  await audit(c, { action: "user.invite", targetType: "user", targetId: invited.id, details: { role: body.role } });
  return c.json(presentPerson(invited), 201);
};
