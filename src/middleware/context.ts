// Validates the configuration and puts it, with request-scoped services, on the context.
import { createMiddleware } from "hono/factory";
import { getConfig } from "../config.ts";
import type { AppEnv } from "../env.ts";
import { createServices } from "../services/index.ts";

export const provideContext = createMiddleware<AppEnv>(async (c, next) => {
  const config = getConfig(c.env);
  c.set("config", config);
  c.set("services", createServices(config));
  await next();
});
