// GET /v1/usage — the caller's token usage over the last 24 hours and 7 days, and their daily budgets.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../env.ts";
import { requireUser } from "../middleware/auth.ts";
import { apiRateLimit } from "../middleware/rate-limit.ts";
import { requireTenant } from "../middleware/tenant.ts";
import { quotaState } from "../usage/quota.ts";
import { usageReport } from "../usage/report.ts";
import { authErrors, bearerSecurity, TenantHeader } from "./schemas.ts";

const Totals = z.object({
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
const Budget = z.object({ used: z.number().int(), limit: z.number().int().openapi({ description: "0 = unlimited" }) });

export const route = createRoute({
  method: "get",
  path: "/v1/usage",
  tags: ["Usage"],
  summary: "Your token usage and daily budgets",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, apiRateLimit] as const,
  request: { headers: TenantHeader },
  responses: {
    200: {
      description: "Usage per window (embeddings, chat and OCR), with a per-model breakdown",
      content: {
        "application/json": {
          schema: z
            .object({ last_24h: Window, last_7d: Window, daily_budget: z.object({ user: Budget, tenant: Budget }) })
            .openapi("Usage"),
        },
      },
    },
    ...authErrors,
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const owner = { tenantId: c.var.tenant.id, userId: c.var.user.id };
  const [report, quota] = await Promise.all([usageReport(c.var.services.db, owner), quotaState(c.var.services.db, c.var.config, owner)]);
  return c.json({ ...report, daily_budget: { user: quota.user, tenant: quota.tenant } }, 200);
};
