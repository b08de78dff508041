// Postgres access through Neon's serverless driver: HTTP (/sql) for the request path, since it needs
// no connection setup. When NEON_LOCAL_PROXY is set (development only) the driver talks to the local
// stand-in instead of Neon; production keeps the driver's defaults.
import { neon, neonConfig } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-http";
import type { Config } from "../config.ts";
import { DatabaseUnavailableError } from "./errors.ts";
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

/**
 * Every query is one HTTP exchange, so one deadline covers connecting, running and reading the result. When
 * it passes, the request is aborted, and Neon's proxy cancels the statement as its client has gone.
 * neonConfig.fetchFunction is global to the isolate, so it holds no configuration: each client's deadline
 * arrives in the fetch options that neon() merges into every request (`deadlineMs`).
 */
async function fetchWithDeadline(url: string, init: RequestInit & { deadlineMs: number }): Promise<Response> {
  const { deadlineMs, ...request } = init;
  const deadline = AbortSignal.timeout(deadlineMs);
  try {
    const res = await fetch(url, { ...request, signal: deadline });
    // Read here, under the deadline: headers followed by a stalled body are a frozen database too.
    const body = await res.arrayBuffer();
    // 5xx: the proxy could not reach the compute, or is failing itself. Postgres errors come back as 400.
    if (res.status >= 500) throw new DatabaseUnavailableError(`the database proxy answered HTTP ${res.status}`);
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  } catch (err) {
    if (err instanceof DatabaseUnavailableError) throw err;
    throw new DatabaseUnavailableError(deadline.aborted ? `no answer within ${deadlineMs} ms` : "the database is unreachable", { cause: err });
  }
}

export function createDb(config: Config) {
  if (config.NEON_LOCAL_PROXY) pointDriverAtLocalProxy(config.NEON_LOCAL_PROXY);
  neonConfig.fetchFunction = fetchWithDeadline;
  return drizzle(neon(config.DATABASE_URL, { fetchOptions: { deadlineMs: config.DB_TIMEOUT_MS } }), { schema });
}
