// Schemas shared by several routes' OpenAPI descriptions.
import { z } from "@hono/zod-openapi";
import { USER_ROLES } from "../db/schema.ts";

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "validation_failed" }),
      message: z.string(),
      request_id: z.string(),
    }),
  })
  .openapi("Error");

export const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorSchema } },
});

export const UserSchema = z
  .object({
    id: z.uuid(),
    email: z.email(),
    tenant_id: z.string(),
    role: z.enum(USER_ROLES).openapi({ description: "owner and admin may use the /v1/admin routes; member uses the product" }),
  })
  .openapi("User");

/** Error responses every tenant-scoped route can give. */
export const tenantErrors = {
  400: errorResponse("Invalid request (validation_failed, tenant_required, invalid_tenant_id)"),
  404: errorResponse("Unknown or disabled tenant (tenant_not_found)"),
  429: errorResponse("Rate limited (rate_limited); see Retry-After"),
  503: errorResponse("The database did not answer in time (database_unavailable); see Retry-After"),
} as const;

/** Error responses every authenticated route can give, on top of the tenant ones. */
export const authErrors = {
  ...tenantErrors,
  401: errorResponse("Missing, invalid or expired token (unauthorized)"),
  403: errorResponse("Token issued for another tenant (tenant_mismatch)"),
} as const;

/** Error responses of the /v1/admin routes (requireAdmin), on top of the authenticated ones. */
export const adminErrors = {
  ...authErrors,
  403: errorResponse("Not an owner or admin logged in by email (forbidden), or token of another tenant (tenant_mismatch)"),
} as const;

/**
 * The X-Tenant-ID header as a security scheme (registered in docs.ts): declared once, so a generated client sets it
 * once for every call. The runtime reads it in src/middleware/tenant.ts.
 */
export const TENANT_SCHEME = "tenant";

/** Routes that act in a tenant without a user (logging in). */
export const tenantSecurity = [{ [TENANT_SCHEME]: [] }];
/** Routes that act as a user of a tenant: both the tenant header and the bearer token. */
export const bearerSecurity = [{ [TENANT_SCHEME]: [], bearerAuth: [] }];
/** Routes anyone may call. */
export const publicSecurity = [];
