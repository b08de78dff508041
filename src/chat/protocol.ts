// The chat WebSocket protocol: JSON text frames, both directions as zod schemas. The server validates client
// frames with them, and GET /asyncapi.json publishes them (as JSON Schema), so the docs cannot drift from the code.
import { z } from "zod";
import { MAX_TAGS, TagFilterSchema } from "../documents/metadata.ts";

export const MAX_FRAME_BYTES = 16 * 1024;
export const MAX_QUESTION_CHARS = 4000;

export const MessageFrame = z
  .object({
    type: z.literal("message"),
    // Postgres text cannot hold NUL, so a question with one could never be stored.
    // /\S/ rather than min(1) after the trim: the same rule, and one the published JSON Schema can state.
    content: z
      .string()
      .trim()
      .regex(/\S/, "must not be blank")
      .max(MAX_QUESTION_CHARS)
      .refine((c) => !c.includes("\0"), "must not contain NUL characters")
      .meta({ description: `The question: not blank, at most ${MAX_QUESTION_CHARS} characters once trimmed, no NUL characters` }),
    session_id: z.uuid().optional().meta({ description: "Must be the socket's own session when given" }),
    file_ids: z
      .array(z.uuid())
      .min(1)
      .max(100)
      .optional()
      .meta({ description: "Answer only from these files (and the collections in collection_ids; default: every document you can read)" }),
    collection_ids: z
      .array(z.uuid())
      .min(1)
      .max(100)
      .optional()
      .meta({ description: "Answer only from these collections' documents (and the files in file_ids)" }),
    tags: TagFilterSchema.optional().meta({
      description: `Answer only from documents carrying at least one of these tags (at most ${MAX_TAGS}; matched in their normalised form)`,
    }),
    model: z.string().min(1).max(100).optional().meta({ description: "One of the tenant's allowed models (default: the configured chat model)" }),
  })
  .meta({
    title: "Ask a question",
    description: "Asks a question in the socket's session; answered with citations, deltas and done (or an error).",
    examples: [{ type: "message", content: "In which year did Knuth start writing TeX?" }],
  });

export const ClientFrame = z.discriminatedUnion("type", [
  MessageFrame,
  z.object({ type: z.literal("cancel") }).meta({
    title: "Cancel the answer",
    description: "Stops the answer being written; it ends with done (status cancelled). Ignored when none is.",
    examples: [{ type: "cancel" }],
  }),
  z.object({ type: z.literal("ping") }).meta({ title: "Ping", description: "Answered with pong.", examples: [{ type: "ping" }] }),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

/** Why the server hung up (WebSocket close codes, after the error frame saying so). */
export const CloseCode = {
  /** The socket's access token expired: reconnect with a fresh one. */
  tokenExpired: 4001,
  /** The tenant was disabled or the user removed. */
  unauthorized: 4003,
  /** The session was deleted. */
  sessionDeleted: 4004,
} as const;

const count = () => z.number().int().nonnegative();

export const Citation = z.object({
  n: z.number().int().positive().meta({ description: "The number the answer cites as [n]" }),
  file_id: z.uuid(),
  filename: z.string(),
  page_start: z.number().int().positive(),
  page_end: z.number().int().positive(),
  chunk_id: z.uuid(),
  score: z.number(),
  collection: z
    .object({ id: z.uuid(), name: z.string() })
    .nullable()
    .meta({ description: "The collection the document belongs to; null for a private document" }),
  tags: z.array(z.string()),
  metadata: z.record(z.string(), z.string()),
});
export type Citation = z.infer<typeof Citation>;

export const Usage = z.object({ prompt_tokens: count(), completion_tokens: count(), total_tokens: count() });
export type Usage = z.infer<typeof Usage>;

export const ErrorCode = z.enum([
  "invalid_json",
  "invalid_message",
  "message_too_large",
  "session_mismatch",
  "busy",
  "rate_limited",
  "token_expired",
  "unauthorized",
  "model_not_allowed",
  "quota_exceeded",
  "upstream_rate_limited",
  "upstream_error",
  "upstream_timeout",
  "upstream_interrupted",
  "upstream_rejected",
  "database_unavailable",
  "internal_error",
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

const EXAMPLE_ID = "0b6f3c1e-8d2a-4c5b-9e7f-1a2b3c4d5e6f";

export const ServerFrame = z.discriminatedUnion("type", [
  z.object({ type: z.literal("session"), session_id: z.uuid() }).meta({
    title: "Session",
    description: "Sent first on every socket: the session it belongs to (pass it as ?session_id= to reconnect).",
    examples: [{ type: "session", session_id: EXAMPLE_ID }],
  }),
  z
    .object({
      type: z.literal("citations"),
      query: z.string().meta({
        description: "What was searched: the question, or for a follow-up its standalone rewrite (the stored question stays as asked)",
      }),
      citations: z.array(Citation),
    })
    .meta({
      title: "Citations",
      description: "The sources of the answer, best first, before its first delta; empty when nothing relevant was found.",
      examples: [
        {
          type: "citations",
          query: "In which year did Knuth start writing TeX?",
          citations: [
            {
              n: 1,
              file_id: EXAMPLE_ID,
              filename: "lshort-en.pdf",
              page_start: 15,
              page_end: 15,
              chunk_id: EXAMPLE_ID,
              score: 0.83,
              collection: null,
              tags: ["manuals"],
              metadata: { edition: "6.4" },
            },
          ],
        },
      ],
    }),
  z.object({ type: z.literal("delta"), content: z.string() }).meta({
    title: "Answer text",
    description: "The next piece of the answer; concatenate them. Citation markers look like ' [1]'.",
    examples: [{ type: "delta", content: "Knuth started writing TeX in 1977 [1]" }],
  }),
  z.object({ type: z.literal("done"), message_id: z.uuid(), status: z.enum(["complete", "cancelled"]), usage: Usage }).meta({
    title: "Answer finished",
    description: "The answer is stored (as message_id); a cancelled one keeps the text streamed so far.",
    examples: [{ type: "done", message_id: EXAMPLE_ID, status: "complete", usage: { prompt_tokens: 812, completion_tokens: 64, total_tokens: 876 } }],
  }),
  z
    .object({
      type: z.literal("error"),
      code: ErrorCode,
      message: z.string(),
      retryable: z.boolean().meta({ description: "Whether sending the same frame again later can succeed" }),
      retry_after: count().optional().meta({ description: "Seconds to wait first (rate_limited)" }),
    })
    .meta({
      title: "Error",
      description: "The frame or answer failed; the socket stays open unless a close follows (token_expired, unauthorized).",
      examples: [{ type: "error", code: "rate_limited", message: "Too many requests", retryable: true, retry_after: 12 }],
    }),
  z.object({ type: z.literal("pong") }).meta({ title: "Pong", description: "The answer to ping.", examples: [{ type: "pong" }] }),
]);
export type ServerFrame = z.infer<typeof ServerFrame>;
