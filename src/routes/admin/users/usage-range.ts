// The ?from=&to= days of the admin usage routes: UTC calendar days, both included, the last 30 days by default.
import { z } from "@hono/zod-openapi";
import { ApiError } from "../../../lib/errors.ts";
import type { DayRange } from "../../../usage/report.ts";

export const DEFAULT_DAYS = 30;
export const MAX_DAYS = 366;
const DAY_MS = 86_400_000;

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

// Years outside this span are typos (20255), and some are not dates to Postgres at all.
const day = z
  .string()
  .regex(/^20\d\d-\d\d-\d\d$/, "must be a date YYYY-MM-DD between 2000 and 2099")
  .refine((d) => {
    const at = Date.parse(`${d}T00:00:00Z`);
    return !Number.isNaN(at) && dayOf(at) === d;
  }, "is not a calendar date")
  .optional();

export const UsageRangeQuery = z.object({
  from: day.openapi({ description: `First UTC day (YYYY-MM-DD); default: ${DEFAULT_DAYS - 1} days before \`to\``, example: "2025-01-01" }),
  to: day.openapi({ description: "Last UTC day, included (YYYY-MM-DD); default: today", example: "2025-01-31" }),
});

export const RANGE_RULES = `from and to are UTC days (YYYY-MM-DD), both included; from must not be after to, and the range is at most ${MAX_DAYS} days (400 validation_failed otherwise).`;

export function resolveRange(query: z.infer<typeof UsageRangeQuery>, now = Date.now()): DayRange {
  const to = query.to ?? dayOf(now);
  const from = query.from ?? dayOf(Date.parse(to) - (DEFAULT_DAYS - 1) * DAY_MS);
  const days = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;
  if (days < 1) throw new ApiError(400, "validation_failed", "from: must not be after to");
  if (days > MAX_DAYS) throw new ApiError(400, "validation_failed", `from, to: the range is at most ${MAX_DAYS} days`);
  return { from, to };
}
