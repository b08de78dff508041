// Bearer-token authentication; the token must belong to the tenant named by X-Tenant-ID.
import { createMiddleware } from "hono/factory";
import { verifyAccessToken } from "../auth/tokens.ts";
import type { AppEnv } from "../env.ts";
import { ApiError } from "../lib/errors.ts";

const unauthorized = (message: string) =>
  new ApiError(401, "unauthorized", message, { "WWW-Authenticate": 'Bearer realm="docuchat"' });

export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("Authorization");
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  if (!match) throw unauthorized("An 'Authorization: Bearer <token>' header is required");
  const user = await verifyAccessToken(c.var.config, match[1]!).catch(() => {
    throw unauthorized("The access token is invalid or expired");
  });
  if (user.tenantId !== c.var.tenant.id)
    throw new ApiError(403, "tenant_mismatch", "The access token was issued for another tenant");
  c.set("user", user);
  await next();
});
