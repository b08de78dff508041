// GET /v1/usage — the caller's own token usage over the last 24 hours and 7 days, their daily budget, and the
// share of the tenant's daily budget left (never the tenant's totals: they are other members' usage).
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../env.ts";
import { requireUser } from "../middleware/auth.ts";
import { apiRateLimit } from "../middleware/rate-limit.ts";
import { requireTenant } from "../middleware/tenant.ts";
import { quotaState } from "../usage/quota.ts";
import { budgetReport, usageReport } from "../usage/report.ts";
import { authErrors, bearerSecurity } from "./schemas.ts";

/** Requests and tokens, as every usage report counts them (also GET /v1/admin/usage). */
export const Totals = z.object({
  requests: z.number().int(),
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  embedding_tokens: z.number().int(),
  total_tokens: z.number().int(),
});
const Window = Totals.extend({
  by_model: z
    .record(z.string(), Totals)
    .openapi({ description: "Per model: embeddings, chat completions and OCR of scanned pages (OCR_MODEL) alike" }),
});
const UserBudget = z.object({
  used: z.number().int().openapi({ description: "Your tokens in the last 24 hours" }),
  limit: z.number().int().openapi({ description: "DAILY_TOKEN_BUDGET_PER_USER; 0 = unlimited" }),
});
const TenantBudget = z.object({
  remaining_fraction: z
    .number()
    .min(0)
    .max(1)
    .nullable()
    .openapi({ description: "Share of the tenant's rolling 24-hour budget left, rounded down to 0.01; null = unlimited", example: 0.93 }),
});

export const route = createRoute({
  method: "get",
  path: "/v1/usage",
  operationId: "getUsage",
  tags: ["Usage"],
  summary: "Your token usage and daily budgets",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, apiRateLimit] as const,
  responses: {
    200: {
      description: "Your usage per window (embeddings, chat and OCR), with a per-model breakdown, and the budgets left",
      content: {
        "application/json": {
          schema: z
            .object({ last_24h: Window, last_7d: Window, daily_budget: z.object({ user: UserBudget, tenant: TenantBudget }) })
            .openapi("Usage"),
        },
      },
    },
    ...authErrors,
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const owner = { tenantId: c.var.tenant.id, userId: c.var.user.id };
  const [report, quota] = await Promise.all([usageReport(c.var.services.db, owner), quotaState(c.var.services, c.var.config, owner)]);
  return c.json({ ...report, daily_budget: budgetReport(quota) }, 200);
};
