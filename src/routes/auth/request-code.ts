// POST /v1/auth/request-code — emails a 6-digit login code to an email that may log in. The answer never reveals
// whether the user exists or whether the tenant's sign-up policy admits the email.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { CODE_TTL_SECONDS, LoginCodes } from "../../auth/login-codes.ts";
import type { AppEnv } from "../../env.ts";
import { normalizeEmail } from "../../lib/email.ts";
import { ApiError } from "../../lib/errors.ts";
import { authRateLimit } from "../../middleware/rate-limit.ts";
import { requireTenant } from "../../middleware/tenant.ts";
import { admitsNewUser, effectiveSettings } from "../../tenants/settings.ts";
import { loginStanding } from "../../users/repository.ts";
import { errorResponse, tenantErrors, tenantSecurity } from "../schemas.ts";

export const route = createRoute({
  method: "post",
  path: "/v1/auth/request-code",
  operationId: "requestLoginCode",
  tags: ["Auth"],
  summary: "Email a login code",
  description:
    "Sends a 6-digit code, valid for 10 minutes, to the address. A new request replaces the previous code; " +
    "requests for the same address are spaced by a resend cooldown. A code is only sent to an email that may log in: an " +
    "existing user who is not disabled (an invited one included), or a new email the tenant's sign-up policy admits (`open`: " +
    "anyone; `domains`: an email of an allowed domain, exact match; `invite`: nobody new). The answer is the same either way.",
  security: tenantSecurity,
  middleware: [requireTenant, authRateLimit] as const,
  request: {
    body: {
      required: true,
      content: { "application/json": { schema: z.object({ email: z.email().max(254) }).openapi("RequestCodeBody") } },
    },
  },
  responses: {
    202: {
      description: "Code sent",
      content: {
        "application/json": {
          schema: z
            .object({
              status: z.literal("sent"),
              expires_in: z.number().int().openapi({ example: CODE_TTL_SECONDS }),
              dev_code: z
                .string()
                .optional()
                .openapi({
                  description:
                    "Only in local development (DEV_RETURN_LOGIN_CODE, refused in production), and only when a code was really " +
                    "sent: its absence tells who may log in, which is why it never exists in production",
                }),
            })
            .openapi("RequestCodeResponse"),
        },
      },
    },
    ...tenantErrors,
    429: errorResponse("Rate limited (rate_limited) or asked again too soon (resend_cooldown); see Retry-After"),
    502: errorResponse("The email could not be delivered (mail_delivery_failed)"),
    503: errorResponse("Rate limiting unavailable (rate_limiter_unavailable), or the database did not answer in time (database_unavailable)"),
  },
});

/** An existing person who is not disabled, or a new email the sign-up policy admits. */
async function mayLogIn(c: Context<AppEnv>, email: string): Promise<boolean> {
  const standing = await loginStanding(c.var.services.db, c.var.tenant.id, email);
  return standing === "may_log_in" || (standing === "unknown" && admitsNewUser(effectiveSettings(c.var.config, c.var.tenant), email));
}

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { config, tenant, services } = c.var;
  const email = normalizeEmail(c.req.valid("json").email);
  const codes = new LoginCodes(services.redis, config.JWT_SECRET);
  const admitted = await mayLogIn(c, email);

  // The same Redis work (cooldown, a stored code) whoever asks, so neither the status, the body nor the cooldown
  // tells who may log in. A refused email's code is never sent, and verify-code applies the policy again anyway.
  const issued = await codes.issue(tenant.id, email, config.LOGIN_CODE_RESEND_SECONDS);
  if ("retryAfter" in issued)
    throw new ApiError(429, "resend_cooldown", `A code was sent recently; ask again in ${issued.retryAfter} s`, {
      "Retry-After": String(issued.retryAfter),
    });
  const sent = { status: "sent" as const, expires_in: CODE_TTL_SECONDS };
  if (!admitted) return c.json(sent, 202);

  try {
    await services.mailer.sendLoginCode({ to: email, code: issued.code, tenantName: tenant.name, expiresInSeconds: CODE_TTL_SECONDS });
  } catch (err) {
    await codes.revoke(tenant.id, email);
    console.error(JSON.stringify({ level: "error", msg: "login code delivery failed", request_id: c.var.requestId, error: String(err) }));
    throw new ApiError(502, "mail_delivery_failed", "The login code could not be emailed; try again");
  }

  return c.json({ ...sent, ...(config.DEV_RETURN_LOGIN_CODE ? { dev_code: issued.code } : {}) }, 202);
};
