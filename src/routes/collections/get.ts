// GET /v1/collections/{id} — one collection the caller may read.
import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { CollectionSchema, presentCollection } from "../../collections/present.ts";
import { findCollection } from "../../collections/repository.ts";
import type { AppEnv } from "../../env.ts";
import { requireUser } from "../../middleware/auth.ts";
import { apiRateLimit } from "../../middleware/rate-limit.ts";
import { requireTenant } from "../../middleware/tenant.ts";
import { authErrors, bearerSecurity, errorResponse } from "../schemas.ts";
import { CollectionIdParams, found } from "./params.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/collections/{id}",
  operationId: "getCollection",
  tags: ["Collections"],
  summary: "One collection you can read",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, apiRateLimit] as const,
  request: { params: CollectionIdParams },
  responses: {
    200: { description: "The collection, with your access", content: { "application/json": { schema: CollectionSchema } } },
    ...authErrors,
    404: errorResponse("No such collection you can read (collection_not_found), or unknown tenant"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const collection = found(await findCollection(c.var.services.db, c.var.user, c.req.valid("param").id));
  return c.json(presentCollection(collection), 200);
};
