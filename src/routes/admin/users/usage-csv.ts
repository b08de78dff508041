// GET /v1/admin/usage.csv — the same usage as GET /v1/admin/usage, one row per day, user and model, for a spreadsheet.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../../env.ts";
import { toCsv } from "../../../lib/csv.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { tenantUsageRows } from "../../../usage/report.ts";
import { adminErrors, bearerSecurity } from "../../schemas.ts";
import { RANGE_RULES, resolveRange, UsageRangeQuery } from "./usage-range.ts";

const HEADER = ["date", "user_id", "email", "kind", "model", "requests", "prompt_tokens", "completion_tokens", "embedding_tokens", "total_tokens"];

export const route = createRoute({
  method: "get",
  path: "/v1/admin/usage.csv",
  operationId: "exportTenantUsage",
  tags: ["Admin: usage"],
  summary: "The organisation's usage as CSV",
  description:
    `One row per UTC day, user and model, after a header row: ${HEADER.join(", ")}. Erased users have empty user_id, email ` +
    `and kind. RFC 4180, and a cell starting with = + - or @ is prefixed with ' so that no spreadsheet runs it. ${RANGE_RULES}`,
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: { query: UsageRangeQuery },
  responses: {
    200: { description: "The CSV file, as an attachment", content: { "text/csv": { schema: z.string() } } },
    ...adminErrors,
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const range = resolveRange(c.req.valid("query"));
  const rows = await tenantUsageRows(c.var.services.db, c.var.tenant.id, range, true);
  const csv = toCsv(
    HEADER,
    rows.map((r) => [
      r.day,
      r.user_id,
      r.email,
      r.kind,
      r.model,
      r.requests,
      r.prompt,
      r.completion,
      r.embedding,
      r.prompt + r.completion + r.embedding,
    ]),
  );
  return c.body(csv, 200, {
    "Content-Type": "text/csv; charset=utf-8",
    "Content-Disposition": `attachment; filename="usage-${c.var.tenant.id}-${range.from}-${range.to}.csv"`,
  });
};
