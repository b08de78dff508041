// The data model. Every tenant-owned table carries tenant_id, and foreign keys include it,
// so a row can never point at another tenant's row even if application code had a bug.
import { sql } from "drizzle-orm";
import {
  bigserial,
  customType,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uuid,
  vector,
} from "drizzle-orm/pg-core";

export const EMBEDDING_DIMENSIONS = 1536;

const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });

// Columns that page a list carry milliseconds, as the cursor does (src/lib/cursor.ts): with Postgres' microseconds,
// rows created within one millisecond of a page's last row would be skipped.
const createdAt = (precision?: 3) => timestamp("created_at", { withTimezone: true, precision }).notNull().defaultNow();
const updatedAt = (precision?: 3) => timestamp("updated_at", { withTimezone: true, precision }).notNull().defaultNow();

export const tenants = pgTable("tenants", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  status: text("status", { enum: ["active", "disabled"] })
    .notNull()
    .default("active"),
  createdAt: createdAt(),
});

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    createdAt: createdAt(),
    lastLoginAt: timestamp("last_login_at", { withTimezone: true }),
  },
  (t) => [unique("users_tenant_email_key").on(t.tenantId, t.email), unique("users_tenant_id_key").on(t.tenantId, t.id)],
);

export const documents = pgTable(
  "documents",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: text("tenant_id").notNull(),
    userId: uuid("user_id").notNull(),
    filename: text("filename").notNull(),
    sizeBytes: integer("size_bytes").notNull(),
    sha256: text("sha256").notNull(),
    r2Key: text("r2_key").notNull(),
    status: text("status", { enum: ["queued", "processing", "ready", "failed"] })
      .notNull()
      .default("queued"),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    pagesTotal: integer("pages_total"),
    pagesDone: integer("pages_done").notNull().default(0),
    chunkCount: integer("chunk_count"),
    tokenCount: integer("token_count"),
    /** Pages read by OCR so far, against the per-document OCR page limit. */
    ocrPages: integer("ocr_pages").notNull().default(0),
    /** Pages that could not be read, or were not OCRed: [{ page, code, message }]. */
    warnings: jsonb("warnings").$type<Array<{ page: number; code: string; message: string }>>().notNull().default([]),
    /** Times the stall sweeper re-queued this ingestion (src/ingest/sweeper.ts); reset when it is retried. */
    ingestSweeps: integer("ingest_sweeps").notNull().default(0),
    createdAt: createdAt(3),
    updatedAt: updatedAt(),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId, t.userId], foreignColumns: [users.tenantId, users.id] }).onDelete("cascade"),
    unique("documents_owner_sha256_key").on(t.tenantId, t.userId, t.sha256),
    unique("documents_tenant_id_key").on(t.tenantId, t.id),
    index("documents_owner_created_idx").on(t.tenantId, t.userId, t.createdAt.desc(), t.id.desc()),
    // What the stall sweeper scans: only the few documents still being ingested.
    index("documents_in_flight_idx").on(t.updatedAt).where(sql`status in ('queued', 'processing')`),
  ],
);

export const chunks = pgTable(
  "chunks",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: text("tenant_id").notNull(),
    userId: uuid("user_id").notNull(),
    documentId: uuid("document_id").notNull(),
    ordinal: integer("ordinal").notNull(),
    text: text("text").notNull(),
    pageStart: integer("page_start").notNull(),
    pageEnd: integer("page_end").notNull(),
    tokenCount: integer("token_count").notNull(),
    embedding: vector("embedding", { dimensions: EMBEDDING_DIMENSIONS }).notNull(),
    // 'simple' keeps every word as-is: it works for Persian, which has no stemmer in PostgreSQL.
    tsv: tsvector("tsv").notNull().generatedAlwaysAs(sql`to_tsvector('simple', "text")`),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId, t.documentId], foreignColumns: [documents.tenantId, documents.id] }).onDelete("cascade"),
    unique("chunks_document_ordinal_key").on(t.documentId, t.ordinal),
    index("chunks_owner_idx").on(t.tenantId, t.userId, t.documentId),
    index("chunks_embedding_hnsw_idx").using("hnsw", t.embedding.op("vector_cosine_ops")),
    index("chunks_tsv_idx").using("gin", t.tsv),
  ],
);

// The normalised text of every page that had any, and how it was read: what search and chat cite.
export const documentPages = pgTable(
  "document_pages",
  {
    tenantId: text("tenant_id").notNull(),
    documentId: uuid("document_id").notNull(),
    page: integer("page").notNull(),
    text: text("text").notNull(),
    source: text("source", { enum: ["text_layer", "ocr"] }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.documentId, t.page] }),
    foreignKey({ columns: [t.tenantId, t.documentId], foreignColumns: [documents.tenantId, documents.id] }).onDelete("cascade"),
  ],
);

export const chatSessions = pgTable(
  "chat_sessions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: text("tenant_id").notNull(),
    userId: uuid("user_id").notNull(),
    title: text("title"),
    createdAt: createdAt(),
    updatedAt: updatedAt(3),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId, t.userId], foreignColumns: [users.tenantId, users.id] }).onDelete("cascade"),
    unique("chat_sessions_tenant_id_key").on(t.tenantId, t.id),
    index("chat_sessions_owner_updated_idx").on(t.tenantId, t.userId, t.updatedAt.desc()),
  ],
);

export const messages = pgTable(
  "messages",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: text("tenant_id").notNull(),
    userId: uuid("user_id").notNull(),
    sessionId: uuid("session_id").notNull(),
    role: text("role", { enum: ["user", "assistant"] }).notNull(),
    content: text("content").notNull(),
    citations: jsonb("citations").notNull().default([]),
    status: text("status", { enum: ["complete", "incomplete"] })
      .notNull()
      .default("complete"),
    model: text("model"),
    promptTokens: integer("prompt_tokens").notNull().default(0),
    completionTokens: integer("completion_tokens").notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId, t.sessionId], foreignColumns: [chatSessions.tenantId, chatSessions.id] }).onDelete("cascade"),
    index("messages_session_created_idx").on(t.tenantId, t.sessionId, t.createdAt),
  ],
);

export const usageEvents = pgTable(
  "usage_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    userId: uuid("user_id"),
    kind: text("kind", { enum: ["embedding", "chat", "ocr"] }).notNull(),
    model: text("model").notNull(),
    promptTokens: integer("prompt_tokens").notNull().default(0),
    completionTokens: integer("completion_tokens").notNull().default(0),
    embeddingTokens: integer("embedding_tokens").notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [
    index("usage_events_tenant_created_idx").on(t.tenantId, t.createdAt),
    index("usage_events_user_created_idx").on(t.tenantId, t.userId, t.createdAt),
  ],
);
