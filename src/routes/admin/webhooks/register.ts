// Registers the routes for webhook endpoints and their deliveries (issue 11 §6).
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../env.ts";
import * as createWebhook from "./create.ts";
import * as deleteWebhook from "./delete.ts";
import * as listDeliveries from "./deliveries.ts";
import * as getWebhook from "./get.ts";
import * as listWebhooks from "./list.ts";
import * as updateWebhook from "./update.ts";

export function registerWebhookRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(createWebhook.route, createWebhook.handler);
  app.openapi(listWebhooks.route, listWebhooks.handler);
  app.openapi(getWebhook.route, getWebhook.handler);
  app.openapi(updateWebhook.route, updateWebhook.handler);
  app.openapi(deleteWebhook.route, deleteWebhook.handler);
  app.openapi(listDeliveries.route, listDeliveries.handler);
}
