// Refuses work that would call the model once the user's or tenant's daily token budget is spent.
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";
import { ApiError } from "../lib/errors.ts";
import { quotaMessage, quotaState } from "../usage/quota.ts";

export const requireQuota = createMiddleware<AppEnv>(async (c, next) => {
  const state = await quotaState(c.var.services, c.var.config, { tenantId: c.var.tenant.id, userId: c.var.user.id });
  if (state.exceeded) throw new ApiError(429, "quota_exceeded", quotaMessage(state), { "Retry-After": "3600" });
  await next();
});
