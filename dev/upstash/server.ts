// Local stand-in for Upstash Redis' REST API, so the unchanged @upstash/redis and @upstash/ratelimit
// clients can run against it (UPSTASH_REDIS_REST_URL / UPSTASH_REDIS_REST_TOKEN).
//   POST /            ["SET","k","v"]        → {"result":…} | 400 {"error":"ERR …"}
//   POST /pipeline    [[…],[…]]              → [{"result":…}|{"error":…}, …]  (each independent)
//   POST /multi-exec  [[…],[…]]              → same, run atomically as MULTI/EXEC
//   GET|POST /set/k/v                        → path-style command (a POST body is the last argument)
// With `Upstash-Encoding: base64` every string in a result is base64 (recursively), as the client
// asks for by default; integers and nulls stay as they are, and "OK" is sent as is.

import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import { BodyTooLargeError, closeServer, listen, readBody, sendJson } from "../lib/http.ts";
import type { Backend, Command, Reply } from "./backend.ts";
import { externalRedisBackend, findRedisServer, memoryBackend, spawnRedisServerBackend } from "./backend.ts";
import type { Runner } from "./scripts.ts";
import { withScripts } from "./scripts.ts";

export interface UpstashStandIn {
  url: string; // http://127.0.0.1:PORT
  token: string;
  backend: "redis-server" | "redis" | "memory"; // spawned redis-server on PATH | external REDIS_URL | embedded in-memory engine
  /** redis:// URL of the Redis behind it (absent for the in-memory engine). */
  redisUrl?: string;
  close(): Promise<void>; // also stops a redis-server it spawned; nothing left running
}

export interface UpstashStandInOptions {
  token: string;
  port?: number;
  host?: string;
  redisUrl?: string; // use this Redis (external) if given
  spawnRedisServer?: boolean; // default true: if `redis-server` is on PATH, start it on a free port
  dataDir?: string; // redis-server persistence (AOF) directory; none when absent
  log?: (line: string) => void;
}

// Commands that would change the state of the shared backend connection for every client.
const REFUSED = new Set([
  "MULTI",
  "EXEC",
  "DISCARD",
  "WATCH",
  "UNWATCH",
  "SELECT",
  "SWAPDB",
  "QUIT",
  "RESET",
  "HELLO",
  "AUTH",
  "CLIENT",
  "MONITOR",
  "SUBSCRIBE",
  "PSUBSCRIBE",
  "SSUBSCRIBE",
  "UNSUBSCRIBE",
  "PUNSUBSCRIBE",
  "SUNSUBSCRIBE",
  "SHUTDOWN",
]);

class HttpError extends Error {
  status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** JSON args may be numbers, booleans, null or objects: Redis only knows strings. */
function toArg(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === null || v === undefined) return "";
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

function parseCommand(v: unknown): Command {
  if (!Array.isArray(v) || typeof v[0] !== "string") throw new HttpError(400, "ERR failed to parse command");
  return v.map(toArg) as Command;
}

function parseBatch(body: Buffer): Command[] {
  const v = parseJson(body);
  if (!Array.isArray(v) || v.length === 0) throw new HttpError(400, "ERR failed to parse pipeline request");
  return v.map(parseCommand);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpError(400, "ERR failed to parse command");
  }
}

/** Raw reply → JSON value. */
function encode(r: Reply | Error, base64: boolean): unknown {
  if (r instanceof Error) return r.message; // e.g. an error nested in a Lua table reply
  if (Buffer.isBuffer(r)) {
    // The client keeps a literal "OK" and base64-decodes every other string.
    if (!base64 || (r.length === 2 && r.toString("latin1") === "OK")) return r.toString("utf8");
    return r.toString("base64");
  }
  if (Array.isArray(r)) return r.map((x) => encode(x, base64));
  return r; // number | null
}

/** Redis errors read "CODE message"; anything else (connection lost, …) is the stand-in's fault. */
const isCommandError = (err: Error) => /^[A-Z][A-Z_]* /.test(err.message);

