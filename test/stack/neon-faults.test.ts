// The Neon stand-in's test-only faults (dev/neon/faults.ts), seen through the real @neondatabase/serverless
// HTTP driver: a frozen database holds queries unanswered, a failing proxy answers 5xx, a dropped connection
// is a network error, and each rule touches only the connection strings it names.
import { neon, neonConfig } from "@neondatabase/serverless";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type NeonStandIn, startNeonStandIn } from "../../dev/neon/server.ts";

let stand: NeonStandIn;
const urlOf = (database: string) => `postgres://postgres:postgres@db.localtest.me:5432/${database}`;
const control = (init?: RequestInit, id = "") => fetch(`${stand.url}/__faults${id}`, init);
const addRule = async (rule: Record<string, unknown>) => {
  const res = await control({ method: "POST", body: JSON.stringify(rule) });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: number; held: number };
};
const held = async (id: number) =>
  ((await (await control()).json()) as { faults: Array<{ id: number; held: number }> }).faults.find((r) => r.id === id)?.held;
const settlesWithin = (promise: Promise<unknown>, ms: number) =>
  Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((r) => setTimeout(() => r(false), ms)),
  ]);

beforeAll(async () => {
  stand = await startNeonStandIn();
  neonConfig.fetchEndpoint = () => `${stand.url}/sql`;
  await neon(urlOf("postgres"))`create table fault_probe (note text)`;
});

afterEach(async () => {
  await control({ method: "DELETE" });
});

afterAll(async () => {
  await stand?.close();
});

describe("Neon stand-in faults", () => {
  it("freezes only the matching database, then answers what it held once thawed", async () => {
    const rule = await addRule({ match: "frozen_db", freeze: true });
    const frozen = neon(urlOf("frozen_db"))`select 41 + 1 as n`;
    expect(await neon(urlOf("postgres"))`select 1 as n`).toEqual([{ n: 1 }]);
    expect(await settlesWithin(frozen, 500)).toBe(false);
    expect(await held(rule.id)).toBe(1);

    expect(await (await control({ method: "DELETE" }, `/${rule.id}`)).json()).toEqual({ deleted: true });
    expect(await frozen).toEqual([{ n: 42 }]);
  });

  it("never runs a frozen query whose client gave up", async () => {
    const rule = await addRule({ match: "frozen_db", freeze: true });
    const note = `abandoned-${crypto.randomUUID()}`;
    const insert = neon(urlOf("frozen_db"), { fetchOptions: { signal: AbortSignal.timeout(300) } })`insert into fault_probe values (${note})`;
    await expect(insert).rejects.toThrow(/Error connecting to database/);
    await expect.poll(() => held(rule.id)).toBe(0);
    await control({ method: "DELETE" }, `/${rule.id}`);
    await new Promise((r) => setTimeout(r, 100));
    expect(await neon(urlOf("postgres"))`select count(*)::int as n from fault_probe where note = ${note}`).toEqual([{ n: 0 }]);
  });

  it("answers a 5xx status the given number of times", async () => {
    await addRule({ match: "failing_db", status: 503, times: 2 });
    const sql = neon(urlOf("failing_db"));
    await expect(sql`select 1`).rejects.toThrow(/Server error \(HTTP status 503\)/);
    await expect(sql`select 1`).rejects.toThrow(/HTTP status 503/);
    expect(await sql`select 1 as n`).toEqual([{ n: 1 }]);
  });

  it("drops the connection mid-answer: the driver fails reading the result", async () => {
    await addRule({ match: "dropped_db", drop: true, times: 1 });
    const sql = neon(urlOf("dropped_db"));
    await expect(sql`select 1`).rejects.toThrow(/terminated/);
    expect(await sql`select 1 as n`).toEqual([{ n: 1 }]);
  });

  it("refuses malformed rules", async () => {
    for (const rule of [
      { freeze: true },
      { match: "x" },
      { match: "x", freeze: true, status: 503 },
      { match: "x", status: 404 },
      { match: "x", freeze: true, times: 1 },
    ]) {
      const res = await control({ method: "POST", body: JSON.stringify(rule) });
      expect(res.status, JSON.stringify(rule)).toBe(400);
    }
  });
});
