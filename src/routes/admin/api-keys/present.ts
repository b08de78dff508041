// The public JSON shape of an API key: everything but the secret and its hash, which no route ever returns.
import { z } from "@hono/zod-openapi";
import type { ApiKeyRow } from "../../../api-keys/repository.ts";

export const ApiKeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string().openapi({ description: "The key's first characters, to recognise it", example: "dc_live_4fGh7KqZ" }),
    scope: z.enum(["read", "write"]).openapi({ description: "read: may not upload, delete or retry documents" }),
    collection_ids: z
      .array(z.uuid())
      .nullable()
      .openapi({ description: "Null: every collection of the tenant and the key's own documents; otherwise only these collections" }),
    expires_at: z.iso.datetime().nullable().openapi({ description: "Null: never expires" }),
    last_used_at: z.iso.datetime().nullable().openapi({ description: "Recorded at most once a minute" }),
    revoked_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
    created_by: z.uuid().nullable().openapi({ description: "The admin who created it" }),
  })
  .openapi("ApiKey");

const iso = (d: Date | null) => d?.toISOString() ?? null;

export const presentApiKey = (row: ApiKeyRow): z.infer<typeof ApiKeySchema> => ({
  id: row.id,
  name: row.name,
  prefix: row.prefix,
  scope: row.scope,
  collection_ids: row.collectionIds,
  expires_at: iso(row.expiresAt),
  last_used_at: iso(row.lastUsedAt),
  revoked_at: iso(row.revokedAt),
  created_at: row.createdAt.toISOString(),
  created_by: row.createdBy,
});
