// Chat sessions and messages in Postgres, always scoped to tenant and owner.
import { and, asc, desc, eq, lt, or } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { chatSessions, messages } from "../db/schema.ts";
import type { Owner } from "../documents/repository.ts";
import type { Statement } from "../search/hybrid.ts";
import type { Citation } from "./protocol.ts";

export type SessionRow = typeof chatSessions.$inferSelect;
export type MessageRow = typeof messages.$inferSelect;

const ownedSession = (owner: Owner) => and(eq(chatSessions.tenantId, owner.tenantId), eq(chatSessions.userId, owner.userId));

export async function findSession(db: Db, owner: Owner, id: string): Promise<SessionRow | null> {
  const [row] = await db
    .select()
    .from(chatSessions)
    .where(and(ownedSession(owner), eq(chatSessions.id, id)));
  return row ?? null;
}

export async function listSessions(db: Db, owner: Owner, limit: number, after?: { updatedAt: string; id: string }) {
  const page = after
    ? or(
        lt(chatSessions.updatedAt, new Date(after.updatedAt)),
        and(eq(chatSessions.updatedAt, new Date(after.updatedAt)), lt(chatSessions.id, after.id)),
      )
    : undefined;
  return db
    .select()
    .from(chatSessions)
    .where(and(ownedSession(owner), page))
    .orderBy(desc(chatSessions.updatedAt), desc(chatSessions.id))
    .limit(limit);
}

export async function deleteSession(db: Db, owner: Owner, id: string): Promise<boolean> {
  const rows = await db
    .delete(chatSessions)
    .where(and(ownedSession(owner), eq(chatSessions.id, id)))
    .returning({ id: chatSessions.id });
  return rows.length > 0;
}

export async function listMessages(db: Db, owner: Owner, sessionId: string): Promise<MessageRow[]> {
  return db
    .select()
    .from(messages)
    .where(and(eq(messages.tenantId, owner.tenantId), eq(messages.userId, owner.userId), eq(messages.sessionId, sessionId)))
    .orderBy(asc(messages.createdAt), asc(messages.id));
}

/** Newest complete turns first, for the prompt's history. */
export async function recentTurns(db: Db, owner: Owner, sessionId: string, limit: number) {
  return db
    .select({ role: messages.role, content: messages.content })
    .from(messages)
    .where(
      and(
        eq(messages.tenantId, owner.tenantId),
        eq(messages.userId, owner.userId),
        eq(messages.sessionId, sessionId),
        eq(messages.status, "complete"),
      ),
    )
    .orderBy(desc(messages.createdAt), desc(messages.id))
    .limit(limit);
}

export interface NewMessage {
  role: "user" | "assistant";
  content: string;
  status?: "complete" | "incomplete";
  citations?: Citation[];
  model?: string;
  promptTokens?: number;
  completionTokens?: number;
}

/**
 * The statements that store a message and bump its session (title from the first question), for one transaction.
 * The message's session_id is read from the owner's own session row: in a session that is not theirs (or that is
 * gone) it is null, which the column refuses, so the transaction fails and stores nothing.
 */
function messageStatements(db: Db, owner: Owner, sessionId: string, id: string, message: NewMessage): Statement[] {
  const sql = db.$client;
  return [
    sql.query(
      `insert into messages (id, tenant_id, user_id, session_id, role, content, citations, status, model, prompt_tokens, completion_tokens)
       values ($1, $2, $3, (select id from chat_sessions where tenant_id = $2 and user_id = $3 and id = $4), $5, $6, $7::jsonb, $8, $9, $10, $11)`,
      [
        id,
        owner.tenantId,
        owner.userId,
        sessionId,
        message.role,
        message.content,
        JSON.stringify(message.citations ?? []),
        message.status ?? "complete",
        message.model ?? null,
        message.promptTokens ?? 0,
        message.completionTokens ?? 0,
      ],
    ),
    sql.query(
      `update chat_sessions set updated_at = now(), title = coalesce(title, left($4, 80))
       where tenant_id = $1 and user_id = $2 and id = $3`,
      [owner.tenantId, owner.userId, sessionId, message.role === "user" ? message.content : null],
    ),
  ];
}

/** Stores a message and bumps the session; fails when the session is not the owner's (or no longer exists). */
export async function appendMessage(db: Db, owner: Owner, sessionId: string, message: NewMessage): Promise<string> {
  const id = crypto.randomUUID();
  await db.$client.transaction(messageStatements(db, owner, sessionId, id, message));
  return id;
}

/**
 * The statements that store a question, for the caller's transaction (the chat runs them with its search). With
 * `newSession`, the session's row comes first: a socket's session is written with its first question (an upgrade
 * alone stores nothing). An id that somehow is another owner's is left alone, and the question's insert then fails.
 */
export function questionStatements(db: Db, owner: Owner, sessionId: string, content: string, newSession: boolean): Statement[] {
  const session = db.$client.query("insert into chat_sessions (id, tenant_id, user_id) values ($1, $2, $3) on conflict (id) do nothing", [
    sessionId,
    owner.tenantId,
    owner.userId,
  ]);
  const question = messageStatements(db, owner, sessionId, crypto.randomUUID(), { role: "user", content });
  return newSession ? [session, ...question] : question;
}
