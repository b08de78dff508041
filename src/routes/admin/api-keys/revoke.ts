// DELETE /v1/admin/api-keys/{id} — revokes a key: refused at once in this isolate, everywhere within 30 s.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { forgetApiKey } from "../../../api-keys/authenticate.ts";
import { revokeApiKey } from "../../../api-keys/repository.ts";
import { audit } from "../../../audit/log.ts";
import { forgetUser } from "../../../auth/principal.ts";
import type { AppEnv } from "../../../env.ts";
import { ApiError } from "../../../lib/errors.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { adminErrors, bearerSecurity, errorResponse } from "../../schemas.ts";

export const route = createRoute({
  method: "delete",
  path: "/v1/admin/api-keys/{id}",
  operationId: "revokeApiKey",
  tags: ["Admin: API keys"],
  summary: "Revoke an API key",
  description:
    "The key is refused from its next request (within 30 s on every server), and its open chat sockets stop at their next message. " +
    "The key's documents and chat sessions stay. Revoking a revoked key changes nothing and answers 204 again, so a retry is safe.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: { params: z.object({ id: z.uuid().openapi({ param: { name: "id", in: "path" } }) }) },
  responses: {
    204: { description: "Revoked" },
    ...adminErrors,
    404: errorResponse("No such key in this tenant (api_key_not_found), or unknown tenant"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const tenantId = c.var.tenant.id;
  const outcome = await revokeApiKey(c.var.services.db, tenantId, c.req.valid("param").id);
  if (!outcome) throw new ApiError(404, "api_key_not_found", "No such API key");
  const { row, revokedNow } = outcome;
  forgetApiKey(row.hash);
  forgetUser(tenantId, row.userId);
  if (revokedNow)
    await audit(c, { action: "api_key.revoke", targetType: "api_key", targetId: row.id, details: { name: row.name, prefix: row.prefix } });
  return c.body(null, 204);
};
