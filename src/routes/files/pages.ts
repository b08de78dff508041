// GET /v1/files/{id}/pages — the stored text of a window of pages (what search and chat cite), with its source.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { MAX_PAGES } from "../../documents/limits.ts";
import { PageWarningSchema, presentWarnings } from "../../documents/present.ts";
import { findDocument, listPages } from "../../documents/repository.ts";
import type { AppEnv } from "../../env.ts";
import { ApiError } from "../../lib/errors.ts";
import { requireUser } from "../../middleware/auth.ts";
import { apiRateLimit } from "../../middleware/rate-limit.ts";
import { requireTenant } from "../../middleware/tenant.ts";
import { authErrors, bearerSecurity, errorResponse } from "../schemas.ts";
import { FileIdParams, found } from "./params.ts";

/** Pages per call: a window of 50 pages of text stays well under a few hundred KB. */
export const MAX_PAGES_PER_REQUEST = 50;

const PageSchema = z
  .object({
    page: z.number().int().openapi({ description: "1-based page number" }),
    text: z.string().openapi({ description: "The page's normalised text, as indexed" }),
    source: z.enum(["text_layer", "ocr"]).openapi({ description: "How the text was read: the PDF's text layer, or OCR of the page image" }),
  })
  .openapi("Page");

export const route = createRoute({
  method: "get",
  path: "/v1/files/{id}/pages",
  operationId: "getFilePages",
  tags: ["Files"],
  summary: "The text of a range of pages",
  description:
    `Pages from..to (1-based, inclusive; at most ${MAX_PAGES_PER_REQUEST} per call). Pages without text are absent from ` +
    "`pages`; `warnings` says why for those that could not be read. While the document is still being ingested, " +
    "the pages stored so far are returned.",
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, apiRateLimit] as const,
  request: {
    params: FileIdParams,
    query: z.object({
      from: z.coerce.number().int().min(1).max(MAX_PAGES).default(1).openapi({ description: "First page (1-based)", example: 1 }),
      to: z.coerce
        .number()
        .int()
        .min(1)
        .optional()
        .openapi({
          description: `Last page, inclusive (default from + ${MAX_PAGES_PER_REQUEST - 1}); at least from, at most from + ${MAX_PAGES_PER_REQUEST - 1}`,
          example: 50,
        }),
    }),
  },
  responses: {
    200: {
      description: "The window's pages that have text, and the warnings of its pages",
      content: {
        "application/json": {
          schema: z
            .object({
              file_id: z.uuid(),
              from: z.number().int(),
              to: z.number().int(),
              pages_total: z.number().int().nullable().openapi({ description: "null until ingestion has opened the PDF" }),
              pages: z.array(PageSchema),
              warnings: z.array(PageWarningSchema),
              next_from: z.number().int().nullable().openapi({ description: "from of the next window, or null after the last page" }),
            })
            .openapi("PageList"),
        },
      },
    },
    ...authErrors,
    400: errorResponse("Invalid id, from or to, to before from, or more than 50 pages (validation_failed); tenant errors"),
    404: errorResponse("No such document for this user (file_not_found) or unknown tenant"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { id } = c.req.valid("param");
  const { from, to = from + MAX_PAGES_PER_REQUEST - 1 } = c.req.valid("query");
  if (to < from) throw new ApiError(400, "validation_failed", `to (${to}) must not be before from (${from})`);
  if (to - from + 1 > MAX_PAGES_PER_REQUEST)
    throw new ApiError(400, "validation_failed", `At most ${MAX_PAGES_PER_REQUEST} pages per request (from ${from} to ${to} is ${to - from + 1})`);

  const { user } = c.var;
  // Both queries check that the caller may read the document, so they can run together.
  const [doc, pages] = await Promise.all([findDocument(c.var.services.db, user, id), listPages(c.var.services.db, user, id, from, to)]);
  const { pagesTotal, warnings } = found(doc);
  return c.json(
    {
      file_id: id,
      from,
      to,
      pages_total: pagesTotal,
      pages,
      warnings: presentWarnings(warnings).filter((w) => w.page >= from && w.page <= to),
      next_from: pagesTotal != null && to < pagesTotal ? to + 1 : null,
    },
    200,
  );
};
