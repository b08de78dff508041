// The organisation's usage for its admins: per user and model over UTC days, as JSON and as a CSV safe to open in a
// spreadsheet. Usage events are written straight to the table, as the recording code would, at chosen times: what
// is under test is the report, and its day boundaries need exact timestamps.
import { beforeAll, describe, expect, it } from "vitest";
import { call, expectErrorShape, json, uniqueEmail } from "../support/api.ts";
import { sql } from "../support/db.ts";
import { createOrg } from "../support/org.ts";

type Org = Awaited<ReturnType<typeof createOrg>>;

interface UsageEvent {
  userId: string | null;
  kind: "chat" | "embedding" | "ocr";
  model: string;
  at: string;
  prompt?: number;
  completion?: number;
  embedding?: number;
}

async function record(tenant: string, events: UsageEvent[]) {
  for (const e of events)
    await sql().query(
      "insert into usage_events (tenant_id, user_id, kind, model, prompt_tokens, completion_tokens, embedding_tokens, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8)",
      [tenant, e.userId, e.kind, e.model, e.prompt ?? 0, e.completion ?? 0, e.embedding ?? 0, e.at],
    );
}

async function insertUser(tenant: string, email: string, kind: "person" | "api_key" = "person"): Promise<string> {
  const [row] = (await sql().query("insert into users (tenant_id, email, kind) values ($1, $2, $3) returning id", [tenant, email, kind])) as [
    { id: string },
  ];
  return row.id;
}

const usage = (org: Org, query: string) => call(`/v1/admin/usage${query}`, { tenant: org.tenant, token: org.owner.token });
const totals = (requests: number, prompt: number, completion: number, embedding: number) => ({
  requests,
  prompt_tokens: prompt,
  completion_tokens: completion,
  embedding_tokens: embedding,
  total_tokens: prompt + completion + embedding,
});

let org: Org;
let alice: { id: string; email: string };
let key: { id: string; email: string };
let formula: { id: string; email: string };

beforeAll(async () => {
  org = await createOrg();
  alice = { email: uniqueEmail("alice"), id: "" };
  alice.id = await insertUser(org.tenant, alice.email);
  key = { email: uniqueEmail("key"), id: "" };
  key.id = await insertUser(org.tenant, key.email, "api_key");
  formula = { email: `=HYPERLINK("http://evil.test","x")${uniqueEmail("f")}`, id: "" };
  formula.id = await insertUser(org.tenant, formula.email);
  const other = await createOrg();
  await record(org.tenant, [
    // Just outside 2025-03-01..2025-03-02 on both sides.
    { userId: alice.id, kind: "chat", model: "gpt-4o-mini", at: "2025-02-28T23:59:59.999Z", prompt: 1000 },
    { userId: alice.id, kind: "chat", model: "gpt-4o-mini", at: "2025-03-03T00:00:00.000Z", prompt: 1000 },
    // Inside.
    { userId: alice.id, kind: "chat", model: "gpt-4o-mini", at: "2025-03-01T00:00:00.000Z", prompt: 100, completion: 20 },
    { userId: alice.id, kind: "embedding", model: "text-embedding-3-small", at: "2025-03-01T12:00:00Z", embedding: 50 },
    { userId: alice.id, kind: "chat", model: "gpt-4o-mini", at: "2025-03-02T23:59:59.999Z", prompt: 10, completion: 5 },
    { userId: key.id, kind: "embedding", model: "text-embedding-3-small", at: "2025-03-02T08:00:00Z", embedding: 7 },
    { userId: null, kind: "chat", model: "gpt-4o-mini", at: "2025-03-01T09:00:00Z", prompt: 3, completion: 1 },
    { userId: formula.id, kind: "ocr", model: '@SUM(A1),"x"', at: "2025-03-02T10:00:00Z", prompt: 2, completion: 2 },
  ]);
  await record(other.tenant, [{ userId: other.owner.user.id, kind: "chat", model: "gpt-4o-mini", at: "2025-03-01T10:00:00Z", prompt: 99_999 }]);
});