const refusedError = (name: string) => `ERR Command is not allowed: ${name.toLowerCase()}`;

async function execOne(runner: Runner, cmd: Command): Promise<Reply> {
  if (REFUSED.has(cmd[0].toUpperCase())) throw new Error(refusedError(cmd[0]));
  return runner.exec(cmd);
}

function authorized(req: IncomingMessage, url: URL, token: string): boolean {
  const header = req.headers.authorization ?? "";
  return header === `Bearer ${token}` || url.searchParams.get("_token") === token;
}

async function handle(runner: Runner, token: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://stand-in");
  if (!authorized(req, url, token)) return sendJson(res, 401, { error: "Unauthorized" });
  const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
  const body = await readBody(req);
  const path = url.pathname.replace(/\/+$/, "");

  if (path === "/pipeline" || path === "/multi-exec") {
    if (req.method !== "POST") throw new HttpError(405, "ERR method not allowed");
    const cmds = parseBatch(body);
    let replies: Array<Reply | Error>;
    if (path === "/pipeline") {
      replies = [];
      // In order, one after the other, like Upstash: a later command sees the earlier ones' effects.
      for (const cmd of cmds) replies.push(await execOne(runner, cmd).catch((err: Error) => err));
    } else {
      const refused = cmds.find((c) => REFUSED.has(c[0].toUpperCase()));
      if (refused) throw new HttpError(400, refusedError(refused[0]));
      replies = await runner.multi(cmds); // an EXECABORT rejects the whole transaction → 400 below
    }
    return sendJson(
      res,
      200,
      replies.map((r) => (r instanceof Error ? { error: r.message } : { result: encode(r, base64) })),
    );
  }

  let cmd: Command;
  if (path === "" && req.method === "POST") cmd = parseCommand(parseJson(body));
  else {
    // Path style: /set/key/value, with a POST body as the final argument.
    const parts = path.split("/").slice(1).map(decodeURIComponent);
    if (req.method === "POST" && body.length > 0) parts.push(body.toString("utf8"));
    cmd = parseCommand(parts);
  }
  sendJson(res, 200, { result: encode(await execOne(runner, cmd), base64) });
}

async function openBackend(opts: UpstashStandInOptions, log: (line: string) => void): Promise<Backend> {
  if (opts.redisUrl) return externalRedisBackend(opts.redisUrl);
  const bin = opts.spawnRedisServer === false ? undefined : findRedisServer();
  if (bin) return spawnRedisServerBackend(bin, opts.dataDir, log);
  return memoryBackend();
}

export async function startUpstashStandIn(opts: UpstashStandInOptions): Promise<UpstashStandIn> {
  const log = opts.log ?? (() => {});
  const backend = await openBackend(opts, log);
  const runner = withScripts(backend);
  const server = createServer((req, res) => {
    handle(runner, opts.token, req, res).catch((err: Error) => {
      if (res.headersSent) return res.destroy();
      const status = err instanceof HttpError ? err.status : err instanceof BodyTooLargeError ? 413 : isCommandError(err) ? 400 : 500;
      if (status === 500) log(`[upstash] ${req.method} ${req.url}: ${err.stack ?? err.message}`);
      sendJson(res, status, { error: status === 500 ? `ERR ${err.message}` : err.message });
    });
  });
  let port: number;
  try {
    port = await listen(server, opts.port ?? 0, opts.host ?? "127.0.0.1");
  } catch (err) {
    await backend.close();
    throw err;
  }
  const host = opts.host && opts.host !== "0.0.0.0" && opts.host !== "::" ? opts.host : "127.0.0.1";
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  log(`[upstash] stand-in on ${url} (backend: ${backend.kind}${backend.redisUrl ? ` ${backend.redisUrl}` : ""})`);
  let closing: Promise<void> | undefined;
  return {
    url,
    token: opts.token,
    backend: backend.kind,
    redisUrl: backend.redisUrl,
    close: () => (closing ??= closeServer(server).then(() => backend.close())),
  };
}
