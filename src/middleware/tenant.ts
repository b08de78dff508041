// Resolves X-Tenant-ID to an active tenant (cached per isolate: see src/auth/principal.ts).
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { activeTenant } from "../auth/principal.ts";
import type { AppEnv, Tenant } from "../env.ts";
import { ApiError } from "../lib/errors.ts";
import { TENANT_ID_PATTERN } from "../lib/tenant-id.ts";

export const TENANT_HEADER = "X-Tenant-ID";

/** The active tenant named `id`, or the error every tenant-scoped route answers with. */
export async function resolveTenant(c: Context<AppEnv>, id: string | undefined): Promise<Tenant> {
  if (!id) throw new ApiError(400, "tenant_required", `The ${TENANT_HEADER} header is required`);
  if (!TENANT_ID_PATTERN.test(id))
    throw new ApiError(400, "invalid_tenant_id", `${TENANT_HEADER} must be 1-63 lowercase letters, digits, '-' or '_'`);
  const tenant = await activeTenant(c.var.services.db, id);
  // Unknown and disabled tenants look the same from outside.
  if (!tenant) throw new ApiError(404, "tenant_not_found", `Tenant '${id}' does not exist or is disabled`);
  return tenant;
}

export const requireTenant = createMiddleware<AppEnv>(async (c, next) => {
  c.set("tenant", await resolveTenant(c, c.req.header(TENANT_HEADER)));
  await next();
});
