// The data model. Every tenant-owned table carries tenant_id, and foreign keys include it,
// so a row can never point at another tenant's row even if application code had a bug.
import { sql } from "drizzle-orm";
import {
  bigserial,
  boolean,
  customType,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
  vector,
} from "drizzle-orm/pg-core";
import type { StoredTenantSettings } from "../tenants/settings-schema.ts";

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
  /** What the tenant's admins chose (src/tenants/settings-schema.ts); unset keys take the deployment's defaults. */
  settings: jsonb("settings").$type<StoredTenantSettings>().notNull().default({}),
  createdAt: createdAt(),
});

export const USER_ROLES = ["owner", "admin", "member"] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    role: text("role", { enum: USER_ROLES }).notNull().default("member"),
    /** invited: may log in under an invite-only policy, becomes active on first login; disabled: refused everywhere. */
    status: text("status", { enum: ["invited", "active", "disabled"] })
      .notNull()
      .default("active"),
    /** person: logs in by email; api_key: the identity an API key acts as (src/api-keys/), never logs in. */
    kind: text("kind", { enum: ["person", "api_key"] })
      .notNull()
      .default("person"),
    createdAt: createdAt(3),
    lastLoginAt: timestamp("last_login_at", { withTimezone: true }),
  },
  (t) => [
    unique("users_tenant_email_key").on(t.tenantId, t.email),
    unique("users_tenant_id_key").on(t.tenantId, t.id),
    index("users_tenant_created_idx").on(t.tenantId, t.createdAt.desc(), t.id.desc()),
  ],
);

// A tenant's shared knowledge base. visibility 'tenant': every user reads it; 'members': only collection_members.
// Admins and members with access 'write' add and delete its documents.
export const collections = pgTable(
  "collections",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    visibility: text("visibility", { enum: ["tenant", "members"] })
      .notNull()
      .default("tenant"),
    createdAt: createdAt(3),
    updatedAt: updatedAt(3),
  },
  (t) => [unique("collections_tenant_name_key").on(t.tenantId, t.name), unique("collections_tenant_id_key").on(t.tenantId, t.id)],
);

export const collectionMembers = pgTable(
  "collection_members",
  {
    tenantId: text("tenant_id").notNull(),
    collectionId: uuid("collection_id").notNull(),
    userId: uuid("user_id").notNull(),
    access: text("access", { enum: ["read", "write"] })
      .notNull()
      .default("read"),
    createdAt: createdAt(3),
  },
  (t) => [
    primaryKey({ columns: [t.collectionId, t.userId] }),
    foreignKey({ columns: [t.tenantId, t.collectionId], foreignColumns: [collections.tenantId, collections.id] }).onDelete("cascade"),
    foreignKey({ columns: [t.tenantId, t.userId], foreignColumns: [users.tenantId, users.id] }).onDelete("cascade"),
    index("collection_members_user_idx").on(t.tenantId, t.userId),
  ],
);

export const documents = pgTable(
  "documents",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: text("tenant_id").notNull(),
    /** The uploader; null once an erased user's collection documents outlive them. */
    userId: uuid("user_id"),
    /** Null: private to the uploader. Otherwise the collection the document belongs to. */
    collectionId: uuid("collection_id"),
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
    /**
     * First pages of the page ranges stored (src/ingest/store.ts): ranges run side by side, and the one that
     * completes this set finalises the document. Re-derived from the stored chunks when an ingestion (re)starts.
     */
    rangesDone: integer("ranges_done").array().notNull().default(sql`'{}'::int[]`),
    /** Pages read by OCR so far, against the per-document OCR page limit. */
    ocrPages: integer("ocr_pages").notNull().default(0),
    /** Pages that could not be read, or were not OCRed: [{ page, code, message }]. */
    warnings: jsonb("warnings").$type<Array<{ page: number; code: string; message: string }>>().notNull().default([]),
    /** Times the stall sweeper re-queued this ingestion (src/ingest/sweeper.ts); reset when it is retried. */
    ingestSweeps: integer("ingest_sweeps").notNull().default(0),
    tags: text("tags").array().notNull().default(sql`'{}'::text[]`),
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull().default({}),
    createdAt: createdAt(3),
    updatedAt: updatedAt(),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId, t.userId], foreignColumns: [users.tenantId, users.id] }).onDelete("cascade"),
    foreignKey({ columns: [t.tenantId, t.collectionId], foreignColumns: [collections.tenantId, collections.id] }).onDelete("cascade"),
    // The same bytes are stored once per private owner, and once per collection.
    uniqueIndex("documents_owner_sha256_key").on(t.tenantId, t.userId, t.sha256).where(sql`collection_id is null`),
    uniqueIndex("documents_collection_sha256_key").on(t.tenantId, t.collectionId, t.sha256).where(sql`collection_id is not null`),
    unique("documents_tenant_id_key").on(t.tenantId, t.id),
    index("documents_owner_created_idx").on(t.tenantId, t.userId, t.createdAt.desc(), t.id.desc()),
    index("documents_collection_created_idx").on(t.tenantId, t.collectionId, t.createdAt.desc(), t.id.desc()),
    index("documents_tenant_created_idx").on(t.tenantId, t.createdAt.desc(), t.id.desc()),
    index("documents_tags_idx").using("gin", t.tags),
    // What the stall sweeper scans: only the few documents still being ingested.
    index("documents_in_flight_idx").on(t.updatedAt).where(sql`status in ('queued', 'processing')`),
  ],
);

