// PATCH /v1/files/{id} — renames a document, sets its tags, or its key/value metadata.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { cleanFilename } from "../../documents/filename.ts";
import { MAX_FILENAME_LENGTH } from "../../documents/limits.ts";
import {
  MAX_METADATA_BYTES,
  MAX_METADATA_KEYS,
  MAX_METADATA_VALUE_CHARS,
  MAX_TAG_CHARS,
  MAX_TAGS,
  MetadataSchema,
  TagsSchema,
} from "../../documents/metadata.ts";
import { DocumentSchema, presentDocument } from "../../documents/present.ts";
import { updateDocumentDetails } from "../../documents/repository.ts";
import type { AppEnv } from "../../env.ts";
import { requireUser } from "../../middleware/auth.ts";
import { apiRateLimit } from "../../middleware/rate-limit.ts";
import { requireWriteScope } from "../../middleware/roles.ts";
import { requireTenant } from "../../middleware/tenant.ts";
import { authErrors, bearerSecurity, errorResponse } from "../schemas.ts";
import { documentToChange, FileIdParams, found } from "./params.ts";

const UpdateFileBody = z
  .strictObject({
    filename: z
      .string()
      .trim()
      .min(1)
      .max(MAX_FILENAME_LENGTH)
      .optional()
      .openapi({
        description: `The new name, at most ${MAX_FILENAME_LENGTH} characters; cleaned as at upload (last path segment, no control or bidi characters)`,
      }),
    tags: TagsSchema.optional(),
    metadata: MetadataSchema.optional(),
  })
  .refine((b) => b.filename !== undefined || b.tags !== undefined || b.metadata !== undefined, "give at least one of filename, tags, metadata")
  .openapi("UpdateFileRequest");

export const route = createRoute({
  method: "patch",
  path: "/v1/files/{id}",
  operationId: "updateFile",
  tags: ["Files"],
  summary: "Rename a document, set its tags or metadata",
  description:
    "Changes only the fields given. `tags` and `metadata` replace the document's whole list or object (send `[]` or `{}` to clear " +
    "them); to change one metadata key, send the object read from GET /v1/files/{id} with that key changed. " +
    `Tags are what search, chat and GET /v1/files filter on. Limits: filename 1-${MAX_FILENAME_LENGTH} characters; at most ${MAX_TAGS} ` +
    `tags of 1-${MAX_TAG_CHARS} characters; at most ${MAX_METADATA_KEYS} metadata keys, values of at most ${MAX_METADATA_VALUE_CHARS} ` +
    `characters, ${MAX_METADATA_BYTES} bytes as JSON. Needs the right to change the ` +
    "document: your own, or one of a collection you may write to. `updated_at` is not changed: it tracks ingestion.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireWriteScope, apiRateLimit] as const,
  request: {
    params: FileIdParams,
    body: { required: true, content: { "application/json": { schema: UpdateFileBody } } },
  },
  responses: {
    200: { description: "The updated document", content: { "application/json": { schema: DocumentSchema } } },
    ...authErrors,
    400: errorResponse("A field is invalid or over its limit, an unknown field, or none given (validation_failed); tenant errors"),
    403: errorResponse(
      "Token of another tenant (tenant_mismatch), a read-only API key (insufficient_scope), or a collection's document you may only read (forbidden)",
    ),
    404: errorResponse("No such document you can read (file_not_found) or unknown tenant"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { db } = c.var.services;
  const { id } = c.req.valid("param");
  const { filename, tags, metadata } = c.req.valid("json");
  await documentToChange(db, c.var.user, id);
  const changes = { filename: filename === undefined ? undefined : cleanFilename(filename), tags, metadata };
  // Deleted between the check and the update: gone, as for any later request.
  const doc = found(await updateDocumentDetails(db, c.var.user, id, changes));
  return c.json(presentDocument(doc), 200);
};