describe("GET /v1/admin/usage", () => {
  it("sums the organisation's usage over the UTC days, both included, per user and per model", async () => {
    const res = await usage(org, "?from=2025-03-01&to=2025-03-02");
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.from).toBe("2025-03-01");
    expect(body.to).toBe("2025-03-02");
    expect(body.totals).toEqual(totals(6, 115, 28, 57));
    expect(body.by_model).toEqual({
      "gpt-4o-mini": totals(3, 113, 26, 0),
      "text-embedding-3-small": totals(2, 0, 0, 57),
      '@SUM(A1),"x"': totals(1, 2, 2, 0),
    });
    expect(body.by_user).toEqual([
      { id: alice.id, email: alice.email, kind: "person", ...totals(3, 110, 25, 50) },
      { id: key.id, email: key.email, kind: "api_key", ...totals(1, 0, 0, 7) },
      { id: formula.id, email: formula.email, kind: "person", ...totals(1, 2, 2, 0) },
      { id: null, email: null, kind: null, ...totals(1, 3, 1, 0) },
    ]);
  });

  it("counts a single day with from = to", async () => {
    const body = await json(await usage(org, "?from=2025-03-02&to=2025-03-02"));
    expect(body.totals).toEqual(totals(3, 12, 7, 7));
  });

  it("covers the last 30 days, today included, by default", async () => {
    const fresh = await createOrg();
    const dayStart = (daysAgo: number) => {
      const d = new Date();
      d.setUTCHours(0, 0, 0, 0);
      return d.getTime() - daysAgo * 86_400_000;
    };
    await record(fresh.tenant, [
      { userId: fresh.owner.user.id, kind: "chat", model: "m", at: new Date().toISOString(), prompt: 1 },
      { userId: fresh.owner.user.id, kind: "chat", model: "m", at: new Date(dayStart(29)).toISOString(), prompt: 10 },
      { userId: fresh.owner.user.id, kind: "chat", model: "m", at: new Date(dayStart(29) - 1).toISOString(), prompt: 100 },
    ]);
    const body = await json(await usage(fresh, ""));
    expect(body.to).toBe(new Date().toISOString().slice(0, 10));
    expect(body.from).toBe(new Date(dayStart(29)).toISOString().slice(0, 10));
    expect(body.totals.prompt_tokens).toBe(11);
  });

  it("answers zeros for days without usage", async () => {
    const body = await json(await usage(org, "?from=2024-01-01&to=2024-01-31"));
    expect(body).toEqual({ from: "2024-01-01", to: "2024-01-31", totals: totals(0, 0, 0, 0), by_user: [], by_model: {} });
  });

  it("allows a range of 366 days", async () => {
    expect((await usage(org, "?from=2024-01-01&to=2024-12-31")).status).toBe(200);
  });

  it.each([
    ["a date not in YYYY-MM-DD", "?from=2025-3-1&to=2025-03-02", "from"],
    ["a day that does not exist", "?from=2025-02-30&to=2025-03-02", "from"],
    ["a year before 2000", "?from=1999-12-31&to=2000-01-01", "from"],
    ["a date-time instead of a date", "?to=2025-03-02T00:00:00Z", "to"],
    ["from after to", "?from=2025-03-02&to=2025-03-01", "from"],
    ["a range of 367 days", "?from=2024-01-01&to=2025-01-01", "366 days"],
    ["a from over 366 days ago without a to", "?from=2000-01-01", "366 days"],
  ])("refuses %s with 400 validation_failed", async (_label, query, named) => {
    for (const path of ["/v1/admin/usage", "/v1/admin/usage.csv"]) {
      const res = await call(`${path}${query}`, { tenant: org.tenant, token: org.owner.token });
      expect(res.status).toBe(400);
      const body = await json(res);
      expectErrorShape(body, "validation_failed");
      expect(body.error.message).toContain(named);
    }
  });
});

describe("GET /v1/admin/usage.csv", () => {
  it("has a header and one row per day, user and model, RFC 4180 quoted, formulas neutralised, as an attachment", async () => {
    const res = await call("/v1/admin/usage.csv?from=2025-03-01&to=2025-03-02", { tenant: org.tenant, token: org.owner.token });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("Content-Disposition")).toBe(`attachment; filename="usage-${org.tenant}-2025-03-01-2025-03-02.csv"`);
    const quotedFormula = `"'${formula.email.replace(/"/g, '""')}"`;
    expect(await res.text()).toBe(
      [
        "date,user_id,email,kind,model,requests,prompt_tokens,completion_tokens,embedding_tokens,total_tokens",
        `2025-03-01,${alice.id},${alice.email},person,gpt-4o-mini,1,100,20,0,120`,
        `2025-03-01,${alice.id},${alice.email},person,text-embedding-3-small,1,0,0,50,50`,
        "2025-03-01,,,,gpt-4o-mini,1,3,1,0,4",
        // Ordered by email: "=" comes before letters.
        `2025-03-02,${formula.id},${quotedFormula},person,"'@SUM(A1),""x""",1,2,2,0,4`,
        `2025-03-02,${alice.id},${alice.email},person,gpt-4o-mini,1,10,5,0,15`,
        `2025-03-02,${key.id},${key.email},api_key,text-embedding-3-small,1,0,0,7,7`,
        "",
      ].join("\r\n"),
    );
  });

  it("is only the header for a range without usage", async () => {
    const res = await call("/v1/admin/usage.csv?from=2024-01-01&to=2024-01-02", { tenant: org.tenant, token: org.owner.token });
    expect(await res.text()).toBe("date,user_id,email,kind,model,requests,prompt_tokens,completion_tokens,embedding_tokens,total_tokens\r\n");
  });
});
