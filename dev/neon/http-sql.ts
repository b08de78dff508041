// Neon's SQL-over-HTTP protocol (what neon() / drizzle-orm/neon-http send): POST /sql with
// {query, params} or {queries: [...]}, answered with Postgres TEXT values the driver parses itself.
import type { IncomingMessage, ServerResponse } from "node:http";
import type pg from "pg";
import { BodyTooLargeError, readBody, sendJson, serveFaultRules } from "../lib/http.ts";
import { applyFault, type NeonFaults } from "./faults.ts";

const CORS: Record<string, string> = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "POST, OPTIONS",
  "access-control-allow-headers":
    "Authorization, Content-Type, Neon-Connection-String, Neon-Raw-Text-Output, Neon-Array-Mode, " +
    "Neon-Batch-Isolation-Level, Neon-Batch-Read-Only, Neon-Batch-Deferrable, Neon-Pool-Opt-In",
  "access-control-max-age": "86400",
};

// neonConfig's isolationLevel names → SQL.
const ISOLATION: Record<string, string> = {
  ReadUncommitted: "READ UNCOMMITTED",
  ReadCommitted: "READ COMMITTED",
  RepeatableRead: "REPEATABLE READ",
  Serializable: "SERIALIZABLE",
};

// Every type comes back as its raw text form (or null): the driver applies its own parsers.
const RAW_TEXT = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

// Fields Neon copies from the Postgres ErrorResponse into its 400 body (NeonDbError reads these).
const ERROR_FIELDS = [
  "severity",
  "code",
  "detail",
  "hint",
  "position",
  "internalPosition",
  "internalQuery",
  "where",
  "schema",
  "table",
  "column",
  "dataType",
  "constraint",
  "file",
  "line",
  "routine",
] as const;

interface SqlQuery {
  query: string;
  params?: unknown[];
}

class BadRequest extends Error {}

/** `delayMs` is added to every /sql request (one round trip, whether a query or a transaction's batch). */
export function createSqlHandler(pool: pg.Pool, faults: NeonFaults, log: (line: string) => void, delayMs = 0) {
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === "OPTIONS") {
      res.writeHead(204, CORS);
      res.end();
      return;
    }
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/__faults" || path.startsWith("/__faults/")) return serveFaultRules(faults, req, res, path);
    if (path !== "/sql") return sendJson(res, 404, { message: `no route for ${req.method} ${path}` }, CORS);
    if (req.method !== "POST") return sendJson(res, 405, { message: "use POST /sql" }, { ...CORS, allow: "POST, OPTIONS" });

    if (await applyFault(faults, req, res, CORS)) return;
    try {
      const body = parseBody(await readBody(req));
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      const arrayMode = header(req, "neon-array-mode") === "true";
      // Neon-Connection-String is accepted but ignored: there is only one database here.
      if ("queries" in body) {
        const results = await runBatch(pool, body.queries, arrayMode, batchBegin(req));
        sendJson(res, 200, { results }, CORS);
      } else {
        sendJson(res, 200, await runQuery(pool, body, arrayMode), CORS);
      }
    } catch (err) {
      const e = err as Error & Record<string, unknown>;
      if (err instanceof BadRequest || err instanceof BodyTooLargeError) return sendJson(res, 400, { message: e.message }, CORS);
      if (typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) {
        // A Postgres error: 400 + its fields, so the driver throws a NeonDbError carrying .code etc.
        const out: Record<string, unknown> = { message: e.message };
        for (const f of ERROR_FIELDS) if (e[f] !== undefined) out[f] = e[f];
        return sendJson(res, 400, out, CORS);
      }
      log(`neon: /sql failed: ${e.message}`);
      sendJson(res, 500, { message: e.message }, CORS);
    }
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseBody(raw: Buffer): SqlQuery | { queries: SqlQuery[] } {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new BadRequest("request body is not valid JSON");
  }
  const isQuery = (q: unknown): q is SqlQuery =>
    typeof q === "object" &&
    q !== null &&
    typeof (q as SqlQuery).query === "string" &&
    ((q as SqlQuery).params === undefined || Array.isArray((q as SqlQuery).params));
  if (typeof body === "object" && body !== null && "queries" in body) {
    const { queries } = body as { queries: unknown };
    if (Array.isArray(queries) && queries.every(isQuery)) return { queries };
  } else if (isQuery(body)) {
    return body;
  }
  throw new BadRequest('expected {"query","params"} or {"queries":[{"query","params"}, ...]}');
}

/** BEGIN statement built from the Neon-Batch-* headers sql.transaction() sends. */
function batchBegin(req: IncomingMessage): string {
  let sql = "BEGIN";
  const iso = header(req, "neon-batch-isolation-level");
  if (iso !== undefined) {
    const level = ISOLATION[iso];
    if (!level) throw new BadRequest(`invalid Neon-Batch-Isolation-Level: ${iso}`);
    sql += ` ISOLATION LEVEL ${level}`;
  }
  const readOnly = header(req, "neon-batch-read-only");
  if (readOnly !== undefined) sql += readOnly === "true" ? " READ ONLY" : " READ WRITE";
  const deferrable = header(req, "neon-batch-deferrable");
  if (deferrable !== undefined) sql += deferrable === "true" ? " DEFERRABLE" : " NOT DEFERRABLE";
  return sql;
}

async function runQuery(db: pg.Pool | pg.PoolClient, q: SqlQuery, arrayMode: boolean) {
  const result = await db.query({
    text: q.query,
    values: q.params ?? [], // already serialised by the driver (strings / null): passed through
    types: RAW_TEXT,
    // Like Neon, always use the extended protocol: one statement per query, even without params.
    queryMode: "extended",
    ...(arrayMode ? { rowMode: "array" } : {}),
  } as pg.QueryConfig);
  return {
    command: result.command,
    rowCount: result.rowCount,
    rows: result.rows,
    fields: result.fields.map((f) => ({
      name: f.name,
      tableID: f.tableID,
      columnID: f.columnID,
      dataTypeID: f.dataTypeID,
      dataTypeSize: f.dataTypeSize,
      dataTypeModifier: f.dataTypeModifier,
      format: f.format,
    })),
    rowAsArray: arrayMode,
  };
}

/** Runs a batch in one transaction; any error rolls the whole batch back. */
async function runBatch(pool: pg.Pool, queries: SqlQuery[], arrayMode: boolean, begin: string) {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query(begin);
    const results = [];
    for (const q of queries) results.push(await runQuery(client, q, arrayMode));
    await client.query("COMMIT");
    return results;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => (broken = true));
    throw err;
  } finally {
    client.release(broken); // a client that cannot even roll back is discarded
  }
}
