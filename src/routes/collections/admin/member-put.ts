// PUT /v1/admin/collections/{id}/members/{user_id} — lists a user in a collection, or changes their access.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { audit } from "../../../audit/log.ts";
import { MemberSchema, presentMember } from "../../../collections/present.ts";
import { findCollection, findPerson, putMember } from "../../../collections/repository.ts";
import type { AppEnv } from "../../../env.ts";
import { ApiError } from "../../../lib/errors.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { adminErrors, bearerSecurity, errorResponse } from "../../schemas.ts";
import { found, MemberParams } from "../params.ts";

const PutMemberBody = z
  .object({
    access: z.enum(["read", "write"]).openapi({ description: "read: search, chat and download its documents; write: also add and delete them" }),
  })
  .strict()
  .openapi("PutCollectionMember");

export const route = createRoute({
  method: "put",
  path: "/v1/admin/collections/{id}/members/{user_id}",
  operationId: "adminPutCollectionMember",
  tags: ["Admin: collections"],
  summary: "Add a member to a collection, or change their access",
  description:
    "The user must be a person of the tenant (not an API key's identity). A member reads a `members`-only collection; " +
    "`write` access lets them add documents to any collection they read, and delete them. Takes effect on the next request. " +
    "Written to the audit log as `collection.member.put` with the access before and after.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: { params: MemberParams, body: { required: true, content: { "application/json": { schema: PutMemberBody } } } },
  responses: {
    200: { description: "The member's access was changed", content: { "application/json": { schema: MemberSchema } } },
    201: { description: "The user was added", content: { "application/json": { schema: MemberSchema } } },
    ...adminErrors,
    404: errorResponse("No such collection (collection_not_found) or person (user_not_found) in this tenant, or unknown tenant"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { db } = c.var.services;
  const tenantId = c.var.tenant.id;
  const { id, user_id: userId } = c.req.valid("param");
  const { access } = c.req.valid("json");
  found(await findCollection(db, c.var.user, id));
  const person = await findPerson(db, tenantId, userId);
  if (!person) throw new ApiError(404, "user_not_found", "No such user in this tenant");
  const { previous, createdAt } = await putMember(db, tenantId, id, userId, access);
  await audit(c, {
    action: "collection.member.put",
    targetType: "collection",
    targetId: id,
    details: { user_id: userId, email: person.email, access: { from: previous, to: access } },
  });
  return c.json(presentMember({ userId, ...person, access, createdAt }), previous ? 200 : 201);
};
