// The Neon stand-in, exercised with the real @neondatabase/serverless driver (and drizzle on top),
// configured the way the Worker configures it for local development.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NeonDbError, neon, neonConfig, Pool } from "@neondatabase/serverless";
import { eq } from "drizzle-orm";
import { drizzle as drizzleHttp } from "drizzle-orm/neon-http";
import { drizzle as drizzleWs } from "drizzle-orm/neon-serverless";
import { integer, pgTable, text } from "drizzle-orm/pg-core";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ws from "ws";
import { type NeonStandIn, startNeonStandIn } from "../../dev/neon/server.ts";

// Host/port here only feed wsProxy's ?address=; the stand-in ignores them.
const CONN = "postgres://postgres:postgres@db.localtest.me:5432/postgres";

let neonDb: NeonStandIn;
let pool: Pool;

/** Polls until cond() holds (connection teardown is asynchronous). */
async function eventually(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs fn and returns what it threw. */
async function caught(fn: () => Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await fn();
  } catch (err) {
    return err as Record<string, unknown>;
  }
  throw new Error("expected an error");
}

beforeAll(async () => {
  neonDb = await startNeonStandIn(); // in-memory PGlite
  neonConfig.webSocketConstructor = ws;
  neonConfig.pipelineConnect = false; // never pipeline the password: PGlite would spin at 100% CPU
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  // The driver prepends ws:// and calls this with the host/port from the connection string.
  neonConfig.wsProxy = (host, port) => `127.0.0.1:${neonDb.port}/v2?address=${host}:${port}`;
  neonConfig.fetchEndpoint = () => `${neonDb.url}/sql`;
  pool = new Pool({ connectionString: CONN });
});

afterAll(async () => {
  await pool?.end();
  await neonDb?.close();
});

