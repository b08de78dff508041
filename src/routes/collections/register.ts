// Registers the routes for collections and their members (issue 11 §3).
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../env.ts";
import * as adminCreate from "./admin/create.ts";
import * as adminDelete from "./admin/delete.ts";
import * as adminList from "./admin/list.ts";
import * as memberDelete from "./admin/member-delete.ts";
import * as memberPut from "./admin/member-put.ts";
import * as membersList from "./admin/members-list.ts";
import * as adminUpdate from "./admin/update.ts";
import * as getCollection from "./get.ts";
import * as listCollections from "./list.ts";

export function registerCollectionRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(listCollections.route, listCollections.handler);
  app.openapi(getCollection.route, getCollection.handler);
  app.openapi(adminList.route, adminList.handler);
  app.openapi(adminCreate.route, adminCreate.handler);
  app.openapi(adminUpdate.route, adminUpdate.handler);
  app.openapi(adminDelete.route, adminDelete.handler);
  app.openapi(membersList.route, membersList.handler);
  app.openapi(memberPut.route, memberPut.handler);
  app.openapi(memberDelete.route, memberDelete.handler);
}
