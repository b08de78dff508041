// Postgres access through Neon's serverless driver: HTTP (/sql) for the request path, since it needs
// no connection setup. When NEON_LOCAL_PROXY is set (development only) the driver talks to the local
// stand-in instead of Neon; production keeps the driver's defaults.
import { neon, neonConfig } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-http";
import type { Config } from "../config.ts";
import * as schema from "./schema.ts";

export type Db = ReturnType<typeof createDb>;

function pointDriverAtLocalProxy(proxy: string): void {
  neonConfig.wsProxy = (host, port) => `${proxy}/v2?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  // Never pipeline the password: PGlite behind the stand-in spins forever on a pipelined startup.
  neonConfig.pipelineConnect = false;
  neonConfig.fetchEndpoint = () => `http://${proxy}/sql`;
}

export function createDb(config: Config) {
  if (config.NEON_LOCAL_PROXY) pointDriverAtLocalProxy(config.NEON_LOCAL_PROXY);
  return drizzle(neon(config.DATABASE_URL), { schema });
}
