// What the caller may do, beyond being authenticated. Runs after requireUser.
import { createMiddleware } from "hono/factory";
import type { AppEnv, AuthUser } from "../env.ts";
import { ApiError } from "../lib/errors.ts";

export const isAdmin = (user: AuthUser) => !user.apiKey && (user.role === "owner" || user.role === "admin");

/** Admin routes: owners and admins, logged in by email (an API key never administers, whatever its identity's role). */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  if (!isAdmin(c.var.user)) throw new ApiError(403, "forbidden", "This needs the admin or owner role");
  await next();
});

/** Routes that change documents: refused to a read-only API key. */
export const requireWriteScope = createMiddleware<AppEnv>(async (c, next) => {
  if (c.var.user.apiKey?.scope === "read") throw new ApiError(403, "insufficient_scope", "This API key is read-only");
  await next();
});
