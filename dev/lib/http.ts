// Small helpers shared by the local stand-ins (Neon, Upstash, OpenAI).
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { type AddressInfo, createServer } from "node:net";

/** Listens on host:port (port 0 = any free port) and resolves with the port actually bound. */
export function listen(server: Server, port = 0, host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Closes a server and every connection it still holds (keep-alive sockets included). */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export class BodyTooLargeError extends Error {}

/** Reads a request body, refusing more than `limit` bytes. */
export async function readBody(req: IncomingMessage, limit = 64 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLargeError(`request body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

/** A stand-in's fault rules, as its test-control endpoint serves them. */
export interface FaultRules {
  add(spec: unknown): object | string;
  remove(id: number): boolean;
  clear(): void;
  list(): unknown[];
}

/** The test-control endpoint of a stand-in: GET lists rules, POST adds one, DELETE /__faults[/id] removes one or all. */
export async function serveFaultRules(faults: FaultRules, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  if (req.method === "GET" && path === "/__faults") return sendJson(res, 200, { faults: faults.list() });
  if (req.method === "DELETE" && path === "/__faults") {
    faults.clear();
    return sendJson(res, 200, { cleared: true });
  }
  if (req.method === "DELETE") return sendJson(res, 200, { deleted: faults.remove(Number(path.slice("/__faults/".length))) });
  if (req.method === "POST" && path === "/__faults") {
    let spec: unknown;
    try {
      spec = JSON.parse((await readBody(req)).toString("utf8"));
    } catch {
      return sendJson(res, 400, { error: "body must be JSON" });
    }
    const rule = faults.add(spec);
    return typeof rule === "string" ? sendJson(res, 400, { error: rule }) : sendJson(res, 201, rule);
  }
  sendJson(res, 405, { error: "use GET, POST or DELETE" });
}

/** A port free right now on 127.0.0.1, for a child process to bind (it may race with others: callers retry). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
