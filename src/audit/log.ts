// The audit log: every admin action, written before the action's response, so an action that answered has its
// entry (src/routes/admin/audit-log.ts reads them). Actions are "<object>.<verb>", e.g. "user.update".
import type { Context } from "hono";
import { auditLog } from "../db/schema.ts";
import type { AppEnv } from "../env.ts";

export interface AuditEntry {
  action: string;
  targetType: string;
  targetId?: string | null;
  /** What changed, e.g. { role: { from: "member", to: "admin" } }; never a secret. */
  details?: Record<string, unknown>;
}

export async function audit(c: Context<AppEnv>, entry: AuditEntry): Promise<void> {
  const { user, tenant, requestId } = c.var;
  await c.var.services.db.insert(auditLog).values({
    tenantId: tenant.id,
    actorUserId: user.id,
    actorEmail: user.email,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId ?? null,
    details: entry.details ?? {},
    requestId,
  });
}
