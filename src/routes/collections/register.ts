// Registers the routes for collections and their members (issue 11 §3).
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../env.ts";

export function registerCollectionRoutes(_app: OpenAPIHono<AppEnv>) {}
