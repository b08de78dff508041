// GET /v1/admin/collections/{id}/members — the users listed in a collection, with their access.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { MemberSchema, presentMember } from "../../../collections/present.ts";
import { findCollection, listMembers } from "../../../collections/repository.ts";
import type { AppEnv } from "../../../env.ts";
import { decodeCursor, pageQuery, paginate } from "../../../lib/cursor.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { adminErrors, bearerSecurity, errorResponse } from "../../schemas.ts";
import { CollectionIdParams, found } from "../params.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/admin/collections/{id}/members",
  operationId: "adminListCollectionMembers",
  tags: ["Admin: collections"],
  summary: "List a collection's members",
  description: "Newest first. `limit` 1-100, default 20.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: { params: CollectionIdParams, query: pageQuery() },
  responses: {
    200: {
      description: "One page of members",
      content: {
        "application/json": {
          schema: z.object({ members: z.array(MemberSchema), next_cursor: z.string().nullable() }).openapi("CollectionMemberList"),
        },
      },
    },
    ...adminErrors,
    404: errorResponse("No such collection in this tenant (collection_not_found), or unknown tenant"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { db } = c.var.services;
  const { id } = c.req.valid("param");
  const { limit, cursor } = c.req.valid("query");
  found(await findCollection(db, c.var.user, id));
  const rows = await listMembers(db, c.var.tenant.id, id, limit + 1, cursor ? decodeCursor(cursor) : undefined);
  const { page, nextCursor } = paginate(rows, limit, (m) => ({ at: m.createdAt, id: m.userId }));
  return c.json({ members: page.map(presentMember), next_cursor: nextCursor }, 200);
};
