// Malformed input is a 400 in the error shape, never a 500, and malformed auth requests still count against the rate limit.
import { describe, expect, it } from "vitest";
import { call, expectErrorShape, json, login, uniqueIp } from "../support/api.ts";
import { sql } from "../support/db.ts";

const MALFORMED_BODIES: Array<[string, string]> = [
  ["null", "null"],
  ["an array", "[]"],
  ["a string", '"x"'],
  ["a number", "5"],
  ["a non-string email", '{"email":5}'],
  ["an email that is an object", '{"email":{"toString":"x"}}'],
  ["invalid JSON", '{"email": '],
];

describe("malformed auth bodies", () => {
  for (const path of ["/v1/auth/request-code", "/v1/auth/verify-code"])
    it.each(MALFORMED_BODIES)(`${path}: refuses %s with 400 validation_failed`, async (_label, body) => {
      const res = await call(path, { body, headers: { "Content-Type": "application/json" } });
      expect(res.status).toBe(400);
      expectErrorShape(await json(res), "validation_failed");
    });

  it("counts malformed bodies against the per-IP limit (30 per window), then answers 429", async () => {
    const ip = uniqueIp();
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const [, body] = MALFORMED_BODIES[i % MALFORMED_BODIES.length]!;
      const res = await call("/v1/auth/request-code", { body, headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip } });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([...Array(30).fill(400), ...Array(10).fill(429)]);
  });
});

/** A cursor as the API encodes them: base64 of a JSON [timestamp, id] pair. */
const craft = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, "");

const BAD_CURSORS: Array<[string, string]> = [
  ["not base64", "%%%"],
  ["base64 of something that is not JSON", btoa("not json")],
  ["a JSON object", craft({ createdAt: "2020-01-01T00:00:00.000Z", id: crypto.randomUUID() })],
  ["a pair with a 36-dash id", craft(["2020-01-01T00:00:00.000Z", "-".repeat(36)])],
  ["a pair with a non-hex id", craft(["2020-01-01T00:00:00.000Z", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"])],
  ["a pair with a numeric id", craft(["2020-01-01T00:00:00.000Z", 7])],
  ["a date in year 0000", craft(["0000-01-01T00:00:00.000Z", crypto.randomUUID()])],
  ["a date in year 9999", craft(["9999-12-31T23:59:59.999Z", crypto.randomUUID()])],
  ["an impossible date", craft(["2023-02-30T00:00:00.000Z", crypto.randomUUID()])],
  ["a date that is not ISO", craft(["Mon, 01 Jan 2024 00:00:00 GMT", crypto.randomUUID()])],
  ["a numeric timestamp", craft([1_700_000_000_000, crypto.randomUUID()])],
  ["an extended-year date", craft(["+275760-09-13T00:00:00.000Z", crypto.randomUUID()])],
  ["the issue's crafted cursor", craft(["2020-01-01T00:00:00Z", "------------------------------------"])],
  ["a pair with an extra element", craft(["2020-01-01T00:00:00.000Z", crypto.randomUUID(), "x"])],
];

describe("crafted cursors", () => {
  for (const path of ["/v1/files", "/v1/chat/sessions"])
    it.each(BAD_CURSORS)(`${path}: refuses %s with 400 invalid_cursor`, async (_label, cursor) => {
      const { token } = await login();
      const res = await call(`${path}?cursor=${encodeURIComponent(cursor)}`, { token });
      expect(res.status).toBe(400);
      expectErrorShape(await json(res), "invalid_cursor");
    });
});

describe("chat session pages", () => {
  it("pages through the sessions, most recently active first, with next_cursor", async () => {
    const { token, user } = await login();
    const ids: string[] = [];
    // Five sessions a minute apart; the newest first.
    for (let i = 0; i < 5; i++) {
      const [row] = await sql().query(
        "insert into chat_sessions (tenant_id, user_id, updated_at) values ('acme', $1, now() - make_interval(mins => $2)) returning id",
        [user.id, i],
      );
      ids.push((row as { id: string }).id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await call(`/v1/chat/sessions?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { token });
      expect(res.status).toBe(200);
      const page: { sessions: Array<{ id: string }>; next_cursor: string | null } = await json(res);
      seen.push(...page.sessions.map((s) => s.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual(ids);
    expect(pages).toBe(3);
  });

  it.each([
    ["/v1/chat/sessions", "sessions", "insert into chat_sessions (tenant_id, user_id, updated_at) values ('acme', $1, $2::timestamptz) returning id"],
    [
      "/v1/files",
      "files",
      `insert into documents (tenant_id, user_id, filename, size_bytes, sha256, r2_key, created_at)
       values ('acme', $1, 'a.pdf', 1, gen_random_uuid()::text, 'k', $2::timestamptz) returning id`,
    ],
  ])("%s skips no row created within the same millisecond as a page's last one", async (path, key, insert) => {
    const { token, user } = await login();
    // Three rows 0.2 ms apart, as concurrent requests write them.
    for (const at of ["2026-06-01T10:00:00.1001Z", "2026-06-01T10:00:00.1003Z", "2026-06-01T10:00:00.1005Z"])
      await sql().query(insert, [user.id, at]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call(`${path}?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { token });
      expect(res.status).toBe(200);
      const page: Record<string, Array<{ id: string }>> & { next_cursor: string | null } = await json(res);
      seen.push(...page[key]!.map((r) => r.id));
      cursor = page.next_cursor;
    } while (cursor && seen.length < 10);
    expect(new Set(seen).size).toBe(3);
    expect(seen).toHaveLength(3);
  });
});
