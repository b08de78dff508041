// The chat socket's JSON frames and close codes, as src/chat/protocol.ts defines them on the server
// (test/e2e/client.test.ts fails to type-check if the two drift apart).

export type ClientFrame =
  | {
      type: "message";
      content: string;
      session_id?: string;
      file_ids?: string[];
      collection_ids?: string[];
      tags?: string[];
      model?: string;
    }
  | { type: "cancel" }
  | { type: "ping" };

export interface Citation {
  n: number;
  file_id: string;
  filename: string;
  page_start: number;
  page_end: number;
  chunk_id: string;
  score: number;
  /** Null for a private document. */
  collection: { id: string; name: string } | null;
  tags: string[];
  metadata: Record<string, string>;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export type ChatErrorCode =
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
  /** `query`: what was searched (for a follow-up, its standalone rewrite). */
  | { type: "citations"; query: string; citations: Citation[] }
  | { type: "delta"; content: string }
  | { type: "done"; message_id: string; status: "complete" | "cancelled"; usage: Usage }
  | { type: "error"; code: ChatErrorCode; message: string; retryable: boolean; retry_after?: number }
  | { type: "pong" };

/** What one answer streams: its sources, then text, then how it ended. */
export type AnswerFrame = Extract<ServerFrame, { type: "citations" | "delta" | "done" }>;

/** Close codes after which reconnecting cannot help (the server sends an error frame first). */
export const CloseCode = {
  /** The access token expired: log in again, then open a new chat. */
  tokenExpired: 4001,
  /** The tenant was disabled or the user removed. */
  unauthorized: 4003,
  /** The session was deleted. */
  sessionDeleted: 4004,
} as const;
