// The database behind the Neon stand-in: embedded PGlite (+ pgvector) served over TCP,
// or an existing real Postgres when a databaseUrl is given.
import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export interface Backend {
  kind: "pglite" | "postgres";
  /** TCP endpoint the WebSocket bridge connects to. */
  host: string;
  port: number;
  /** postgres:// URL for pg.Pool, migrations and tools. */
  postgresUrl: string;
  /** Connections the PGlite socket server currently holds (undefined for real Postgres). */
  serverConnections(): number | undefined;
  close(): Promise<void>;
}

export async function startBackend(opts: { dataDir?: string; databaseUrl?: string; log: (line: string) => void }): Promise<Backend> {
  if (opts.databaseUrl) return realPostgres(opts.databaseUrl);

  if (opts.dataDir) await mkdir(opts.dataDir, { recursive: true });
  // undefined dataDir = in-memory database.
  const db = await PGlite.create(opts.dataDir, { extensions: { vector } });
  // maxConnections > 1 turns on pglite-socket's multiplexer: it serialises messages onto the single
  // PGlite session and pins the session to one connection while that connection is inside a transaction.
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 100 });
  server.addEventListener("error", (e) => opts.log(`neon: pglite socket error: ${String((e as CustomEvent).detail)}`));
  await server.start();
  const port = Number(server.getServerConn().split(":").pop());

  return {
    kind: "pglite",
    host: "127.0.0.1",
    port,
    // PGlite accepts any user/password; "postgres" is its only database.
    postgresUrl: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    serverConnections: () => server.getStats().activeConnections,
    async close() {
      // Let handlers detach (they may ROLLBACK an open transaction) before the db goes away.
      await waitFor(() => server.getStats().activeConnections === 0, 2000);
      await server.stop();
      await db.close();
    },
  };
}

function realPostgres(databaseUrl: string): Backend {
  const url = new URL(databaseUrl);
  return {
    kind: "postgres",
    host: url.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1", // strip IPv6 brackets
    port: Number(url.port || 5432),
    postgresUrl: databaseUrl,
    serverConnections: () => undefined,
    close: async () => {},
  };
}

/** Polls until cond() holds or the timeout passes. */
export async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}
