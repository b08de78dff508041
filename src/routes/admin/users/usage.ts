// GET /v1/admin/usage — the organisation's token usage over a range of days, per user and per model.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../../env.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { tenantUsageReport } from "../../../usage/report.ts";
import { adminErrors, bearerSecurity } from "../../schemas.ts";
import { Totals } from "../../usage.ts";
import { RANGE_RULES, resolveRange, UsageRangeQuery } from "./usage-range.ts";

const UserTotals = Totals.extend({
  id: z.uuid().nullable().openapi({ description: "Null: users since erased, together" }),
  email: z.string().nullable().openapi({ description: "Null for erased users" }),
  kind: z.enum(["person", "api_key"]).nullable().openapi({ description: "api_key: the identity an API key acts as" }),
});

export const route = createRoute({
  method: "get",
  path: "/v1/admin/usage",
  operationId: "getTenantUsage",
  tags: ["Admin: usage"],
  summary: "The organisation's usage per user and model",
  description: `Every kind of usage counts (embeddings, chat, OCR), by when it happened. ${RANGE_RULES}`,
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: { query: UsageRangeQuery },
  responses: {
    200: {
      description: "Totals, per user (most tokens first) and per model",
      content: {
        "application/json": {
          schema: z
            .object({
              from: z.string().openapi({ example: "2025-01-01" }),
              to: z.string().openapi({ example: "2025-01-30" }),
              totals: Totals,
              by_user: z.array(UserTotals),
              by_model: z.record(z.string(), Totals),
            })
            .openapi("TenantUsage"),
        },
      },
    },
    ...adminErrors,
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const range = resolveRange(c.req.valid("query"));
  return c.json({ ...range, ...(await tenantUsageReport(c.var.services.db, c.var.tenant.id, range)) }, 200);
};
