// What GET /v1/usage shows a member: their own totals over the last 24 hours and the last 7 days, with a
// per-model breakdown, their own daily budget, and of the tenant's budget only the share left. Every kind of event
// counts (embedding, chat and OCR of scanned pages): OCR is prompt + completion tokens of its vision model
// (OCR_MODEL), like a chat completion, under that model's name.
import type { Db } from "../db/client.ts";
import type { Owner } from "../documents/repository.ts";
import type { QuotaState } from "./quota.ts";

export interface Totals {
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  embedding_tokens: number;
  total_tokens: number;
}

export interface WindowReport extends Totals {
  by_model: Record<string, Totals>;
}

const empty = (): Totals => ({ requests: 0, prompt_tokens: 0, completion_tokens: 0, embedding_tokens: 0, total_tokens: 0 });

function add(into: Totals, row: { requests: number; prompt: number; completion: number; embedding: number }) {
  into.requests += row.requests;
  into.prompt_tokens += row.prompt;
  into.completion_tokens += row.completion;
  into.embedding_tokens += row.embedding;
  into.total_tokens += row.prompt + row.completion + row.embedding;
}

export async function usageReport(db: Db, owner: Owner): Promise<{ last_24h: WindowReport; last_7d: WindowReport }> {
  const rows = (await db.$client.query(
    `select w.name as window, e.model, count(*)::int as requests, sum(e.prompt_tokens)::int as prompt,
            sum(e.completion_tokens)::int as completion, sum(e.embedding_tokens)::int as embedding
     from usage_events e
     join (values ('last_24h', interval '24 hours'), ('last_7d', interval '7 days')) as w(name, span) on e.created_at > now() - w.span
     where e.tenant_id = $1 and e.user_id = $2 and e.created_at > now() - interval '7 days'
     group by w.name, e.model`,
    [owner.tenantId, owner.userId],
  )) as Array<{ window: "last_24h" | "last_7d"; model: string; requests: number; prompt: number; completion: number; embedding: number }>;
  const report = { last_24h: { ...empty(), by_model: {} }, last_7d: { ...empty(), by_model: {} } } as {
    last_24h: WindowReport;
    last_7d: WindowReport;
  };
  for (const row of rows) {
    const window = report[row.window];
    add(window, row);
    window.by_model[row.model] ??= empty();
    add(window.by_model[row.model]!, row);
  }
  return report;
}

export interface BudgetReport {
  user: { used: number; limit: number };
  /** null: the tenant's budget is unlimited. */
  tenant: { remaining_fraction: number | null };
}

/**
 * The tenant's totals are other members' spending, so a member sees only the share of the tenant's budget left,
 * rounded down to a whole percent: coarse enough that no one can follow a colleague's use request by request.
 */
export function budgetReport(state: QuotaState): BudgetReport {
  const { used, limit } = state.tenant;
  // Whole percents in integers: (1 - 6800 / 20000) * 100 in floating point is 65.99…, which would floor to 0.65.
  const remaining = limit > 0 ? Math.floor((Math.max(0, limit - used) * 100) / limit) / 100 : null;
  return { user: state.user, tenant: { remaining_fraction: remaining } };
}

/** UTC days, both included, as YYYY-MM-DD. */
export interface DayRange {
  from: string;
  to: string;
}

export interface UsageRow {
  /** YYYY-MM-DD (UTC) when grouped by day, else null. */
  day: string | null;
  /** Null: the user was erased (their usage stays in the tenant's totals). */
  user_id: string | null;
  email: string | null;
  kind: "person" | "api_key" | null;
  model: string;
  requests: number;
  prompt: number;
  completion: number;
  embedding: number;
}

/**
 * The tenant's usage over `range`, per user and model, and per day too when `byDay`. Sums are bigint: a tenant's
 * year can pass the 2^31 tokens of an int.
 */
export async function tenantUsageRows(db: Db, tenantId: string, range: DayRange, byDay: boolean): Promise<UsageRow[]> {
  const day = byDay ? `to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD')` : "null::text";
  const rows = (await db.$client.query(
    `select ${day} as day, e.user_id, u.email, u.kind, e.model, count(*)::bigint as requests, sum(e.prompt_tokens)::bigint as prompt,
            sum(e.completion_tokens)::bigint as completion, sum(e.embedding_tokens)::bigint as embedding
     from usage_events e
     left join users u on u.tenant_id = e.tenant_id and u.id = e.user_id
     where e.tenant_id = $1
       and e.created_at >= ($2::date)::timestamp at time zone 'UTC' and e.created_at < ($3::date + 1)::timestamp at time zone 'UTC'
     group by 1, e.user_id, u.email, u.kind, e.model
     order by 1, u.email nulls last, e.user_id, e.model`,
    [tenantId, range.from, range.to],
  )) as Array<UsageRow & Record<"requests" | "prompt" | "completion" | "embedding", string | number>>;
  return rows.map((r) => ({
    ...r,
    requests: Number(r.requests),
    prompt: Number(r.prompt),
    completion: Number(r.completion),
    embedding: Number(r.embedding),
  }));
}

export interface UserTotals extends Totals {
  id: string | null;
  email: string | null;
  kind: "person" | "api_key" | null;
}

export interface TenantUsageReport {
  totals: Totals;
  /** Most tokens first (then by email, erased last); one entry for every erased user together (id null). */
  by_user: UserTotals[];
  by_model: Record<string, Totals>;
}

/** What GET /v1/admin/usage shows an admin: the whole tenant's usage over the days, per user and per model. */
export async function tenantUsageReport(db: Db, tenantId: string, range: DayRange): Promise<TenantUsageReport> {
  const report: TenantUsageReport = { totals: empty(), by_user: [], by_model: {} };
  const byUser = new Map<string | null, UserTotals>();
  for (const row of await tenantUsageRows(db, tenantId, range, false)) {
    add(report.totals, row);
    report.by_model[row.model] ??= empty();
    add(report.by_model[row.model]!, row);
    if (!byUser.has(row.user_id)) byUser.set(row.user_id, { id: row.user_id, email: row.email, kind: row.kind, ...empty() });
    add(byUser.get(row.user_id)!, row);
  }
  report.by_user = [...byUser.values()].sort((a, b) => b.total_tokens - a.total_tokens);
  return report;
}
