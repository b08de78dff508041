// The public JSON shapes of a collection and of its members.
import { z } from "@hono/zod-openapi";
import type { CollectionView, MemberView } from "./repository.ts";

export const NAME_MAX = 100;
export const DESCRIPTION_MAX = 1000;

export const CollectionSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    visibility: z
      .enum(["tenant", "members"])
      .openapi({ description: "tenant: every user of the tenant reads it; members: only its listed members (and admins)" }),
    access: z.enum(["read", "write"]).openapi({ description: "What you may do: read its documents, or also add and delete them" }),
    document_count: z.number().int(),
    member_count: z
      .number()
      .int()
      .openapi({ description: "Users listed as members (admins and, for visibility tenant, everyone read it without being listed)" }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi("Collection");

export const MemberSchema = z
  .object({
    user_id: z.uuid(),
    email: z.string(),
    role: z.enum(["owner", "admin", "member"]),
    access: z.enum(["read", "write"]),
    created_at: z.iso.datetime(),
  })
  .openapi("CollectionMember");

export function presentCollection(c: CollectionView): z.infer<typeof CollectionSchema> {
  return {
    id: c.id,
    name: c.name,
    description: c.description,
    visibility: c.visibility,
    access: c.access,
    document_count: c.documentCount,
    member_count: c.memberCount,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}

export function presentMember(m: MemberView): z.infer<typeof MemberSchema> {
  return { user_id: m.userId, email: m.email, role: m.role, access: m.access, created_at: m.createdAt.toISOString() };
}
