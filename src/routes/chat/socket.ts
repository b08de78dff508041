// GET /ws/chat — authenticates the WebSocket upgrade, then hands the socket to the session's Durable Object.
// Browsers cannot set headers on a WebSocket, so the token may come in ?token= or in Sec-WebSocket-Protocol
// ("docuchat, bearer.<token>"), and the tenant in ?tenant= or X-Tenant-ID.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { findSession } from "../../chat/repository.ts";
import { IDENTITY_HEADER, type SocketIdentity } from "../../chat/session-object.ts";
import type { AppEnv } from "../../env.ts";
import { ApiError } from "../../lib/errors.ts";
import { isOriginAllowed } from "../../lib/origins.ts";
import { authenticate } from "../../middleware/auth.ts";
import { limitScope, limitUser } from "../../middleware/rate-limit.ts";
import { resolveTenant, TENANT_HEADER } from "../../middleware/tenant.ts";
import { effectiveSettings } from "../../tenants/settings.ts";
import { errorResponse, publicSecurity } from "../schemas.ts";

const SUBPROTOCOL = "docuchat";
const TOKEN_PROTOCOL_PREFIX = "bearer.";

export const route = createRoute({
  method: "get",
  path: "/ws/chat",
  operationId: "openChatSocket",
  tags: ["Chat"],
  security: publicSecurity,
  summary: "Chat over a WebSocket",
  description: `Upgrade to a WebSocket; frames are JSON text, specified machine-readably as AsyncAPI 3.0 at [\`/asyncapi.json\`](/asyncapi.json).

Client → server: \`{"type":"message","content","session_id"?,"file_ids"?,"model"?}\`, \`{"type":"cancel"}\`, \`{"type":"ping"}\`.

Server → client: \`{"type":"session","session_id"}\` (on connect), \`{"type":"citations","citations":[{"n","file_id","filename","page_start","page_end","chunk_id","score"}]}\`,
\`{"type":"delta","content"}\` (many), \`{"type":"done","message_id","status":"complete"|"cancelled","usage":{"prompt_tokens","completion_tokens","total_tokens"}}\`,
\`{"type":"error","code","message","retryable","retry_after"?}\`, \`{"type":"pong"}\`.

Omit \`session_id\` to start a new session; pass it to reconnect to one of yours. Every socket of a session receives its answers.
A new session is stored with its first message: until then only its owner's other sockets can join it, while one of theirs is open.

The upgrade and every \`message\` frame count against the user's API rate limit (RATE_LIMIT_API_PER_USER): a refused upgrade
answers 429, a refused message gets \`{"type":"error","code":"rate_limited","retry_after":<seconds>}\` and is not answered.
Before each answer the socket's token must not have expired and its tenant and user must still be active (checked at most
30 s stale): otherwise an error frame, then the socket is closed with 4001 (\`token_expired\`) or 4003 (\`unauthorized\`).
A deleted session's sockets are closed with 4004.`,
  request: {
    query: z.object({
      token: z.string().optional().openapi({ description: "Access token, when it cannot go in Sec-WebSocket-Protocol" }),
      tenant: z.string().optional().openapi({ description: "Tenant, when X-Tenant-ID cannot be sent" }),
      session_id: z.uuid().optional().openapi({ description: "Reconnect to this session" }),
    }),
  },
  responses: {
    101: { description: "Switching protocols" },
    400: errorResponse("No tenant (tenant_required)"),
    401: errorResponse("Missing, invalid or expired token (unauthorized)"),
    403: errorResponse("Origin not allowed (origin_not_allowed), or token of another tenant (tenant_mismatch)"),
    404: errorResponse("Unknown tenant or session (tenant_not_found, session_not_found)"),
    426: errorResponse("Not a WebSocket upgrade (upgrade_required)"),
    429: errorResponse("Over the user's rate limit (rate_limited)"),
    503: errorResponse("The database did not answer in time (database_unavailable); see Retry-After"),
  },
});

const offeredProtocols = (header: string | undefined) => header?.split(",").map((p) => p.trim()) ?? [];

function tokenFromProtocols(protocols: string[]): string | undefined {
  return protocols.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX))?.slice(TOKEN_PROTOCOL_PREFIX.length);
}

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket")
    throw new ApiError(426, "upgrade_required", "This endpoint only speaks WebSocket", { Upgrade: "websocket" });
  const query = c.req.valid("query");
  const tenant = await resolveTenant(c, query.tenant ?? c.req.header(TENANT_HEADER));
  c.set("tenant", tenant);
  const origin = c.req.header("Origin");
  // The Worker's own origin (the demo page at /app/) is always allowed; other browsers' origins must be listed by
  // the deployment or by the tenant the socket is for.
  const tenantOrigins = effectiveSettings(c.var.config, tenant).allowed_origins;
  if (origin && origin !== new URL(c.req.url).origin && !isOriginAllowed(c.var.config, origin, tenantOrigins))
    throw new ApiError(403, "origin_not_allowed", `Origin ${origin} is not allowed`);
  const protocols = offeredProtocols(c.req.header("Sec-WebSocket-Protocol"));
  const token = query.token ?? tokenFromProtocols(protocols);
  const user = await authenticate(c, token);
  // An upgrade is a request like any other for the user's rate limit (and so is each message on the socket).
  await limitUser(limitScope(c), c.var.config, user.id);

  const owner = { tenantId: tenant.id, userId: user.id };
  // A new session gets an id only we hand out; its row is written with its first message. A session_id must be
  // one of the caller's stored sessions, or one not stored yet that the caller is on right now (the object knows).
  const sessionId = query.session_id ?? crypto.randomUUID();
  const stored = query.session_id ? (await findSession(c.var.services.db, owner, query.session_id)) !== null : false;
  // authenticate() verified the credential, expiry included: the socket is answered until then (a key that never
  // expires is answered until it is revoked, which the object checks before every answer).
  const expiresAt = user.expiresAt ?? Number.MAX_SAFE_INTEGER;
  const identity: SocketIdentity = { ...owner, sessionId, requestId: c.var.requestId, expiresAt, stored, apiKey: user.apiKey };
  const headers = new Headers(c.req.raw.headers);
  headers.set(IDENTITY_HEADER, JSON.stringify(identity));
  // A browser that offered subprotocols only accepts the socket if one of them is echoed back (and never one it
  // did not offer). Only we say which: a client's own X-DocuChat-Protocol header is dropped.
  headers.delete("X-DocuChat-Protocol");
  if (protocols.includes(SUBPROTOCOL)) headers.set("X-DocuChat-Protocol", SUBPROTOCOL);
  const stub = c.env.CHAT_SESSIONS.get(c.env.CHAT_SESSIONS.idFromName(sessionId));
  const joining = query.session_id !== undefined && !stored;
  const upgraded = await stub.fetch(new Request(`https://session/${joining ? "join" : "connect"}`, { headers }));
  if (upgraded.status === 404) throw new ApiError(404, "session_not_found", "No such chat session");
  // Re-wrapped so the middleware can still add its headers (a fetched response's headers are immutable).
  return new Response(null, { status: upgraded.status, webSocket: upgraded.webSocket, headers: upgraded.headers }) as never;
};
