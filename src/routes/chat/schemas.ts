// Shapes shared by the chat history routes.
import { z } from "@hono/zod-openapi";
import type { MessageRow, SessionRow } from "../../chat/repository.ts";

export const SessionIdParams = z.object({ id: z.uuid().openapi({ param: { name: "id", in: "path" } }) });

export const SessionSchema = z
  .object({ id: z.uuid(), title: z.string().nullable(), created_at: z.iso.datetime(), updated_at: z.iso.datetime() })
  .openapi("ChatSession");

export const CitationSchema = z
  .object({
    n: z.number().int(),
    file_id: z.uuid(),
    filename: z.string(),
    page_start: z.number().int(),
    page_end: z.number().int(),
    chunk_id: z.uuid(),
    score: z.number(),
  })
  .openapi("Citation");

export const MessageSchema = z
  .object({
    id: z.uuid(),
    role: z.enum(["user", "assistant"]),
    content: z.string(),
    status: z.enum(["complete", "incomplete"]),
    citations: z.array(CitationSchema),
    model: z.string().nullable(),
    usage: z.object({ prompt_tokens: z.number().int(), completion_tokens: z.number().int() }),
    created_at: z.iso.datetime(),
  })
  .openapi("ChatMessage");

export const presentSession = (s: SessionRow) => ({
  id: s.id,
  title: s.title,
  created_at: s.createdAt.toISOString(),
  updated_at: s.updatedAt.toISOString(),
});

export const presentMessage = (m: MessageRow) => ({
  id: m.id,
  role: m.role,
  content: m.content,
  status: m.status,
  citations: m.citations as z.infer<typeof CitationSchema>[],
  model: m.model,
  usage: { prompt_tokens: m.promptTokens, completion_tokens: m.completionTokens },
  created_at: m.createdAt.toISOString(),
});
