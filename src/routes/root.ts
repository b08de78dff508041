// GET / — what this service is and where to go next.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../env.ts";
import { APP_NAME, APP_VERSION } from "../lib/version.ts";
import { publicSecurity } from "./schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/",
  operationId: "getServiceInfo",
  tags: ["Meta"],
  security: publicSecurity,
  summary: "Service information",
  responses: {
    200: {
      description: "Name, version and links",
      content: {
        "application/json": {
          schema: z
            .object({
              name: z.string(),
              version: z.string(),
              links: z.object({ docs: z.string(), redoc: z.string(), openapi: z.string(), asyncapi: z.string(), health: z.string() }),
            })
            .openapi("ServiceInfo"),
        },
      },
    },
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = (c) =>
  c.json(
    {
      name: APP_NAME,
      version: APP_VERSION,
      links: { docs: "/docs", redoc: "/redoc", openapi: "/openapi.json", asyncapi: "/asyncapi.json", health: "/healthz" },
    },
    200,
  );
