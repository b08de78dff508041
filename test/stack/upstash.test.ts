// The Upstash stand-in, driven by the real @upstash/redis and @upstash/ratelimit clients, once per backend.
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ratelimit } from "@upstash/ratelimit";
import type { RedisConfigNodejs } from "@upstash/redis";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { findRedisServer } from "../../dev/upstash/backend.ts";
import type { UpstashStandIn } from "../../dev/upstash/server.ts";
import { startUpstashStandIn } from "../../dev/upstash/server.ts";

const TOKEN = "test-token";
const hasRedisServer = findRedisServer() !== undefined;
if (!hasRedisServer) console.warn("[upstash.test] redis-server is not on PATH: the redis-server backend block is SKIPPED");

/** Names of the processes that are children of this (vitest worker) process. */
function childProcessNames(): string[] {
  const names: string[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8"); // "pid (comm) state ppid …"
      const close = stat.lastIndexOf(")");
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      if (ppid === process.pid) names.push(stat.slice(stat.indexOf("(") + 1, close));
    } catch {} // the process went away meanwhile
  }
  return names;
}

const sha1 = (s: string) => createHash("sha1").update(s).digest("hex");
const unique = () => Math.random().toString(36).slice(2, 10);

function backendSuite(title: string, spawnRedisServer: boolean, expected: UpstashStandIn["backend"]) {
  describe(title, () => {
    let standIn: UpstashStandIn;
    let redis: Redis;
    const client = (opts: Partial<RedisConfigNodejs> = {}) => new Redis({ url: standIn.url, token: TOKEN, enableTelemetry: false, ...opts });

    beforeAll(async () => {
      standIn = await startUpstashStandIn({ token: TOKEN, spawnRedisServer });
      redis = client();
    });
    afterAll(() => standIn?.close());

    it(`uses the ${expected} backend`, () => {
      expect(standIn.backend).toBe(expected);
      expect(standIn.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    });

    it("set/get with the default base64 response encoding", async () => {
      expect(await redis.set("greeting", "hello")).toBe("OK");
      expect(await redis.get("greeting")).toBe("hello");
      expect(await redis.get("missing")).toBeNull();
    });

    it("set/get without base64 (responseEncoding: false)", async () => {
      const plain = client({ responseEncoding: false });
      expect(await plain.set("plain", "world")).toBe("OK");
      expect(await plain.get("plain")).toBe("world");
    });

    it("round-trips a Persian (unicode) value with and without base64", async () => {
      const fa = "سلام دنیا — گفت‌وگو با اسناد ۱۲۳";
      await redis.set("fa", fa);
      expect(await redis.get("fa")).toBe(fa);
      expect(await client({ responseEncoding: false }).get("fa")).toBe(fa);
      // stored as UTF-8 bytes (ioredis-mock keeps JS strings, so its offsets count characters)
      if (expected !== "memory") expect(await redis.getrange("fa", 0, 3)).toBe("سل");
    });

    it("JSON values are (de)serialized, and automaticDeserialization: false returns the raw text", async () => {
      const doc = { id: 7, title: "قرارداد", tags: ["a", "b"], nested: { ok: true } };
      await redis.set("doc", doc);
      expect(await redis.get("doc")).toEqual(doc);
      expect(await client({ automaticDeserialization: false }).get("doc")).toBe(JSON.stringify(doc));
      await redis.set("num-text", "42");
      expect(await redis.get("num-text")).toBe(42);
      expect(await client({ automaticDeserialization: false }).get("num-text")).toBe("42");
    });

    it("incr / expire / ttl", async () => {
      const key = `counter:${unique()}`;
      expect(await redis.incr(key)).toBe(1);
      expect(await redis.incrby(key, 5)).toBe(6);
      expect(await redis.ttl(key)).toBe(-1);
      expect(await redis.expire(key, 100)).toBe(1);
      const ttl = await redis.ttl(key);
      expect(ttl).toBeGreaterThan(90);
      expect(ttl).toBeLessThanOrEqual(100);
      await redis.set(`${key}:ex`, "v", { ex: 50 });
      expect(await redis.ttl(`${key}:ex`)).toBeGreaterThan(40);
      expect(await redis.ttl("no-such-key")).toBe(-2);
    });

    it("hset / hgetall gives an object on the client (a flat array on the wire)", async () => {
      expect(await redis.hset("user:1", { name: "Sara", age: 31, city: "تهران" })).toBe(3);
      expect(await redis.hgetall("user:1")).toEqual({ name: "Sara", age: 31, city: "تهران" });
      expect(await redis.hgetall("user:none")).toBeNull();
      // raw protocol: flat array of base64 strings; integers and "OK" untouched
      const post = (body: unknown) =>
        fetch(standIn.url, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "upstash-encoding": "base64" },
          body: JSON.stringify(body),
        }).then((r) => r.json());
      const raw = (await post(["HGETALL", "user:1"])) as { result: string[] };
      expect(raw.result.map((s) => Buffer.from(s, "base64").toString("utf8")).sort()).toEqual(["31", "Sara", "age", "city", "name", "تهران"]);
      expect(await post(["SET", "raw", "x"])).toEqual({ result: "OK" });
      expect(await post(["HLEN", "user:1"])).toEqual({ result: 3 });
      expect(await post(["GET", "nope"])).toEqual({ result: null });
    });

    it("pipeline runs commands in order, each independent", async () => {
      const key = `p:${unique()}`;
      const results = await redis.pipeline().set(key, 1).incr(key).get(key).hset(`${key}:h`, { a: 1 }).hgetall(`${key}:h`).exec();
      expect(results).toEqual(["OK", 2, 2, 1, { a: 1 }]);
      await redis.set(`${key}:s`, "text");
      const withError = await redis.pipeline().incr(`${key}:s`).incr(key).exec({ keepErrors: true });
      expect(withError[0]?.error).toMatch(/ERR value is not an integer/);
      expect(withError[1]).toEqual({ error: undefined, result: 3 });
      await expect(redis.pipeline().incr(`${key}:s`).exec()).rejects.toThrow(/Command 1 \[ incr \] failed: ERR value is not an integer/);
    });

    it("auto-pipelining (which goes through /pipeline) works", async () => {
      const auto = client({ enableAutoPipelining: true });
      const key = `auto:${unique()}`;
      const [a, b, c] = await Promise.all([auto.set(key, "x"), auto.get(key), auto.incr(`${key}:n`)]);
      expect([a, b, c]).toEqual(["OK", "x", 1]);
    });

    it("multi / exec is a transaction returning every result", async () => {
      const key = `m:${unique()}`;
      const results = await redis.multi().set(key, 10).incrby(key, 5).get(key).del(key).exec();
      expect(results).toEqual(["OK", 15, 15, 1]);
    });

    it("eval with keys and args; scriptLoad / evalsha / scriptExists", async () => {
      const script = "redis.call('SET', KEYS[1], ARGV[1]); return {KEYS[1], redis.call('GET', KEYS[1]), 7}";
      expect(await redis.eval(script, ["ek"], ["ev"])).toEqual(["ek", "ev", 7]);
      const sha = await redis.scriptLoad("return {ARGV[1], #KEYS}");
      expect(sha).toBe(sha1("return {ARGV[1], #KEYS}")); // the hash the client itself would compute
      expect(await redis.evalsha(sha, ["a", "b"], ["هی"])).toEqual(["هی", 2]);
      const unknown = "f".repeat(40);
      expect(await redis.scriptExists(sha, unknown)).toEqual([1, 0]);
      await expect(redis.evalsha(unknown, [], [])).rejects.toThrow(/NOSCRIPT/);
      expect(await redis.evalRo("return redis.call('GET', KEYS[1])", ["ek"], [])).toBe("ev");
    });

    it("scripts with the `#!lua flags=allow-key-locking` shebang run via EVAL, EVALSHA (by original hash) and in multi", async () => {
      const script = "#!lua flags=allow-key-locking\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])";
      const key = `sb:${unique()}`;
      expect(await redis.eval(script, [key], [2])).toBe(2);
      expect(await redis.evalsha(sha1(script), [key], [3])).toBe(5);
      expect(await redis.evalshaRo(sha1("#!lua flags=allow-key-locking\nreturn 'ro'"), [], []).catch((e: Error) => e.message)).toMatch(/NOSCRIPT/);
      expect(await redis.multi().evalsha(sha1(script), [key], [1]).get(key).exec()).toEqual([6, 6]);
      expect(await redis.scriptLoad(script)).toBe(sha1(script));
      expect(await redis.scriptExists(sha1(script))).toEqual([1]);
      // a Lua error keeps its line number: line 2 of the original script
      await expect(redis.eval("#!lua flags=allow-key-locking\nreturn redis.call('NOPE')", [], [])).rejects.toThrow();
    });

    it("a wrong or missing token is rejected with 401 Unauthorized", async () => {
      await expect(client({ token: "wrong" }).get("greeting")).rejects.toThrow(/Unauthorized/);
      const res = await fetch(standIn.url, { method: "POST", body: JSON.stringify(["PING"]) });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: "Unauthorized" });
    });

    it("a command error is thrown with the Redis message (HTTP 400)", async () => {
      await redis.set("not-a-number", "abc");
      await expect(redis.incr("not-a-number")).rejects.toThrow(/ERR value is not an integer or out of range/);
      const res = await fetch(standIn.url, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify(["INCR", "not-a-number"]),
      });
      expect(res.status).toBe(400);
    });

    it("GET-style path commands", async () => {
      await redis.set("path-key", "path value");
      const res = await fetch(`${standIn.url}/get/path-key`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(await res.json()).toEqual({ result: "path value" });
    });

    /** A limiter that never answers from memory (ephemeralCache: false), on its own prefix. */
    const limiter = (algorithm: ConstructorParameters<typeof Ratelimit>[0]["limiter"]) =>
      new Ratelimit({ redis: client(), limiter: algorithm, prefix: `rl:${unique()}`, ephemeralCache: false, analytics: false });

    /**
     * Script commands the client sends while `fn` runs, read off the wire: @upstash/redis auto-pipelines
     * by default (the Redis object is a Proxy), so spying on its methods would see nothing.
     */
    async function scriptCalls<T>(fn: () => Promise<T>): Promise<{ result: T; sent: string[] }> {
      const sent: string[] = [];
      const realFetch = globalThis.fetch;
      const spy = vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
        const body = JSON.parse(String(init?.body ?? "[]")) as unknown[];
        const cmds = (Array.isArray(body[0]) ? body : [body]) as string[][];
        for (const c of cmds) if (/^eval/i.test(c[0] ?? "")) sent.push(String(c[0]).toUpperCase());
        return realFetch(input, init);
      });
      try {
        return { result: await fn(), sent };
      } finally {
        spy.mockRestore();
      }
    }

    /** First call: EVALSHA → NOSCRIPT → EVAL; later calls: EVALSHA (by the client's own hash) succeeds. */
    const evalshaPath = (n: number) => ["EVALSHA", "EVAL", ...Array<string>(n - 1).fill("EVALSHA")];

    it("Ratelimit.slidingWindow: N allowed, then blocked; remaining and reset right; EVALSHA path", async () => {
      const windowMs = 1000 * 1000;
      const rl = limiter(Ratelimit.slidingWindow(3, "1000 s"));
      const reset = (Math.floor(Date.now() / windowMs) + 1) * windowMs;
      const { result: results, sent } = await scriptCalls(async () => {
        const out = [];
        for (let i = 0; i < 4; i++) out.push(await rl.limit("user-a"));
        return out;
      });
      expect(results.map((r) => r.success)).toEqual([true, true, true, false]);
      expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0]);
      for (const r of results) expect([reset, reset + windowMs]).toContain(r.reset); // +window: crossed a boundary
      expect(results[0]?.limit).toBe(3);
      expect(sent).toEqual(evalshaPath(4));
      expect((await rl.limit("user-b")).remaining).toBe(2); // per identifier
    });

    it("Ratelimit.fixedWindow: N allowed, then blocked; EVALSHA path", async () => {
      const windowMs = 1000 * 1000;
      const rl = limiter(Ratelimit.fixedWindow(2, "1000 s"));
      const reset = (Math.floor(Date.now() / windowMs) + 1) * windowMs;
      const { result: results, sent } = await scriptCalls(async () => {
        const out = [];
        for (let i = 0; i < 3; i++) out.push(await rl.limit("user-a"));
        return out;
      });
      expect(results.map((r) => r.success)).toEqual([true, true, false]);
      expect(results.map((r) => r.remaining)).toEqual([1, 0, 0]);
      for (const r of results) expect([reset, reset + windowMs]).toContain(r.reset);
      expect(sent).toEqual(evalshaPath(3));
      expect(await rl.getRemaining("user-a")).toMatchObject({ remaining: 0, limit: 2 });
    });

    it("Ratelimit.tokenBucket: N allowed, then blocked; reset = first refill; EVALSHA path", async () => {
      const intervalMs = 1000 * 1000;
      const rl = limiter(Ratelimit.tokenBucket(1, "1000 s", 2));
      const before = Date.now();
      const { result: results, sent } = await scriptCalls(async () => {
        const out = [];
        for (let i = 0; i < 3; i++) out.push(await rl.limit("user-a"));
        return out;
      });
      const after = Date.now();
      expect(results.map((r) => r.success)).toEqual([true, true, false]);
      expect(results.map((r) => r.remaining)).toEqual([1, 0, 0]);
      const reset = results[0]?.reset ?? 0;
      expect(reset).toBeGreaterThanOrEqual(before + intervalMs);
      expect(reset).toBeLessThanOrEqual(after + intervalMs);
      expect(results.every((r) => r.reset === reset)).toBe(true);
      expect(sent).toEqual(evalshaPath(3));
      expect(await rl.getRemaining("user-a")).toMatchObject({ remaining: 0, reset });
    });

    it("close() stops everything it started", async () => {
      if (expected === "redis-server") expect(childProcessNames()).toContain("redis-server");
      await standIn.close();
      expect(childProcessNames()).not.toContain("redis-server");
      await expect(fetch(standIn.url, { method: "POST", body: "[]" })).rejects.toThrow();
      await standIn.close(); // idempotent
    });
  });
}

