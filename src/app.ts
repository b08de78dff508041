// The Hono application: global middleware, then one registration per route file.
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "./env.ts";
import { corsAllows } from "./lib/origins.ts";
import { provideContext } from "./middleware/context.ts";
import { errorResponse, notFound, onError, validationHook } from "./middleware/errors.ts";
import { observeRequests } from "./middleware/observe.ts";
import { registerApiKeyRoutes } from "./routes/admin/api-keys/register.ts";
import { registerSettingsRoutes } from "./routes/admin/settings/register.ts";
import { registerUserAdminRoutes } from "./routes/admin/users/register.ts";
import { registerWebhookRoutes } from "./routes/admin/webhooks/register.ts";
import * as requestCode from "./routes/auth/request-code.ts";
import * as verifyCode from "./routes/auth/verify-code.ts";
import * as deleteSession from "./routes/chat/delete-session.ts";
import * as chatFramesSchema from "./routes/chat/frames-schema.ts";
import * as listMessages from "./routes/chat/list-messages.ts";
import * as listSessions from "./routes/chat/list-sessions.ts";
import * as chatSocket from "./routes/chat/socket.ts";
import { registerCollectionRoutes } from "./routes/collections/register.ts";
import { registerDocs } from "./routes/docs.ts";
import * as deleteFile from "./routes/files/delete.ts";
import * as downloadFile from "./routes/files/download.ts";
import * as getFile from "./routes/files/get.ts";
import * as listFiles from "./routes/files/list.ts";
import * as filePages from "./routes/files/pages.ts";
import * as retryFile from "./routes/files/retry.ts";
import * as updateFile from "./routes/files/update.ts";
import * as uploadFile from "./routes/files/upload.ts";
import * as health from "./routes/health.ts";
import * as me from "./routes/me.ts";
import * as root from "./routes/root.ts";
import * as search from "./routes/search.ts";
import * as usage from "./routes/usage.ts";

// JSON bodies are small; the upload route enforces its own, larger limit while streaming.
const limitJsonBody = createMiddleware<AppEnv>((c, next) =>
  c.req.method === "POST" && c.req.path === uploadFile.route.path
    ? next()
    : bodyLimit({
        maxSize: c.var.config.MAX_JSON_BODY_BYTES,
        onError: (c) => errorResponse(c, 413, "payload_too_large", `Request bodies are limited to ${c.var.config.MAX_JSON_BODY_BYTES} bytes`),
      })(c, next),
);

export function createApp() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.use(requestId({ headerName: "X-Request-Id" }));
  app.use(observeRequests);
  app.use(provideContext);
  app.use(
    cors({
      origin: async (origin, c) => ((await corsAllows(c as Context<AppEnv>, origin)) ? origin : null),
      allowHeaders: ["Content-Type", "Authorization", "X-Tenant-ID", "X-Request-Id"],
      exposeHeaders: ["X-Request-Id", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After"],
      maxAge: 600,
    }),
  );
  app.use(secureHeaders());
  app.use("/v1/*", limitJsonBody);

  app.openapi(root.route, root.handler);
  app.openapi(health.route, health.handler);
  app.openapi(requestCode.route, requestCode.handler);
  app.openapi(verifyCode.route, verifyCode.handler);
  app.openapi(me.route, me.handler);
  app.openapi(uploadFile.route, uploadFile.handler);
  app.openapi(listFiles.route, listFiles.handler);
  app.openapi(getFile.route, getFile.handler);
  app.openapi(downloadFile.route, downloadFile.handler);
  app.openapi(filePages.route, filePages.handler);
  app.openapi(deleteFile.route, deleteFile.handler);
  app.openapi(retryFile.route, retryFile.handler);
  app.openapi(updateFile.route, updateFile.handler);
  app.openapi(search.route, search.handler);
  app.openapi(chatSocket.route, chatSocket.handler);
  app.get(chatFramesSchema.path, chatFramesSchema.handler);
  app.openapi(listSessions.route, listSessions.handler);
  app.openapi(listMessages.route, listMessages.handler);
  app.openapi(deleteSession.route, deleteSession.handler);
  app.openapi(usage.route, usage.handler);
  registerCollectionRoutes(app);
  registerSettingsRoutes(app);
  registerUserAdminRoutes(app);
  registerApiKeyRoutes(app);
  registerWebhookRoutes(app);
  registerDocs(app);

  app.onError(onError);
  app.notFound(notFound);
  return app;
}