describe("WebSocket protocol (Pool / Client)", () => {
  it("runs a query with params", async () => {
    const { rows } = await pool.query("select $1::int + 1 as n, $2::text as s, null::text as z", [41, "hi"]);
    expect(rows).toEqual([{ n: 42, s: "hi", z: null }]);
  });

  it("supports interactive transactions", async () => {
    await pool.query("create table tx_test (id int primary key, v text)");
    const client = await pool.connect();
    try {
      await client.query("begin");
      await client.query("insert into tx_test values (1, 'a')");
      expect((await client.query("select count(*)::int as c from tx_test")).rows[0].c).toBe(1);
      await client.query("rollback");
      await client.query("begin");
      await client.query("insert into tx_test values (2, 'b')");
      await client.query("commit");
    } finally {
      client.release();
    }
    const { rows } = await pool.query("select id from tx_test order by id");
    expect(rows).toEqual([{ id: 2 }]);
  });

  it("has pgvector: vector(3), <=> ordering, HNSW cosine index", async () => {
    await pool.query("create extension if not exists vector");
    await pool.query("create table items (id int primary key, embedding vector(3))");
    await pool.query("create index items_embedding_idx on items using hnsw (embedding vector_cosine_ops)");
    await pool.query("insert into items values (1, '[1,0,0]'), (2, '[0,1,0]'), (3, '[0.9,0.1,0]')");
    const { rows } = await pool.query(
      "select id, embedding::text as e, round((embedding <=> $1)::numeric, 3)::float8 as d from items order by embedding <=> $1 limit 2",
      ["[1,0,0]"],
    );
    expect(rows).toEqual([
      { id: 1, e: "[1,0,0]", d: 0 },
      { id: 3, e: "[0.9,0.1,0]", d: 0.006 },
    ]);
    const idx = await pool.query("select indexdef from pg_indexes where indexname = 'items_embedding_idx'");
    expect(idx.rows[0].indexdef).toContain("hnsw (embedding vector_cosine_ops)");
  });

  it("surfaces SQLSTATE codes", async () => {
    const missing = await caught(() => pool.query("select * from no_such_table"));
    expect(missing.code).toBe("42P01");
    await pool.query("create table uniq_ws (k text unique)");
    await pool.query("insert into uniq_ws values ('a')");
    const dup = await caught(() => pool.query("insert into uniq_ws values ($1)", ["a"]));
    expect(dup).toMatchObject({ code: "23505", constraint: "uniq_ws_k_key" });
    // The connection stays usable after an error.
    expect((await pool.query("select 1 as one")).rows).toEqual([{ one: 1 }]);
  });

  it("runs 20 concurrent pooled queries", async () => {
    const p = new Pool({ connectionString: CONN, max: 20 });
    try {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => p.query("select $1::int as i, md5($1::text) as h", [i])));
      results.forEach((r, i) => {
        expect(r.rows[0].i).toBe(i);
      });
      expect(p.totalCount).toBeGreaterThan(1);
    } finally {
      await p.end();
    }
  });

  it("closes the tunnel and backend connection after Terminate", async () => {
    // Steady state: one tunnel per client of the shared pool (earlier tests' pools have wound down).
    await eventually(() => neonDb.openConnections() === pool.totalCount);
    const tunnels = neonDb.openConnections();
    const backend = neonDb.stats().backendConnections!;
    const p = new Pool({ connectionString: CONN, max: 5 });
    try {
      await Promise.all(Array.from({ length: 5 }, () => p.query("select pg_sleep(0.01)")));
      expect(neonDb.openConnections()).toBe(tunnels + 5);
      expect(neonDb.stats().backendConnections).toBe(backend + 5);
    } finally {
      await p.end(); // the driver leaves its WebSocket open after 'X': the stand-in must hang up
    }
    await eventually(() => neonDb.openConnections() === tunnels);
    await eventually(() => neonDb.stats().backendConnections === backend);
  });

  it("answers SSLRequest with N and hangs up on Terminate (raw socket)", async () => {
    await eventually(() => neonDb.openConnections() === pool.totalCount);
    const tunnels = neonDb.openConnections();
    const sock = new ws(`ws://127.0.0.1:${neonDb.port}/v2?address=whatever:5432`);
    const received: Buffer[] = [];
    sock.on("message", (d: Buffer) => received.push(d));
    const closed = new Promise<number>((r) => sock.on("close", (code) => r(code)));
    await new Promise((r) => sock.on("open", r));
    const ssl = Buffer.alloc(8);
    ssl.writeInt32BE(8, 0);
    ssl.writeInt32BE(80877103, 4);
    sock.send(ssl);
    await eventually(() => received.length > 0);
    expect(received[0]!.toString()).toBe("N");
    // StartupMessage, split across frames to exercise reassembly, then Terminate.
    const params = Buffer.from("user\0postgres\0database\0postgres\0\0");
    const startup = Buffer.alloc(8 + params.length);
    startup.writeInt32BE(startup.length, 0);
    startup.writeInt32BE(196608, 4);
    params.copy(startup, 8);
    sock.send(startup.subarray(0, 5));
    sock.send(startup.subarray(5));
    await eventually(() => received.some((b) => b.includes(Buffer.from("Z\0\0\0\x05I")))); // ReadyForQuery
    sock.send(Buffer.from([0x58, 0, 0, 0, 4]));
    expect(await closed).toBe(1000);
    await eventually(() => neonDb.openConnections() === tunnels);
  });
});

