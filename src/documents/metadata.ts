// Tags and key/value metadata users put on their documents: what is accepted, and the one form a tag is stored and
// searched in, so that a tag typed on an Arabic keyboard, or in capitals, finds the same documents.
import { z } from "@hono/zod-openapi";
import { normalizeQuery } from "../text/normalize.ts";

export const MAX_TAGS = 20;
export const MAX_TAG_CHARS = 64;
export const MAX_METADATA_KEYS = 32;
export const MAX_METADATA_VALUE_CHARS = 1024;
export const MAX_METADATA_BYTES = 8 * 1024;
const METADATA_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The stored form of a tag: the text normalisation search uses (NFKC, Arabic yeh and kaf as Persian ones, ZWNJ
 * tidied, invisible characters dropped, one line), then lower case.
 */
export const normalizeTag = (tag: string) => normalizeQuery(tag).toLowerCase();

// overwrite rather than transform: the schemas stay representable as JSON Schema (with their examples) for the
// OpenAPI and AsyncAPI documents, and the bounds below hold for the normalised tag.
/** One tag as typed; parses to its normalised form. */
const Tag = z
  .string()
  .overwrite(normalizeTag)
  .min(1, "must not be blank")
  .max(MAX_TAG_CHARS, `must be at most ${MAX_TAG_CHARS} characters once normalised`);

const withoutDuplicates = (tags: string[]) => [...new Set(tags)];

const tagRules = `at most ${MAX_TAGS}, each 1-${MAX_TAG_CHARS} characters; stored normalised (Unicode NFKC, Arabic ي/ك as Persian ی/ک, lower case) without duplicates`;

/** The tags of a document (PATCH /v1/files/{id}): an empty list removes them all. */
export const TagsSchema = z
  .array(Tag)
  .max(MAX_TAGS)
  .overwrite(withoutDuplicates)
  .openapi({ description: `The document's tags, replacing the ones it had: ${tagRules}` });

/** Tags to filter by (search, chat): normalised as stored ones are, so the same words match. */
export const TagFilterSchema = z.array(Tag).min(1).max(MAX_TAGS).overwrite(withoutDuplicates);

const MetadataKey = z.string().regex(METADATA_KEY, "must be 1-64 letters, digits, '_', '.' or '-'");

const MetadataValue = z
  .string()
  .max(MAX_METADATA_VALUE_CHARS)
  // Postgres cannot store NUL in text, nor jsonb strings.
  .refine((v) => !v.includes("\0"), "must not contain NUL characters");

const utf8Bytes = (s: string) => new TextEncoder().encode(s).byteLength;

/** A document's free key/value metadata (strings only), replaced as a whole by PATCH /v1/files/{id}. */
export const MetadataSchema = z
  .preprocess(
    (value, ctx) => {
      // zod drops a "__proto__" key from a record without a word (a plain object cannot hold it): refuse it instead.
      if (value && typeof value === "object" && Object.hasOwn(value, "__proto__")) ctx.addIssue({ code: "custom", message: "__proto__ is reserved" });
      return value;
    },
    z.record(MetadataKey, MetadataValue),
  )
  .refine((m) => Object.keys(m).length <= MAX_METADATA_KEYS, `must have at most ${MAX_METADATA_KEYS} keys`)
  .refine((m) => utf8Bytes(JSON.stringify(m)) <= MAX_METADATA_BYTES, `must be at most ${MAX_METADATA_BYTES} bytes as JSON`)
  .openapi({
    description:
      `Free key/value pairs, replacing the ones the document had ({} removes them all): at most ${MAX_METADATA_KEYS} keys matching ` +
      `${METADATA_KEY.source}, string values of at most ${MAX_METADATA_VALUE_CHARS} characters without NUL, at most ` +
      `${MAX_METADATA_BYTES} bytes serialised as JSON`,
  });
