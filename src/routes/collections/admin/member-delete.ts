// DELETE /v1/admin/collections/{id}/members/{user_id} — takes a user off a collection's member list.
import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { audit } from "../../../audit/log.ts";
import { deleteMember, findCollection } from "../../../collections/repository.ts";
import type { AppEnv } from "../../../env.ts";
import { ApiError } from "../../../lib/errors.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { adminErrors, bearerSecurity, errorResponse } from "../../schemas.ts";
import { found, MemberParams } from "../params.ts";

export const route = createRoute({
  method: "delete",
  path: "/v1/admin/collections/{id}/members/{user_id}",
  operationId: "adminDeleteCollectionMember",
  tags: ["Admin: collections"],
  summary: "Remove a member from a collection",
  description:
    "From the next request the user no longer reads a `members`-only collection, nor adds documents to any; the documents they " +
    "added stay in the collection. Written to the audit log as `collection.member.delete`.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: { params: MemberParams },
  responses: {
    204: { description: "Removed" },
    ...adminErrors,
    404: errorResponse("No such collection in this tenant (collection_not_found), or the user is not its member (member_not_found)"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { db } = c.var.services;
  const { id, user_id: userId } = c.req.valid("param");
  found(await findCollection(db, c.var.user, id));
  const access = await deleteMember(db, c.var.tenant.id, id, userId);
  if (!access) throw new ApiError(404, "member_not_found", "The user is not a member of this collection");
  await audit(c, { action: "collection.member.delete", targetType: "collection", targetId: id, details: { user_id: userId, access } });
  return c.body(null, 204);
};
