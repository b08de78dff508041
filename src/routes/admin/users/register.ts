// Registers the routes for users, usage and documents for admins (issue 11 §2, §4).
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../env.ts";
import * as deleteUser from "./delete.ts";
import * as listDocuments from "./documents.ts";
import * as inviteUser from "./invite.ts";
import * as listUsers from "./list.ts";
import * as updateUser from "./update.ts";
import * as usage from "./usage.ts";
import * as usageCsv from "./usage-csv.ts";

export function registerUserAdminRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(listUsers.route, listUsers.handler);
  app.openapi(inviteUser.route, inviteUser.handler);
  app.openapi(updateUser.route, updateUser.handler);
  app.openapi(deleteUser.route, deleteUser.handler);
  app.openapi(usage.route, usage.handler);
  app.openapi(usageCsv.route, usageCsv.handler);
  app.openapi(listDocuments.route, listDocuments.handler);
}
