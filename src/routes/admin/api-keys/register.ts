// Registers the routes for API keys (issue 11 §5).
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../env.ts";

export function registerApiKeyRoutes(_app: OpenAPIHono<AppEnv>) {}
