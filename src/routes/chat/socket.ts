// GET /ws/chat — authenticates the WebSocket upgrade, then hands the socket to the session's Durable Object.
// Browsers cannot set headers on a WebSocket, so the token may come in ?token= or in Sec-WebSocket-Protocol
// ("docuchat, bearer.<token>"), and the tenant in ?tenant= or X-Tenant-ID.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { IDENTITY_HEADER, type SocketIdentity } from "../../chat/session-object.ts";
import { createSession, findSession } from "../../chat/repository.ts";
import type { AppEnv } from "../../env.ts";
import { ApiError } from "../../lib/errors.ts";
import { isOriginAllowed } from "../../lib/origins.ts";
import { authenticate } from "../../middleware/auth.ts";
import { resolveTenant, TENANT_HEADER } from "../../middleware/tenant.ts";
import { errorResponse } from "../schemas.ts";

const SUBPROTOCOL = "docuchat";
const TOKEN_PROTOCOL_PREFIX = "bearer.";

export const route = createRoute({
  method: "get",
  path: "/ws/chat",
  tags: ["Chat"],
  summary: "Chat over a WebSocket",
  description: `Upgrade to a WebSocket; frames are JSON text.

Client → server: \`{"type":"message","content","session_id"?,"file_ids"?,"model"?}\`, \`{"type":"cancel"}\`, \`{"type":"ping"}\`.

Server → client: \`{"type":"session","session_id"}\` (on connect), \`{"type":"citations","citations":[{"n","file_id","filename","page_start","page_end","chunk_id","score"}]}\`,
\`{"type":"delta","content"}\` (many), \`{"type":"done","message_id","status":"complete"|"cancelled","usage":{"prompt_tokens","completion_tokens","total_tokens"}}\`,
\`{"type":"error","code","message","retryable"}\`, \`{"type":"pong"}\`.

Omit \`session_id\` to start a new session; pass it to reconnect to one of yours. Every socket of a session receives its answers.`,
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
  },
});

const offeredProtocols = (header: string | undefined) => header?.split(",").map((p) => p.trim()) ?? [];

function tokenFromProtocols(protocols: string[]): string | undefined {
  return protocols.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX))?.slice(TOKEN_PROTOCOL_PREFIX.length);
}

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket")
    throw new ApiError(426, "upgrade_required", "This endpoint only speaks WebSocket", { Upgrade: "websocket" });
  const origin = c.req.header("Origin");
  // The Worker's own origin (the demo page at /app/) is always allowed; other browsers' origins must be listed.
  if (origin && origin !== new URL(c.req.url).origin && !isOriginAllowed(c.var.config, origin))
    throw new ApiError(403, "origin_not_allowed", `Origin ${origin} is not allowed`);

  const query = c.req.valid("query");
  const tenant = await resolveTenant(c, query.tenant ?? c.req.header(TENANT_HEADER));
  c.set("tenant", tenant);
  const protocols = offeredProtocols(c.req.header("Sec-WebSocket-Protocol"));
  const protocolToken = tokenFromProtocols(protocols);
  const user = await authenticate(c, query.token ?? protocolToken);

  const owner = { tenantId: tenant.id, userId: user.id };
  const { db } = c.var.services;
  const session = query.session_id ? await findSession(db, owner, query.session_id) : await createSession(db, owner);
  if (!session) throw new ApiError(404, "session_not_found", "No such chat session");

  const identity: SocketIdentity = { ...owner, sessionId: session.id, requestId: c.var.requestId };
  const headers = new Headers(c.req.raw.headers);
  headers.set(IDENTITY_HEADER, JSON.stringify(identity));
  // A browser that offered subprotocols only accepts the socket if one of them is echoed back (and never one it
  // did not offer). Only we say which: a client's own X-DocuChat-Protocol header is dropped.
  headers.delete("X-DocuChat-Protocol");
  if (protocols.includes(SUBPROTOCOL)) headers.set("X-DocuChat-Protocol", SUBPROTOCOL);
  const stub = c.env.CHAT_SESSIONS.get(c.env.CHAT_SESSIONS.idFromName(session.id));
  const upgraded = await stub.fetch(new Request(c.req.raw.url, { headers }));
  // Re-wrapped so the middleware can still add its headers (a fetched response's headers are immutable).
  return new Response(null, { status: upgraded.status, webSocket: upgraded.webSocket, headers: upgraded.headers }) as never;
};
