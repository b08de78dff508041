// The Neon stand-in's latency knob (delayMs, NEON_STANDIN_DELAY_MS): every database round trip takes that much
// longer, whether it carries one query or a whole transaction, over HTTP and over the WebSocket alike.
import { neon, neonConfig, Pool } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ws from "ws";
import { type NeonStandIn, startNeonStandIn } from "../../dev/neon/server.ts";

const CONN = "postgres://postgres:postgres@db.localtest.me:5432/postgres";
const DELAY_MS = 150;

let slow: NeonStandIn;
let fast: NeonStandIn;

beforeAll(async () => {
  [slow, fast] = await Promise.all([startNeonStandIn({ delayMs: DELAY_MS }), startNeonStandIn()]);
  neonConfig.webSocketConstructor = ws;
  neonConfig.pipelineConnect = false;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
});

afterAll(async () => {
  await Promise.all([slow?.close(), fast?.close()]);
});

/** Milliseconds fn takes. */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/** Points the driver at one stand-in (it reads these per request and per connection). */
const at = (standIn: NeonStandIn) => {
  neonConfig.fetchEndpoint = () => `${standIn.url}/sql`;
  neonConfig.wsProxy = (host, port) => `127.0.0.1:${standIn.port}/v2?address=${host}:${port}`;
};

describe("delay per database round trip", () => {
  it("adds the delay once to each HTTP query, and once to a transaction of several statements", async () => {
    const sql = neon(CONN);
    at(fast);
    await sql.query("select 1"); // warm
    const fastQuery = await timed(() => sql.query("select 1"));
    at(slow);
    const slowSql = sql;
    await slowSql.query("select 1");
    const one = await timed(() => slowSql.query("select 1 as n"));
    const three = await timed(() => Promise.all([0, 0, 0].map(() => slowSql.query("select 1"))).then(() => undefined));
    const sequential = await timed(async () => {
      await slowSql.query("select 1");
      await slowSql.query("select 2");
    });
    const transaction = await timed(() => slowSql.transaction([slowSql.query("select 1"), slowSql.query("select 2"), slowSql.query("select 3")]));
    expect(one).toBeGreaterThanOrEqual(DELAY_MS);
    expect(one - fastQuery).toBeLessThan(DELAY_MS * 1.8);
    // Concurrent requests each wait their own delay, side by side: about one delay in all, not three.
    expect(three).toBeLessThan(DELAY_MS * 1.8);
    expect(sequential).toBeGreaterThanOrEqual(2 * DELAY_MS);
    // A transaction is one round trip, whatever it holds.
    expect(transaction).toBeGreaterThanOrEqual(DELAY_MS);
    expect(transaction).toBeLessThan(DELAY_MS * 1.8);
    // And the answers are the database's own.
    expect(await slowSql.query("select $1::int * 2 as n", [21])).toEqual([{ n: 42 }]);
  });

  it("adds the delay to each query over the WebSocket, after the connection is set up", async () => {
    at(slow);
    const pool = new Pool({ connectionString: CONN, max: 1 });
    try {
      await pool.query("select 1"); // connects (each startup message waits the delay too)
      const one = await timed(() => pool.query("select 1"));
      const two = await timed(async () => {
        await pool.query("select 1");
        await pool.query("select 2");
      });
      expect(one).toBeGreaterThanOrEqual(DELAY_MS);
      expect(one).toBeLessThan(DELAY_MS * 1.8);
      expect(two).toBeGreaterThanOrEqual(2 * DELAY_MS);
      expect((await pool.query("select $1::text as s", ["kept"])).rows).toEqual([{ s: "kept" }]);
    } finally {
      await pool.end();
    }
  });

  it("adds nothing without a delay", async () => {
    at(fast);
    const sql = neon(CONN);
    await sql.query("select 1");
    const times = [];
    for (let i = 0; i < 5; i++) times.push(await timed(() => sql.query("select 1")));
    expect(Math.min(...times)).toBeLessThan(DELAY_MS / 2);
  });
});
