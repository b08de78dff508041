// GET /v1/admin/audit-log — the tenant's audit log (src/audit/log.ts), newest first, cursor-paginated.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import { auditLog } from "../../db/schema.ts";
import type { AppEnv } from "../../env.ts";
import { decodeCursor, pageQuery, paginate } from "../../lib/cursor.ts";
import { requireUser } from "../../middleware/auth.ts";
import { apiRateLimit } from "../../middleware/rate-limit.ts";
import { requireAdmin } from "../../middleware/roles.ts";
import { requireTenant } from "../../middleware/tenant.ts";
import { adminErrors, bearerSecurity } from "../schemas.ts";

const AuditEntrySchema = z
  .object({
    id: z.string().openapi({ description: "Increasing with time; a string, as it can exceed JavaScript's safe integers" }),
    actor: z
      .object({ id: z.uuid().nullable(), email: z.string().nullable() })
      .openapi({ description: "Who acted; both null for an operator's command (npm run tenant:create)" }),
    action: z.string().openapi({ example: "settings.update" }),
    target_type: z.string().openapi({ example: "tenant" }),
    target_id: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).openapi({ description: 'What changed, e.g. {"signup_policy":{"from":"open","to":"invite"}}' }),
    request_id: z.string().nullable(),
    created_at: z.iso.datetime(),
  })
  .openapi("AuditEntry");

export const route = createRoute({
  method: "get",
  path: "/v1/admin/audit-log",
  operationId: "listAuditLog",
  tags: ["Admin: audit log"],
  summary: "The tenant's audit log",
  description:
    "Every admin action of the tenant (who, what, to which object, when, under which request id), newest first. " +
    "limit: 1-100, default 20; `action` keeps only one action, e.g. `settings.update`.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: {
    query: pageQuery().extend({
      action: z
        .string()
        .max(64)
        .regex(/^[a-z_]+\.[a-z_]+$/, "must be an action such as settings.update")
        .optional(),
    }),
  },
  responses: {
    200: {
      description: "One page of entries",
      content: {
        "application/json": {
          schema: z.object({ entries: z.array(AuditEntrySchema), next_cursor: z.string().nullable() }).openapi("AuditLog"),
        },
      },
    },
    ...adminErrors,
  },
});

const AuditId = z.string().regex(/^\d{1,19}$/);

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { limit, cursor, action } = c.req.valid("query");
  const after = cursor ? decodeCursor(cursor, AuditId) : undefined;
  const conditions: SQL[] = [eq(auditLog.tenantId, c.var.tenant.id)];
  if (action) conditions.push(eq(auditLog.action, action));
  if (after) conditions.push(sql`(${auditLog.createdAt}, ${auditLog.id}) < (${after.at}::timestamptz, ${after.id}::bigint)`);
  const rows = await c.var.services.db
    .select()
    .from(auditLog)
    .where(and(...conditions))
    .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
    .limit(limit + 1);
  const { page, nextCursor } = paginate(rows, limit, (row) => ({ at: row.createdAt, id: String(row.id) }));
  return c.json(
    {
      entries: page.map((row) => ({
        id: String(row.id),
        actor: { id: row.actorUserId, email: row.actorEmail },
        action: row.action,
        target_type: row.targetType,
        target_id: row.targetId,
        details: row.details,
        request_id: row.requestId,
        created_at: row.createdAt.toISOString(),
      })),
      next_cursor: nextCursor,
    },
    200,
  );
};
