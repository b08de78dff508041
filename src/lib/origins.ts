import type { Config } from "../config.ts";

/** The browser origins allowed by CORS_ORIGINS; the same list guards the chat WebSocket. */
export function isOriginAllowed(config: Config, origin: string): boolean {
  return config.CORS_ORIGINS.includes("*") || config.CORS_ORIGINS.includes(origin);
}
