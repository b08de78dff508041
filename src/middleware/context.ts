// Validates the configuration and puts it, with the services built for it (once per isolate), on the context.
import { createMiddleware } from "hono/factory";
import { getConfig } from "../config.ts";
import type { AppEnv } from "../env.ts";
import { servicesFor } from "../services/index.ts";

export const provideContext = createMiddleware<AppEnv>(async (c, next) => {
  const config = getConfig(c.env);
  c.set("config", config);
  c.set("services", servicesFor(config));
  await next();
});
