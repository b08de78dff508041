// GET /asyncapi.json — the chat WebSocket protocol (GET /ws/chat) as an AsyncAPI 3.0 document. Its payloads are
// generated from the zod frames the server itself validates and sends, so they are the protocol, not a copy of it.
import type { Handler } from "hono";
import { z } from "zod";
import { ClientFrame, CloseCode, MAX_FRAME_BYTES, MAX_QUESTION_CHARS, ServerFrame } from "../../chat/protocol.ts";
import type { AppEnv } from "../../env.ts";
import { APP_NAME, APP_VERSION } from "../../lib/version.ts";

export const path = "/asyncapi.json";

const CLOSE_REASONS: Record<(typeof CloseCode)[keyof typeof CloseCode], string> = {
  [CloseCode.tokenExpired]: "the access token expired (after a `token_expired` error frame): reconnect with a fresh token",
  [CloseCode.unauthorized]: "the tenant was disabled or the user removed (after an `unauthorized` error frame): do not reconnect",
  [CloseCode.sessionDeleted]: "the session was deleted: open a new one",
};

const DESCRIPTION = `Chat with your documents over one WebSocket per session. Frames are JSON text, at most ${MAX_FRAME_BYTES} bytes;
a question is at most ${MAX_QUESTION_CHARS} characters. Operations are written from the client's side: \`send\` lists
what your app sends, \`receive\` what the server sends back.

**Connecting.** Browsers cannot set headers on a WebSocket, so the access token goes in \`?token=\` or as the
subprotocol \`bearer.<token>\` (offer \`docuchat, bearer.<token>\`; the server answers \`docuchat\`), and the tenant
in \`?tenant=\` (or the \`X-Tenant-ID\` header). Omit \`?session_id=\` to start a session; the first frame is
\`session\` with its id. A refused upgrade is an HTTP error \`{"error":{"code","message","request_id"}}\`
(see \`GET /ws/chat\` in /openapi.json).

**Answers.** A \`message\` is answered with \`citations\`, then \`delta\` frames, then \`done\`, sent to every socket
of the session; a failure is an \`error\` frame instead. One answer at a time per session (else \`busy\`).

**Close codes.**
${Object.entries(CLOSE_REASONS)
  .map(([code, why]) => `- ${code}: ${why}`)
  .join("\n")}`;

type Frame = { shape: { type: { value: string } } } & z.ZodType;

/** One AsyncAPI message per frame type, keyed by that type; title, summary and examples come from the frame's meta. */
function messages(frames: readonly Frame[], io: "input" | "output") {
  return Object.fromEntries(
    frames.map((frame) => {
      const { $schema: _, title, description, examples, ...payload } = z.toJSONSchema(frame, { target: "draft-07", io }) as Record<string, unknown>;
      const type = frame.shape.type.value;
      return [type, { name: type, title, summary: description, payload, examples: (examples as unknown[]).map((p) => ({ payload: p })) }];
    }),
  );
}

const refs = (group: string, keys: string[]) => keys.map((k) => ({ $ref: `#/${group}/${k}` }));

// The document is the same for every request but its server; built on first use (a few ms), then reused.
let frameMessages: { client: ReturnType<typeof messages>; server: ReturnType<typeof messages> } | undefined;

export function asyncApiDocument(origin: URL) {
  frameMessages ??= { client: messages(ClientFrame.options, "input"), server: messages(ServerFrame.options, "output") };
  const { client, server } = frameMessages;
  const all = { ...client, ...server };
  return {
    asyncapi: "3.0.0",
    info: { title: `${APP_NAME} chat WebSocket`, version: APP_VERSION, description: DESCRIPTION },
    defaultContentType: "application/json",
    servers: {
      worker: {
        host: origin.host,
        protocol: origin.protocol === "https:" ? "wss" : "ws",
        security: refs("components/securitySchemes", ["tokenInQuery", "tokenInSubprotocol"]),
      },
    },
    channels: {
      chat: {
        address: "/ws/chat",
        title: "A chat session",
        messages: Object.fromEntries(Object.keys(all).map((k) => [k, { $ref: `#/components/messages/${k}` }])),
        bindings: {
          ws: {
            method: "GET",
            query: {
              type: "object",
              properties: {
                token: { type: "string", description: "Access token, unless sent as the bearer.<token> subprotocol" },
                tenant: { type: "string", description: "Tenant, unless sent in X-Tenant-ID" },
                session_id: { type: "string", format: "uuid", description: "Reconnect to this session of yours" },
              },
            },
            bindingVersion: "0.1.0",
          },
        },
      },
    },
    operations: {
      send: {
        action: "send",
        title: "Client to server",
        channel: { $ref: "#/channels/chat" },
        messages: refs("channels/chat/messages", Object.keys(client)),
      },
      receive: {
        action: "receive",
        title: "Server to client",
        channel: { $ref: "#/channels/chat" },
        messages: refs("channels/chat/messages", Object.keys(server)),
      },
    },
    components: {
      messages: all,
      securitySchemes: {
        tokenInQuery: { type: "httpApiKey", name: "token", in: "query", description: "The access token from POST /v1/auth/verify-code" },
        tokenInSubprotocol: {
          type: "httpApiKey",
          name: "Sec-WebSocket-Protocol",
          in: "header",
          description: "The access token as the subprotocol bearer.<token>, offered next to docuchat",
        },
      },
    },
  };
}

export const handler: Handler<AppEnv> = (c) => c.json(asyncApiDocument(new URL(c.req.url)));