export const chunks = pgTable(
  "chunks",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: text("tenant_id").notNull(),
    /** Whose ingestion wrote it (the uploader, or who retried it; null once erased); the document decides visibility. */
    userId: uuid("user_id"),
    documentId: uuid("document_id").notNull(),
    ordinal: integer("ordinal").notNull(),
    text: text("text").notNull(),
    pageStart: integer("page_start").notNull(),
    pageEnd: integer("page_end").notNull(),
    tokenCount: integer("token_count").notNull(),
    embedding: vector("embedding", { dimensions: EMBEDDING_DIMENSIONS }).notNull(),
    // 'simple' keeps every word as-is: it works for Persian, which has no stemmer in PostgreSQL.
    tsv: tsvector("tsv").notNull().generatedAlwaysAs(sql`to_tsvector('simple', "text")`),
    /** The stemmed search form (src/search/keyword/search-form.ts); null until written or backfilled. */
    searchText: text("search_text"),
    /** The SEARCH_FORM_VERSION search_text was computed with: older or null ones are backfilled by the cron. */
    searchVersion: smallint("search_version"),
    searchTsv: tsvector("search_tsv").generatedAlwaysAs(sql`to_tsvector('english', "search_text")`),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId, t.documentId], foreignColumns: [documents.tenantId, documents.id] }).onDelete("cascade"),
    unique("chunks_document_ordinal_key").on(t.documentId, t.ordinal),
    index("chunks_owner_idx").on(t.tenantId, t.userId, t.documentId),
    index("chunks_tenant_document_idx").on(t.tenantId, t.documentId),
    index("chunks_embedding_hnsw_idx").using("hnsw", t.embedding.op("vector_cosine_ops")),
    index("chunks_tsv_idx").using("gin", t.tsv),
    index("chunks_search_tsv_idx").using("gin", t.searchTsv),
    index("chunks_search_version_idx").on(t.searchVersion),
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

// API keys for server-to-server calls. Only the SHA-256 of the secret is stored; each key acts as its own users
// row (kind 'api_key'), so its documents, sessions, rate limits and budgets are its own.
export const apiKeys = pgTable(
  "api_keys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: text("tenant_id").notNull(),
    /** The identity the key acts as. */
    userId: uuid("user_id").notNull(),
    name: text("name").notNull(),
    /** The first characters of the key, shown to recognise it ("dc_live_AbCd1234"). */
    prefix: text("prefix").notNull(),
    hash: text("hash").notNull(),
    scope: text("scope", { enum: ["read", "write"] }).notNull(),
    /** Null: every collection the key may read; otherwise only these (and no private documents). */
    collectionIds: uuid("collection_ids").array(),
    createdBy: uuid("created_by"),
    expiresAt: timestamp("expires_at", { withTimezone: true, precision: 3 }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true, precision: 3 }),
    revokedAt: timestamp("revoked_at", { withTimezone: true, precision: 3 }),
    createdAt: createdAt(3),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId, t.userId], foreignColumns: [users.tenantId, users.id] }).onDelete("cascade"),
    uniqueIndex("api_keys_hash_key").on(t.hash),
    index("api_keys_tenant_created_idx").on(t.tenantId, t.createdAt.desc(), t.id.desc()),
  ],
);

export const WEBHOOK_EVENTS = ["document.ready", "document.failed", "document.deleted"] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    description: text("description").notNull().default(""),
    events: text("events", { enum: WEBHOOK_EVENTS }).array().notNull(),
    /** "whsec_<base64>" (Standard Webhooks); kept to sign deliveries, shown once at creation. */
    secret: text("secret").notNull(),
    enabled: boolean("enabled").notNull().default(true),
    createdAt: createdAt(3),
    updatedAt: updatedAt(3),
  },
  (t) => [unique("webhook_endpoints_tenant_id_key").on(t.tenantId, t.id), index("webhook_endpoints_tenant_idx").on(t.tenantId)],
);

export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: text("tenant_id").notNull(),
    endpointId: uuid("endpoint_id").notNull(),
    /** The webhook-id header: the same for every attempt of one event to one endpoint. */
    eventId: text("event_id").notNull(),
    eventType: text("event_type").notNull(),
    payload: jsonb("payload").notNull(),
    status: text("status", { enum: ["pending", "delivered", "failed"] })
      .notNull()
      .default("pending"),
    attempts: integer("attempts").notNull().default(0),
    responseStatus: integer("response_status"),
    lastError: text("last_error"),
    createdAt: createdAt(3),
    updatedAt: updatedAt(3),
    deliveredAt: timestamp("delivered_at", { withTimezone: true, precision: 3 }),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId, t.endpointId], foreignColumns: [webhookEndpoints.tenantId, webhookEndpoints.id] }).onDelete("cascade"),
    index("webhook_deliveries_endpoint_created_idx").on(t.tenantId, t.endpointId, t.createdAt.desc(), t.id.desc()),
  ],
);

// Every admin action: who did what to which object, when, under which request id.
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    actorUserId: uuid("actor_user_id"),
    actorEmail: text("actor_email"),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id"),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
    requestId: text("request_id"),
    createdAt: createdAt(3),
  },
  (t) => [index("audit_log_tenant_created_idx").on(t.tenantId, t.createdAt.desc(), t.id.desc())],
);