describe("HTTP protocol (neon())", () => {
  const sql = () => neon(CONN);

  it("runs tagged-template queries with params and parses types", async () => {
    const rows = await sql()`select ${7}::int as a, ${"x"} as b, ${true}::bool as c, 9007199254740993::int8 as big,
      '{"k":[1]}'::jsonb as j, null::int as n, '2024-01-02T03:04:05Z'::timestamptz as t`;
    expect(rows).toEqual([{ a: 7, b: "x", c: true, big: "9007199254740993", j: { k: [1] }, n: null, t: new Date("2024-01-02T03:04:05Z") }]);
  });

  it("supports arrayMode and fullResults", async () => {
    expect(await sql().query("select 1 as a, 'two' as b", [], { arrayMode: true })).toEqual([[1, "two"]]);
    const full = await sql().query("select generate_series(1, $1::int) as n", [3], { fullResults: true });
    expect(full).toMatchObject({ command: "SELECT", rowCount: 3, rows: [{ n: 1 }, { n: 2 }, { n: 3 }] });
    expect(full.fields[0]).toMatchObject({ name: "n", dataTypeID: 23 });
    const asArrays = await neon(CONN, { arrayMode: true, fullResults: true }).query("select 5 as x");
    expect(asArrays).toMatchObject({ rows: [[5]], rowAsArray: true });
  });

  it("returns pgvector values as text", async () => {
    const rows = await sql()`select id, embedding from items order by embedding <=> ${"[0,1,0]"} limit 1`;
    expect(rows).toEqual([{ id: 2, embedding: "[0,1,0]" }]);
  });

  it("commits a sql.transaction batch", async () => {
    const s = sql();
    await s`create table batch_test (id int primary key)`;
    const [, , count] = await s.transaction([
      s`insert into batch_test values (1)`,
      s`insert into batch_test values (2)`,
      s`select count(*)::int as c from batch_test`,
    ]);
    expect(count).toEqual([{ c: 2 }]);
  });

  it("rolls a failing batch back", async () => {
    const s = sql();
    const err = await caught(() => s.transaction([s`insert into batch_test values (3)`, s`select * from missing_table`]));
    expect(err).toBeInstanceOf(NeonDbError);
    expect(err.code).toBe("42P01");
    expect(await s`select id from batch_test order by id`).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it("honours isolation level and read-only headers", async () => {
    const s = sql();
    const [iso, ro] = await s.transaction([s`show transaction_isolation`, s`show transaction_read_only`], {
      isolationLevel: "Serializable",
      readOnly: true,
    });
    expect(iso).toEqual([{ transaction_isolation: "serializable" }]);
    expect(ro).toEqual([{ transaction_read_only: "on" }]);
    const err = await caught(() => s.transaction([s`insert into batch_test values (9)`], { readOnly: true }));
    expect(err.code).toBe("25006"); // read_only_sql_transaction
  });

  it("surfaces SQLSTATE codes as NeonDbError", async () => {
    const s = sql();
    const missing = await caught(() => s`select * from no_such_table`);
    expect(missing).toBeInstanceOf(NeonDbError);
    expect(missing).toMatchObject({ code: "42P01", severity: "ERROR" });
    await s`create table uniq_http (k text unique)`;
    await s`insert into uniq_http values ('a')`;
    const dup = await caught(() => s`insert into uniq_http values (${"a"})`);
    expect(dup).toMatchObject({ code: "23505", constraint: "uniq_http_k_key", table: "uniq_http" });
  });

  it("rejects multiple statements in one query, like Neon", async () => {
    const err = await caught(() => sql().query("select 1; select 2"));
    expect(err.code).toBe("42601");
  });

  it("answers CORS preflight and unknown paths", async () => {
    const pre = await fetch(`${neonDb.url}/sql`, { method: "OPTIONS" });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-headers")).toContain("Neon-Connection-String");
    const missing = await fetch(`${neonDb.url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toHaveProperty("message");
    const bad = await fetch(`${neonDb.url}/sql`, { method: "POST", body: "{" });
    expect(bad.status).toBe(400);
  });
});

describe("drizzle-orm", () => {
  const notes = pgTable("notes", { id: integer("id").primaryKey(), body: text("body").notNull() });

  it("neon-http inserts and selects", async () => {
    await neon(CONN)`create table notes (id int primary key, body text not null)`;
    const db = drizzleHttp({ client: neon(CONN) });
    await db.insert(notes).values([
      { id: 1, body: "one" },
      { id: 2, body: "two" },
    ]);
    expect(await db.select().from(notes).where(eq(notes.id, 2))).toEqual([{ id: 2, body: "two" }]);
    const [a, b] = await db.batch([db.insert(notes).values({ id: 3, body: "three" }).returning(), db.select().from(notes)]);
    expect(a).toEqual([{ id: 3, body: "three" }]);
    expect(b).toHaveLength(3);
  });

  it("neon-serverless inserts, selects and runs a transaction", async () => {
    const db = drizzleWs({ client: pool });
    await db.insert(notes).values({ id: 4, body: "four" });
    await expect(
      db.transaction(async (tx) => {
        await tx.insert(notes).values({ id: 5, body: "five" });
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    const rows = await db.select({ id: notes.id }).from(notes).orderBy(notes.id);
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3, 4]);
  });
});

describe("persistence", () => {
  it("keeps data in dataDir across restarts", async () => {
    const dir = await mkdtemp(join(tmpdir(), "neon-standin-"));
    try {
      const first = await startNeonStandIn({ dataDir: dir });
      expect(first.backend).toBe("pglite");
      const c1 = new pg.Client(first.postgresUrl);
      await c1.connect();
      await c1.query("create extension if not exists vector");
      await c1.query("create table kept (id int, v vector(2))");
      await c1.query("insert into kept values (1, '[1,2]')");
      await c1.end();
      await first.close();

      const second = await startNeonStandIn({ dataDir: dir });
      try {
        const c2 = new pg.Client(second.postgresUrl);
        await c2.connect();
        const { rows } = await c2.query("select id, v::text as v from kept");
        await c2.end();
        expect(rows).toEqual([{ id: 1, v: "[1,2]" }]);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
