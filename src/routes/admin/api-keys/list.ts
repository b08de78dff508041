// GET /v1/admin/api-keys — the tenant's API keys, newest first, revoked ones included; never a secret.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { listApiKeys } from "../../../api-keys/repository.ts";
import type { AppEnv } from "../../../env.ts";
import { decodeCursor, pageQuery, paginate } from "../../../lib/cursor.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { adminErrors, bearerSecurity } from "../../schemas.ts";
import { ApiKeySchema, presentApiKey } from "./present.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/admin/api-keys",
  operationId: "listApiKeys",
  tags: ["Admin: API keys"],
  summary: "List the tenant's API keys",
  description: "Newest first, revoked keys included (revoked_at set). limit: 1-100, default 20.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: {
    query: pageQuery(),
  },
  responses: {
    200: {
      description: "One page of keys",
      content: {
        "application/json": {
          schema: z.object({ api_keys: z.array(ApiKeySchema), next_cursor: z.string().nullable() }).openapi("ApiKeyList"),
        },
      },
    },
    ...adminErrors,
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const after = cursor ? decodeCursor(cursor) : undefined;
  const rows = await listApiKeys(c.var.services.db, c.var.tenant.id, limit + 1, after);
  const { page, nextCursor } = paginate(rows, limit, (key) => ({ at: key.createdAt, id: key.id }));
  return c.json({ api_keys: page.map(presentApiKey), next_cursor: nextCursor }, 200);
};
