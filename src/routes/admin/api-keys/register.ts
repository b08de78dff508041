// Registers the routes for API keys (issue 11 §5).
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../env.ts";
import * as createKey from "./create.ts";
import * as listKeys from "./list.ts";
import * as revokeKey from "./revoke.ts";

export function registerApiKeyRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(createKey.route, createKey.handler);
  app.openapi(listKeys.route, listKeys.handler);
  app.openapi(revokeKey.route, revokeKey.handler);
}
