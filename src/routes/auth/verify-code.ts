// POST /v1/auth/verify-code — exchanges a login code for a 7-day access token; creates the user on first login when
// the tenant's sign-up policy admits the email.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { type CodeCheck, LoginCodes, MAX_WRONG_ATTEMPTS } from "../../auth/login-codes.ts";
import { issueAccessToken, TOKEN_TTL_SECONDS } from "../../auth/tokens.ts";
import type { AppEnv } from "../../env.ts";
import { normalizeEmail } from "../../lib/email.ts";
import { ApiError } from "../../lib/errors.ts";
import { authRateLimit } from "../../middleware/rate-limit.ts";
import { requireTenant } from "../../middleware/tenant.ts";
import { admitsNewUser, effectiveSettings } from "../../tenants/settings.ts";
import { logIn } from "../../users/repository.ts";
import { errorResponse, tenantErrors, tenantSecurity, UserSchema } from "../schemas.ts";

export const route = createRoute({
  method: "post",
  path: "/v1/auth/verify-code",
  operationId: "verifyLoginCode",
  tags: ["Auth"],
  summary: "Exchange a login code for an access token",
  description:
    `Codes are single-use and burned after ${MAX_WRONG_ATTEMPTS} wrong attempts, however many arrive at once; a wrong ` +
    "guess is told how many attempts are left. The token is a 7-day HS256 JWT. A new email becomes a member only when the " +
    "tenant's sign-up policy admits it; an invited user becomes active; a disabled user never logs in (all refused as invalid_code).",
  security: tenantSecurity,
  middleware: [requireTenant, authRateLimit] as const,
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.object({ email: z.email().max(254), code: z.string().regex(/^\d{6}$/, "must be 6 digits") }).openapi("VerifyCodeBody"),
        },
      },
    },
  },
  responses: {
    200: {
      description: "Logged in",
      content: {
        "application/json": {
          schema: z
            .object({
              access_token: z.string(),
              token_type: z.literal("Bearer"),
              expires_in: z.number().int().openapi({ example: TOKEN_TTL_SECONDS }),
              user: UserSchema,
            })
            .openapi("TokenResponse"),
        },
      },
    },
    ...tenantErrors,
    401: errorResponse("Wrong, expired, used or burned code (invalid_code)"),
    503: errorResponse("Rate limiting unavailable (rate_limiter_unavailable), or the database did not answer in time (database_unavailable)"),
  },
});

/** Tells a user who mistyped how many tries remain; without a code to compare, nothing is said beyond "expired". */
function rejection({ outcome, attemptsLeft }: CodeCheck): string {
  if (outcome === "wrong") return `The code is wrong; ${attemptsLeft} attempt${attemptsLeft === 1 ? "" : "s"} left`;
  if (outcome === "burned") return `The code is wrong and now burned after ${MAX_WRONG_ATTEMPTS} wrong attempts; request a new one`;
  return "The code is wrong or has expired; request a new one";
}

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { config, tenant, services } = c.var;
  const body = c.req.valid("json");
  const email = normalizeEmail(body.email);

  const check = await new LoginCodes(services.redis, config.JWT_SECRET).consume(tenant.id, email, body.code);
  if (check.outcome !== "accepted") throw new ApiError(401, "invalid_code", rejection(check));

  const user = await logIn(services.db, tenant.id, email, admitsNewUser(effectiveSettings(config, tenant), email));
  // Only reached with a code request-code never sent, or after the policy or the user changed since: told as a bad code.
  if (!user) throw new ApiError(401, "invalid_code", rejection({ outcome: "absent", attemptsLeft: 0 }));
  return c.json(
    {
      access_token: await issueAccessToken(config, user),
      token_type: "Bearer" as const,
      expires_in: TOKEN_TTL_SECONDS,
      user: { id: user.id, email: user.email, tenant_id: user.tenantId, role: user.role },
    },
    200,
  );
};
