// Registers the routes for tenant settings and the audit log (issue 11 §1, §4).
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../env.ts";
import * as auditLog from "../audit-log.ts";
import * as getSettings from "./get.ts";
import * as updateSettings from "./update.ts";

export function registerSettingsRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(getSettings.route, getSettings.handler);
  app.openapi(updateSettings.route, updateSettings.handler);
  app.openapi(auditLog.route, auditLog.handler);
}
