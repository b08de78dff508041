// Fault injection for tests. A rule applies only to requests whose raw body contains its `match`
// marker, so many tests can share one stand-in: each puts its own unique marker in its input.

export type FaultEndpoint = "embeddings" | "chat";

export interface FaultRule {
  id: number;
  match: string;
  endpoint?: FaultEndpoint;
  /** Answer with this HTTP status and an OpenAI-shaped error (429 adds retry-after). */
  status?: number;
  /** Wait this long before answering (streams: before the headers and first chunk). */
  delay_ms?: number;
  /** Streams: send this many SSE events, then destroy the socket (no [DONE]). Non-stream: drop the socket unanswered. */
  cut_after_chunks?: number;
  /** For 429: retry-after-ms header value (default: `retry-after: 1` only, like the API). */
  retry_after_ms?: number;
  /**
   * Chat: answer with exactly this text (streamed, cut and metered like any answer) instead of the extracted one: a
   * model output a test chooses, such as Markdown, a citation number that was not sent, or a script payload.
   */
  reply?: string;
  /** How many matching requests the rule still applies to. */
  remaining: number;
}

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;

export class FaultRegistry {
  #rules: FaultRule[] = [];
  #nextId = 1;

  /** Validates and registers a rule; returns an error message for a bad spec. */
  add(spec: unknown): FaultRule | string {
    if (!spec || typeof spec !== "object" || Array.isArray(spec)) return "body must be a JSON object";
    const s = spec as Record<string, unknown>;
    if (typeof s.match !== "string" || s.match === "") return "'match' must be a non-empty string";
    if (s.endpoint !== undefined && s.endpoint !== "embeddings" && s.endpoint !== "chat") return '\'endpoint\' must be "embeddings" or "chat"';
    if (s.status !== undefined && !(isCount(s.status) && s.status >= 400 && s.status <= 599))
      return "'status' must be an HTTP error status (400-599)";
    for (const k of ["delay_ms", "cut_after_chunks", "retry_after_ms"] as const)
      if (s[k] !== undefined && !isCount(s[k])) return `'${k}' must be a non-negative integer`;
    if (s.times !== undefined && !(isCount(s.times) && s.times >= 1)) return "'times' must be a positive integer";
    if (s.reply !== undefined && (typeof s.reply !== "string" || s.endpoint !== "chat")) return "'reply' must be a string, with endpoint \"chat\"";
    if (s.status === undefined && s.delay_ms === undefined && s.cut_after_chunks === undefined && s.reply === undefined)
      return "give at least one of 'status', 'delay_ms', 'cut_after_chunks', 'reply'";
    const rule: FaultRule = {
      id: this.#nextId++,
      match: s.match,
      endpoint: s.endpoint as FaultEndpoint | undefined,
      status: s.status as number | undefined,
      delay_ms: s.delay_ms as number | undefined,
      cut_after_chunks: s.cut_after_chunks as number | undefined,
      retry_after_ms: s.retry_after_ms as number | undefined,
      reply: s.reply as string | undefined,
      remaining: (s.times as number | undefined) ?? 1,
    };
    this.#rules.push(rule);
    return rule;
  }

  /**
   * The first live rule matching this request, consumed once. Synchronous (no await between the
   * check and the decrement), so concurrent requests can never both take a `times: 1` rule.
   */
  take(endpoint: FaultEndpoint, rawBody: string): FaultRule | undefined {
    const i = this.#rules.findIndex((r) => (!r.endpoint || r.endpoint === endpoint) && rawBody.includes(r.match));
    if (i < 0) return undefined;
    const rule = this.#rules[i]!;
    if (--rule.remaining === 0) this.#rules.splice(i, 1); // used up: forget it
    return { ...rule };
  }

  remove(id: number): boolean {
    const before = this.#rules.length;
    this.#rules = this.#rules.filter((r) => r.id !== id);
    return this.#rules.length < before;
  }

  clear(): void {
    this.#rules = [];
  }

  list(): FaultRule[] {
    return this.#rules.map((r) => ({ ...r }));
  }
}
