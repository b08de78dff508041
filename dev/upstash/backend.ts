// Backends for the Upstash stand-in: a real Redis reached with ioredis (spawned redis-server or an
// external REDIS_URL), or ioredis-mock as an embedded in-memory engine that also runs Lua.
// Every backend speaks raw Redis: commands as string arrays in, raw replies (Buffers for strings) out.

import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { accessSync, constants, mkdirSync } from "node:fs";
import { delimiter, join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "../lib/http.ts";

/** A raw Redis reply: bulk/status strings as Buffers so base64 encodes the real bytes. */
export type Reply = Buffer | number | null | Reply[];
/** A command as Redis gets it: name first, every argument a string. */
export type Command = [name: string, ...args: string[]];

export interface Backend {
  kind: "redis-server" | "redis" | "memory";
  /** redis:// URL of the real Redis behind it (not for the in-memory engine). */
  redisUrl?: string;
  /** Runs one command; rejects with an Error whose message is the Redis error text ("ERR …"). */
  exec(cmd: Command): Promise<Reply>;
  /** Runs commands as one MULTI/EXEC; per-command runtime errors come back as Error items. */
  multi(cmds: Command[]): Promise<Array<Reply | Error>>;
  close(): Promise<void>;
}

// ---------- real Redis via ioredis ----------

function ioredisBackend(client: Redis, kind: Backend["kind"], redisUrl: string, onClose?: () => Promise<void>): Backend {
  // Upper-casing the name matters: ioredis keys its argument/reply transformers by the lower-case
  // name (e.g. "hgetall" → object), so "HGETALL" gets the raw flat array. callBuffer keeps bytes.
  const send = (c: { callBuffer(...a: string[]): unknown }, [name, ...args]: Command) => c.callBuffer(name.toUpperCase(), ...args);
  return {
    kind,
    redisUrl,
    exec: (cmd) => send(client, cmd) as Promise<Reply>,
    async multi(cmds) {
      // ioredis writes MULTI…EXEC in one go, so other requests on the shared connection can't interleave.
      const tx = client.multi();
      for (const cmd of cmds) send(tx as unknown as { callBuffer(...a: string[]): unknown }, cmd);
      const res = await tx.exec(); // rejects with EXECABORT when a command was refused at queue time
      if (!res) throw new Error("EXECABORT Transaction discarded");
      return res.map(([err, value]) => err ?? (value as Reply));
    },
    async close() {
      await client.quit().catch(() => {});
      client.disconnect();
      await onClose?.();
    },
  };
}

/** Connects to a Redis at `url` and waits until it answers PING. */
async function connect(url: string, timeoutMs: number, alive: () => boolean = () => true): Promise<Redis> {
  const client = new Redis(url, {
    retryStrategy: (n) => Math.min(n * 50, 1000),
    maxRetriesPerRequest: 3,
    lazyConnect: true,
  });
  client.on("error", () => {}); // reconnects are handled by retryStrategy; replies carry real errors
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (client.status === "wait") await client.connect();
      await client.ping();
      return client;
    } catch (err) {
      if (Date.now() > deadline || !alive()) {
        client.disconnect();
        throw new Error(`Redis at ${url} did not answer PING: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export async function externalRedisBackend(url: string): Promise<Backend> {
  return ioredisBackend(await connect(url, 10_000), "redis", url);
}

/** Path of `redis-server` on PATH, or undefined. */
export function findRedisServer(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const file = join(dir || ".", "redis-server");
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {}
  }
  return undefined;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 5000); // SIGTERM lets it flush AOF first
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Spawns redis-server on a free 127.0.0.1 port; it is stopped on close() and on process exit. */
export async function spawnRedisServerBackend(bin: string, dataDir: string | undefined, log: (line: string) => void): Promise<Backend> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const port = await freePort(); // tiny race with other processes: retried below
    const persistence = dataDir ? ["--dir", dataDir, "--appendonly", "yes"] : ["--save", "", "--appendonly", "no"];
    const child = spawn(bin, ["--port", String(port), "--bind", "127.0.0.1", "--daemonize", "no", "--loglevel", "warning", ...persistence], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const killOnExit = () => child.kill("SIGTERM");
    process.on("exit", killOnExit);
    let exited = false;
    child.once("exit", () => {
      exited = true;
      process.off("exit", killOnExit);
    });
    child.once("error", (err) => log(`[redis-server] ${err.message}`)); // e.g. ENOENT; "exit" follows
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding("utf8").on("data", (chunk: string) => {
        for (const line of chunk.split("\n")) if (line.trim()) log(`[redis-server] ${line}`);
      });
    }
    const url = `redis://127.0.0.1:${port}`;
    try {
      const client = await connect(url, 10_000, () => !exited);
      log(`[upstash] redis-server pid ${child.pid} on ${url}${dataDir ? ` (data in ${dataDir})` : ""}`);
      return ioredisBackend(client, "redis-server", url, () => stopChild(child));
    } catch (err) {
      await stopChild(child);
      if (attempt >= 3) throw err;
    }
  }
}

// ---------- embedded in-memory engine (ioredis-mock) ----------

// ioredis-mock hands a Lua script redis.call() replies as JS objects in which a nil element is a
// `null` userdata, where Redis gives false (e.g. HMGET on a missing hash, as in the rate limiter's
// token bucket). This prelude turns top-level replies into real Lua tables with false for those.
// It is one line so the script's own line numbers don't move.
const LUA_PRELUDE =
  "do local c, p = redis.call, redis.pcall; local function fix(v) if type(v) ~= 'userdata' then return v end; " +
  "local t = {}; for i = 1, #v do local x = v[i]; if type(x) == 'userdata' and tostring(x) == 'null' then t[i] = false else t[i] = x end end; return t end; " +
  "redis.call = function(...) return fix(c(...)) end; redis.pcall = function(...) return fix(p(...)) end end ";

/** ioredis-mock only understands upper-case options of SET and ZADD; @upstash/redis sends lower-case. */
function upperOptions(name: string, args: string[]): string[] {
  if (name === "set") return args.map((a, i) => (i >= 2 ? a.toUpperCase() : a)); // SET key value [EX n|NX|…]
  if (name === "zadd") {
    const out = [...args];
    for (let i = 1; i < out.length && /^(nx|xx|gt|lt|ch|incr)$/i.test(out[i] ?? ""); i++) out[i] = (out[i] ?? "").toUpperCase();
    return out;
  }
  return args;
}

type MockFn = (...args: unknown[]) => unknown;
type Mock = { flushall: MockFn; disconnect: MockFn; [command: string]: MockFn | undefined };
let mockInstances = 0;

/** Maps ioredis-mock's JS-flavoured errors onto Redis error texts. */
function mockError(err: unknown, name: string): Error {
  const msg = err instanceof Error ? err.message : String(err);
  if (msg.startsWith("Unsupported command")) return new Error(`ERR unknown command '${name}'`);
  if (/^Key .* does not contain a/.test(msg)) return new Error("WRONGTYPE Operation against a key holding the wrong kind of value");
  return new Error(/^[A-Z]+ /.test(msg) ? msg : `ERR ${msg}`);
}

/** Brings ioredis-mock replies back to raw Redis shape. `lua`: apply Redis' Lua→RESP conversion. */
function mockReply(v: unknown, lua: boolean): Reply {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === "string") return Buffer.from(v);
  if (typeof v === "number") {
    // the mock returns NaN where Redis refuses a non-integer (INCR on "abc", …)
    if (Number.isNaN(v)) throw new Error("ERR value is not an integer or out of range");
    return lua ? Math.trunc(v) : v; // Redis turns Lua numbers into integers
  }
  if (typeof v === "boolean") return v ? 1 : lua ? null : 0; // Lua false → nil
  if (Array.isArray(v)) return v.map((x) => mockReply(x, lua));
  if (typeof v === "object") {
    // HGETALL comes back as an object: flatten it to [field, value, …] like Redis
    return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => [Buffer.from(k), mockReply(x, lua)]);
  }
  return Buffer.from(String(v));
}

