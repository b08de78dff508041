// GET /v1/collections — the collections the caller may read, with what they may do in each.

import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { CollectionSchema } from "../../collections/present.ts";
import type { AppEnv } from "../../env.ts";
import { pageQuery } from "../../lib/cursor.ts";
import { requireUser } from "../../middleware/auth.ts";
import { apiRateLimit } from "../../middleware/rate-limit.ts";
import { requireTenant } from "../../middleware/tenant.ts";
import { authErrors, bearerSecurity } from "../schemas.ts";
import { collectionPage } from "./params.ts";

export const CollectionList = z.object({ collections: z.array(CollectionSchema), next_cursor: z.string().nullable() }).openapi("CollectionList");

export const route = createRoute({
  method: "get",
  path: "/v1/collections",
  operationId: "listCollections",
  tags: ["Collections"],
  summary: "List the collections you can read",
  description:
    "The tenant's collections with visibility `tenant`, and the `members` ones you are listed in (admins: all), newest first, " +
    "each with your `access`: `read`, or `write` (you may add and delete its documents). `limit` 1-100, default 20.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, apiRateLimit] as const,
  request: { query: pageQuery() },
  responses: {
    200: { description: "One page of collections", content: { "application/json": { schema: CollectionList } } },
    ...authErrors,
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => c.json(await collectionPage(c, c.req.valid("query")), 200);
