// GET /v1/admin/collections — every collection of the tenant.

import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../../env.ts";
import { pageQuery } from "../../../lib/cursor.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { adminErrors, bearerSecurity } from "../../schemas.ts";
import { CollectionList } from "../list.ts";
import { collectionPage } from "../params.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/admin/collections",
  operationId: "adminListCollections",
  tags: ["Admin: collections"],
  summary: "List every collection of the tenant",
  description: "Newest first, members-only ones included, with their document and member counts. `limit` 1-100, default 20.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: { query: pageQuery() },
  responses: {
    200: { description: "One page of collections", content: { "application/json": { schema: CollectionList } } },
    ...adminErrors,
  },
});

// An admin reads every collection of the tenant (src/documents/access.ts), so this is the members' list as an admin sees it.
export const handler: RouteHandler<typeof route, AppEnv> = async (c) => c.json(await collectionPage(c, c.req.valid("query")), 200);
