// Local stand-in for Neon serverless Postgres: one HTTP server speaking both of the
// @neondatabase/serverless driver's protocols (WebSocket /v2 and HTTP POST /sql) in front of
// embedded PGlite + pgvector (or a real Postgres when databaseUrl is given).
import { createServer } from "node:http";
import pg from "pg";
import { closeServer, listen } from "../lib/http.ts";
import { startBackend } from "./backend.ts";
import { NeonFaults } from "./faults.ts";
import { createSqlHandler } from "./http-sql.ts";
import { createWsBridge } from "./ws-bridge.ts";

export interface NeonStandIn {
  /** http://127.0.0.1:PORT — serves both WebSocket /v2 and HTTP POST /sql */
  url: string;
  host: string;
  port: number;
  /** postgres://… TCP URL of the backing database, for migrations / tools (pg, psql) */
  postgresUrl: string;
  backend: "pglite" | "postgres";
  /** Open WebSocket tunnels (each holds one backend connection until both ends have closed). */
  openConnections(): number;
  /** Connection counts, for tests and debugging. */
  stats(): { wsTunnels: number; httpPoolClients: number; backendConnections: number | undefined };
  close(): Promise<void>;
}

export async function startNeonStandIn(
  opts: {
    port?: number; // 0 / undefined = free port
    host?: string; // default 127.0.0.1
    dataDir?: string; // PGlite persistence folder; undefined = in-memory
    databaseUrl?: string; // if set: front this real Postgres (must have pgvector) instead of PGlite
    /** Latency added to every database round trip (a /sql request, a WebSocket client's message), to model a distant region. */
    delayMs?: number;
    log?: (line: string) => void;
  } = {},
): Promise<NeonStandIn> {
  const log = opts.log ?? (() => {});
  const host = opts.host ?? "127.0.0.1";
  const backend = await startBackend({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, log });

  // /sql runs on a small pg pool; a PGlite backend serialises everything anyway.
  // PGlite is one session: its multiplexer keeps transactions apart but can interleave the extended-protocol
  // messages of concurrent connections ("unnamed prepared statement does not exist"), so /sql queues on one.
  const pool = new pg.Pool({ connectionString: backend.postgresUrl, max: backend.kind === "pglite" ? 1 : 10, idleTimeoutMillis: 10_000 });
  pool.on("error", (err) => log(`neon: idle pool client error: ${err.message}`));
  const delayMs = opts.delayMs ?? 0;
  const bridge = createWsBridge(backend, log, delayMs);
  const faults = new NeonFaults(); // test-only: POST/GET/DELETE /__faults freeze, fail or drop /sql requests
  const handleSql = createSqlHandler(pool, faults, log, delayMs);

  const server = createServer((req, res) => void handleSql(req, res));
  server.on("upgrade", (req, socket, head) => bridge.handleUpgrade(req, socket, head));
  let port: number;
  try {
    port = await listen(server, opts.port ?? 0, host);
  } catch (err) {
    await pool.end();
    await backend.close();
    throw err;
  }
  const url = `http://${host}:${port}`;
  log(
    `neon: stand-in on ${url} (${backend.kind}${opts.dataDir ? ` in ${opts.dataDir}` : ""}), tcp ${backend.postgresUrl}${delayMs ? `, +${delayMs} ms per round trip` : ""}`,
  );

  let closing: Promise<void> | undefined;
  return {
    url,
    host,
    port,
    postgresUrl: backend.postgresUrl,
    backend: backend.kind,
    openConnections: () => bridge.openConnections(),
    stats: () => ({
      wsTunnels: bridge.openConnections(),
      httpPoolClients: pool.totalCount,
      backendConnections: backend.serverConnections(),
    }),
    close() {
      closing ??= (async () => {
        bridge.closeAll();
        faults.clear();
        await closeServer(server);
        await pool.end();
        await backend.close();
      })();
      return closing;
    },
  };
}
