// Bearer-token authentication; the token must belong to the tenant named by X-Tenant-ID and to a user who still exists.
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { userExists } from "../auth/principal.ts";
import { verifyAccessToken } from "../auth/tokens.ts";
import type { AppEnv, AuthUser } from "../env.ts";
import { ApiError } from "../lib/errors.ts";

const unauthorized = (message: string) => new ApiError(401, "unauthorized", message, { "WWW-Authenticate": 'Bearer realm="docuchat"' });

/** A token outlives its user when the user is deleted after it was issued. */
export const userGone = () => unauthorized("The user behind this token no longer exists");

/**
 * Verifies a token for the current tenant: 401 when missing, invalid or its user is gone, 403 when issued for
 * another tenant. The user check is cached per isolate (src/auth/principal.ts), so a removal takes effect within 30 s.
 */
export async function authenticate(c: Context<AppEnv>, token: string | undefined): Promise<AuthUser> {
  if (!token) throw unauthorized("An 'Authorization: Bearer <token>' header is required");
  const user = await verifyAccessToken(c.var.config, token).catch(() => {
    throw unauthorized("The access token is invalid or expired");
  });
  if (user.tenantId !== c.var.tenant.id) throw new ApiError(403, "tenant_mismatch", "The access token was issued for another tenant");
  if (!(await userExists(c.var.services.db, user.tenantId, user.id))) throw userGone();
  return user;
}

export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  c.set("user", await authenticate(c, c.req.header("Authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1]));
  await next();
});
