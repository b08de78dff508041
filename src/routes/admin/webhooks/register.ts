// Registers the routes for webhook endpoints and their deliveries (issue 11 §6).
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../env.ts";

export function registerWebhookRoutes(_app: OpenAPIHono<AppEnv>) {}
