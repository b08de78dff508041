// The chat WebSocket protocol: JSON text frames. Client frames are validated with zod; server frames are typed.
import { z } from "zod";

export const MAX_FRAME_BYTES = 16 * 1024;
export const MAX_QUESTION_CHARS = 4000;

export const ClientFrame = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("message"),
    // Postgres text cannot hold NUL, so a question with one could never be stored.
    content: z.string().trim().min(1).max(MAX_QUESTION_CHARS).refine((c) => !c.includes("\0"), "must not contain NUL characters"),
    session_id: z.uuid().optional(),
    file_ids: z.array(z.uuid()).min(1).max(100).optional(),
    model: z.string().min(1).max(100).optional(),
  }),
  z.object({ type: z.literal("cancel") }),
  z.object({ type: z.literal("ping") }),
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

export interface Citation {
  n: number;
  file_id: string;
  filename: string;
  page_start: number;
  page_end: number;
  chunk_id: string;
  score: number;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export type ErrorCode =
  | "invalid_json"
  | "invalid_message"
  | "message_too_large"
  | "session_mismatch"
  | "busy"
  | "rate_limited"
  | "token_expired"
  | "unauthorized"
  | "model_not_allowed"
  | "quota_exceeded"
  | "upstream_rate_limited"
  | "upstream_error"
  | "upstream_timeout"
  | "upstream_interrupted"
  | "upstream_rejected"
  | "database_unavailable"
  | "internal_error";

export type ServerFrame =
  | { type: "session"; session_id: string }
  | { type: "citations"; citations: Citation[] }
  | { type: "delta"; content: string }
  | { type: "done"; message_id: string; status: "complete" | "cancelled"; usage: Usage }
  | { type: "error"; code: ErrorCode; message: string; retryable: boolean; retry_after?: number }
  | { type: "pong" };
