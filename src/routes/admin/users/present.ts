// What the admin user routes share: the JSON shape of a person, the {id} parameter, and how their refusals answer.
import { z } from "@hono/zod-openapi";
import { USER_ROLES } from "../../../db/schema.ts";
import { ApiError } from "../../../lib/errors.ts";
import type { ChangeResult, PersonRow } from "../../../users/admin.ts";
import { errorResponse } from "../../schemas.ts";

export const AdminUserSchema = z
  .object({
    id: z.uuid(),
    email: z.email(),
    role: z.enum(USER_ROLES),
    status: z.enum(["invited", "active", "disabled"]).openapi({ description: "invited: has not logged in yet; disabled: refused everywhere" }),
    created_at: z.iso.datetime(),
    last_login_at: z.iso.datetime().nullable(),
  })
  .openapi("AdminUser");

export const presentPerson = (row: PersonRow): z.infer<typeof AdminUserSchema> => ({
  id: row.id,
  email: row.email,
  role: row.role,
  status: row.status,
  created_at: row.createdAt.toISOString(),
  last_login_at: row.lastLoginAt?.toISOString() ?? null,
});

export const UserIdParams = z.object({ id: z.uuid().openapi({ param: { name: "id", in: "path" } }) });

/** The admin routes that change a person can also be refused by the owner rules. */
export const ownerRulesRefused = errorResponse(
  "Token of another tenant (tenant_mismatch), not an admin logged in by email (forbidden), or an admin (not an owner) acting on an owner or on the owner role (forbidden)",
);

export const userNotFound = () => new ApiError(404, "user_not_found", "No such user in this organisation");

/** Why the owner rules refused a change, as the API says it. */
export function changeRefused(problem: Extract<ChangeResult, { ok: false }>["problem"]): ApiError {
  if (problem === "user_not_found") return userNotFound();
  if (problem === "owner_only") return new ApiError(403, "forbidden", "Only an owner may change an owner or grant the owner role");
  return new ApiError(409, "last_owner", "The organisation must keep at least one active owner");
}