export async function memoryBackend(): Promise<Backend> {
  const { default: RedisMock } = await import("ioredis-mock");
  // ioredis-mock shares data between instances with the same host:port, so give each its own host.
  const mock = new RedisMock({ host: `upstash-standin-${process.pid}-${++mockInstances}` }) as unknown as Mock;

  async function run([command, ...rawArgs]: Command): Promise<Reply> {
    let name = command.toLowerCase();
    const args = upperOptions(name, rawArgs);
    if (name === "script") {
      // ioredis-mock has no SCRIPT; the script layer above keeps its own cache, so these suffice.
      const [sub = "", script] = args;
      if (sub.toUpperCase() === "LOAD" && script !== undefined && args.length === 2)
        return Buffer.from(createHash("sha1").update(script).digest("hex"));
      if (sub.toUpperCase() === "EXISTS") return args.slice(1).map(() => 0);
      if (sub.toUpperCase() === "FLUSH") return Buffer.from("OK");
      throw new Error(`ERR unknown subcommand or wrong number of arguments for '${sub}'`);
    }
    if (name === "eval_ro" || name === "evalsha_ro") name = name.slice(0, -3); // the mock lacks the _RO variants
    if (name === "eval" && args[0] !== undefined) args[0] = LUA_PRELUDE + args[0];
    const fn = mock[`${name}Buffer`] ?? mock[name];
    if (typeof fn !== "function" || name === "constructor") throw new Error(`ERR unknown command '${command}'`);
    let raw: unknown;
    try {
      raw = await fn.apply(mock, args);
    } catch (err) {
      throw mockError(err, command);
    }
    return mockReply(raw, name === "eval" || name === "evalsha");
  }

  // One queue for everything: no request interleaves with another, which makes /multi-exec atomic.
  let queue: Promise<unknown> = Promise.resolve();
  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = queue.then(fn);
    queue = p.catch(() => {});
    return p;
  }

  return {
    kind: "memory",
    exec: (cmd) => serial(() => run(cmd)),
    multi: (cmds) =>
      serial(async () => {
        const out: Array<Reply | Error> = [];
        for (const cmd of cmds) out.push(await run(cmd).catch((err: Error) => err));
        return out;
      }),
    async close() {
      await serial(async () => {
        await mock.flushall(); // drop the data: the mock keeps it in a module-level map
        await mock.disconnect();
      });
    },
  };
}
