// GET /v1/admin/users — the people of the tenant, newest first, filtered by email, role and status, cursor-paginated.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { USER_ROLES } from "../../../db/schema.ts";
import type { AppEnv } from "../../../env.ts";
import { decodeCursor, pageQuery, paginate } from "../../../lib/cursor.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { listPeople } from "../../../users/admin.ts";
import { adminErrors, bearerSecurity } from "../../schemas.ts";
import { AdminUserSchema, presentPerson } from "./present.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/admin/users",
  operationId: "listUsers",
  tags: ["Admin: users"],
  summary: "List the organisation's users",
  description:
    "People only: the identities API keys act as are listed with their keys. `email` (at most 254 characters) matches any part of " +
    "the address, case-insensitively, with % and _ taken literally. limit: 1-100, default 20.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: {
    query: pageQuery().extend({
      email: z.string().trim().min(1).max(254).optional(),
      role: z.enum(USER_ROLES).optional(),
      status: z.enum(["invited", "active", "disabled"]).optional(),
    }),
  },
  responses: {
    200: {
      description: "One page of users",
      content: {
        "application/json": {
          schema: z.object({ users: z.array(AdminUserSchema), next_cursor: z.string().nullable() }).openapi("AdminUserList"),
        },
      },
    },
    ...adminErrors,
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { limit, cursor, ...filter } = c.req.valid("query");
  const rows = await listPeople(c.var.services.db, c.var.tenant.id, filter, limit + 1, cursor ? decodeCursor(cursor) : undefined);
  const { page, nextCursor } = paginate(rows, limit, (row) => ({ at: row.createdAt, id: row.id }));
  return c.json({ users: page.map(presentPerson), next_cursor: nextCursor }, 200);
};
