// GET /v1/admin/settings — the tenant's settings, with the deployment's defaults and choices.
import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../../env.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { readTenantState } from "../../../tenants/repository.ts";
import { adminErrors, bearerSecurity } from "../../schemas.ts";
import { SettingsDocumentSchema, settingsDocument } from "./schema.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/admin/settings",
  operationId: "getTenantSettings",
  tags: ["Admin: settings"],
  summary: "The tenant's settings",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  responses: {
    200: { description: "The settings", content: { "application/json": { schema: SettingsDocumentSchema } } },
    ...adminErrors,
  },
});

// Read afresh, not through the tenant cache: an admin sees what another isolate just stored.
export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const state = (await readTenantState(c.var.services.db, c.var.tenant.id)) ?? c.var.tenant;
  return c.json(settingsDocument(c, state), 200);
};
