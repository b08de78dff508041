// Bearer authentication: an access token (JWT from a login) or an API key (dc_live_…). Either must belong to the
// tenant named by X-Tenant-ID and to a user who still exists and is not disabled; the role is read from the
// database (cached: src/auth/principal.ts), so a role change or a disabled user takes effect within 30 s.
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { API_KEY_PREFIX, authenticateApiKey } from "../api-keys/authenticate.ts";
import { userStanding } from "../auth/principal.ts";
import { verifyAccessToken } from "../auth/tokens.ts";
import { unauthorized } from "../auth/unauthorized.ts";
import type { AppEnv, AuthUser } from "../env.ts";
import { ApiError } from "../lib/errors.ts";

/** A token outlives its user when the user is deleted after it was issued. */
export const userGone = () => unauthorized("The user behind this token no longer exists");
export const userDisabled = () => unauthorized("This user account is disabled");

/** 401 when the credential is missing, invalid or its user is gone or disabled; 403 when issued for another tenant. */
export async function authenticate(c: Context<AppEnv>, token: string | undefined): Promise<AuthUser> {
  if (!token) throw unauthorized("An 'Authorization: Bearer <token>' header is required");
  if (token.startsWith(API_KEY_PREFIX)) return authenticateApiKey(c, token);
  const subject = await verifyAccessToken(c.var.config, token).catch(() => {
    throw unauthorized("The access token is invalid or expired");
  });
  if (subject.tenantId !== c.var.tenant.id) throw new ApiError(403, "tenant_mismatch", "The access token was issued for another tenant");
  const standing = await userStanding(c.var.services.db, subject.tenantId, subject.id);
  // An API key's identity never logs in, so a token naming one was not issued by a login.
  if (standing?.kind !== "person") throw userGone();
  if (standing.status === "disabled") throw userDisabled();
  return { ...subject, role: standing.role };
}

export const bearerToken = (c: Context<AppEnv>) => c.req.header("Authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];

export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  c.set("user", await authenticate(c, bearerToken(c)));
  await next();
});
