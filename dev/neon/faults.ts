// Test-only fault injection for the Neon stand-in's /sql endpoint. A rule applies to the requests whose
// Neon-Connection-String contains its `match` marker (e.g. a database name only one test uses), so one
// stand-in serves every test while a single test sees its database frozen, failing or unreachable.
import type { IncomingMessage, ServerResponse } from "node:http";
import { readBody, sendJson } from "../lib/http.ts";

export interface NeonFaultRule {
  id: number;
  match: string;
  /** Hold each request unanswered until the rule is removed, as a hung Postgres or compute looks to the driver. */
  freeze?: true;
  /** Answer with this HTTP status (500-599), as Neon's proxy does when it cannot reach the compute. */
  status?: number;
  /** Start the answer, then destroy the connection: the client sees the connection lost mid-response. */
  drop?: true;
  /** Requests a status or drop rule still applies to; absent = until removed. */
  remaining?: number;
  /** Requests held right now by a freeze. */
  held: number;
}

interface LiveRule extends NeonFaultRule {
  thaw: Promise<void>;
  release: () => void;
}

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 1;

export class NeonFaults {
  #rules: LiveRule[] = [];
  #nextId = 1;

  /** Validates and registers a rule; returns an error message for a bad spec. */
  add(spec: unknown): NeonFaultRule | string {
    if (!spec || typeof spec !== "object" || Array.isArray(spec)) return "body must be a JSON object";
    const s = spec as Record<string, unknown>;
    if (typeof s.match !== "string" || s.match === "") return "'match' must be a non-empty string";
    const kinds = [s.freeze === true, s.status !== undefined, s.drop === true].filter(Boolean).length;
    if (kinds !== 1) return "give exactly one of 'freeze': true, 'status', 'drop': true";
    if (s.status !== undefined && !(isCount(s.status) && s.status >= 500 && s.status <= 599)) return "'status' must be 500-599";
    if (s.times !== undefined && !isCount(s.times)) return "'times' must be a positive integer";
    if (s.times !== undefined && s.freeze) return "a freeze lasts until it is removed: no 'times'";
    let release!: () => void;
    const thaw = new Promise<void>((resolve) => (release = resolve));
    const rule: LiveRule = {
      id: this.#nextId++,
      match: s.match,
      ...(s.freeze === true ? { freeze: true as const } : {}),
      ...(s.status !== undefined ? { status: s.status as number } : {}),
      ...(s.drop === true ? { drop: true as const } : {}),
      ...(s.times !== undefined ? { remaining: s.times as number } : {}),
      held: 0,
      thaw,
      release,
    };
    this.#rules.push(rule);
    return this.#public(rule);
  }

  /** The first live rule matching this connection string, consumed once (synchronously, so never twice). */
  take(connectionString: string): LiveRule | undefined {
    const rule = this.#rules.find((r) => connectionString.includes(r.match));
    if (rule?.remaining !== undefined && --rule.remaining === 0) this.#forget(rule);
    return rule;
  }

  remove(id: number): boolean {
    const rule = this.#rules.find((r) => r.id === id);
    if (rule) this.#forget(rule);
    return Boolean(rule);
  }

  clear(): void {
    for (const rule of [...this.#rules]) this.#forget(rule);
  }

  list(): NeonFaultRule[] {
    return this.#rules.map((r) => this.#public(r));
  }

  #forget(rule: LiveRule): void {
    this.#rules = this.#rules.filter((r) => r !== rule);
    rule.release(); // a removed freeze thaws: what it held is answered (if its client is still there)
  }

  #public({ thaw: _thaw, release: _release, ...rule }: LiveRule): NeonFaultRule {
    return { ...rule };
  }
}

/**
 * Applies the matching rule to a /sql request. Resolves true when the request has been dealt with (answered,
 * dropped, or abandoned by its client while frozen), false when it should be served normally.
 */
export async function applyFault(faults: NeonFaults, req: IncomingMessage, res: ServerResponse, cors: Record<string, string>): Promise<boolean> {
  const connectionString = req.headers["neon-connection-string"];
  const rule = typeof connectionString === "string" ? faults.take(connectionString) : undefined;
  if (!rule) return false;
  if (rule.drop) {
    // The query arrived and the answer began, then the connection was lost (a compute restarting mid-query).
    await readBody(req);
    res.writeHead(200, { ...cors, "content-type": "application/json", "content-length": "4096" });
    res.write('{"fields":[', () => req.socket.destroy());
    return true;
  }
  if (rule.status !== undefined) {
    sendJson(res, rule.status, { message: `stand-in fault: HTTP ${rule.status}` }, cors);
    return true;
  }
  rule.held++;
  // Like Neon's proxy, which cancels a query when its HTTP client goes away: an abandoned request is never run.
  const gone = new Promise<void>((resolve) => res.once("close", resolve));
  await Promise.race([rule.thaw, gone]);
  rule.held--;
  return res.destroyed || res.writableEnded;
}