describe.skipIf(!hasRedisServer)("redis-server backend (spawned; SKIPPED when redis-server is not installed)", () => {
  backendSuite("spawned redis-server", true, "redis-server");

  it("an external Redis (redisUrl) is used as is and left running on close", async () => {
    const owner = await startUpstashStandIn({ token: TOKEN });
    try {
      expect(owner.redisUrl).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      const external = await startUpstashStandIn({ token: TOKEN, redisUrl: owner.redisUrl });
      expect(external.backend).toBe("redis");
      await new Redis({ url: external.url, token: TOKEN, enableTelemetry: false }).set("shared", "via external");
      await external.close();
      expect(await new Redis({ url: owner.url, token: TOKEN, enableTelemetry: false }).get("shared")).toBe("via external");
    } finally {
      await owner.close();
    }
    expect(childProcessNames()).not.toContain("redis-server");
  });

  it("keeps data in dataDir across restarts", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "upstash-standin-"));
    try {
      const first = await startUpstashStandIn({ token: TOKEN, dataDir });
      await new Redis({ url: first.url, token: TOKEN, enableTelemetry: false }).set("durable", { v: "ماندگار" });
      await first.close();
      const second = await startUpstashStandIn({ token: TOKEN, dataDir });
      expect(await new Redis({ url: second.url, token: TOKEN, enableTelemetry: false }).get("durable")).toEqual({ v: "ماندگار" });
      await second.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("in-memory backend (ioredis-mock)", () => {
  backendSuite("embedded engine", false, "memory");
});
