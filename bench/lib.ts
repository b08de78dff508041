// Shared by the benchmarks: a throwaway local API (in memory) and a logged-in user.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LocalApi, type LocalApiOptions, startLocalApi } from "../dev/local-api.ts";
import { PROJECT_ROOT } from "../scripts/lib/db.ts";

const SERVICE_VARIABLES = ["DATABASE_URL", "REDIS_URL", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN", "OPENAI_BASE_URL", "OPENAI_API_KEY"];

/**
 * `vars` adds Worker variables (e.g. a feature's model switched on or off) to the benchmark's own; `stack` sets the
 * local stack's knobs (the Neon stand-in's latency per round trip).
 */
export async function withLocalApi<T>(
  fn: (api: LocalApi) => Promise<T>,
  vars: Record<string, string> = {},
  stack: Pick<LocalApiOptions, "neonDelayMs" | "workerLog"> = {},
): Promise<T> {
  const stateDir = mkdtempSync(join(tmpdir(), "docuchat-bench-"));
  const api = await startLocalApi({
    ...stack,
    stateDir,
    // Real services where the environment names them, as npm run dev does: DATABASE_URL (a Postgres with pgvector behind
    // the Neon stand-in instead of PGlite), REDIS_URL or UPSTASH_REDIS_REST_*, OPENAI_BASE_URL and OPENAI_API_KEY.
    env: Object.fromEntries(SERVICE_VARIABLES.map((name) => [name, process.env[name]])),
    // Benchmarks measure the pipeline, not the limiter.
    vars: { JWT_SECRET: randomBytes(32).toString("base64url"), RATE_LIMIT_API_PER_USER: "100000/1m", RATE_LIMIT_AUTH_PER_IP: "100000/1m", ...vars },
    // DOCUCHAT_VERBOSE=1 shows the Worker's own log (wrangler dev) while the benchmark runs.
    inheritOutput: process.env.DOCUCHAT_VERBOSE === "1",
  });
  const { database, redis, openai } = api.stack.backends;
  console.error(`bench: database ${database}; redis ${redis}; openai ${openai}`);
  try {
    return await fn(api);
  } finally {
    await api.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

export async function loginAs(url: string, email: string, tenant = "demo"): Promise<string> {
  const post = (path: string, body: unknown) =>
    fetch(`${url}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Tenant-ID": tenant },
      body: JSON.stringify(body),
    }).then((r) => r.json() as Promise<Record<string, string>>);
  const { dev_code: code } = await post("/v1/auth/request-code", { email });
  const { access_token: token } = await post("/v1/auth/verify-code", { email, code });
  if (!token) throw new Error("benchmark login failed");
  return token;
}

/** Uploads a fixture of test/fixtures/pdf and waits until it is ready; its id. */
export async function uploadReady(url: string, headers: Record<string, string>, fixture = "first-latex-doc-en.pdf"): Promise<string> {
  const form = new FormData();
  form.append("file", new File([readFileSync(`${PROJECT_ROOT}test/fixtures/pdf/${fixture}`)], fixture));
  const { id } = (await (await fetch(`${url}/v1/files`, { method: "POST", headers, body: form })).json()) as { id: string };
  for (let status = ""; status !== "ready"; ) {
    await new Promise((r) => setTimeout(r, 50));
    status = ((await (await fetch(`${url}/v1/files/${id}`, { headers })).json()) as { status: string }).status;
    if (status === "failed") throw new Error(`fixture ${fixture} failed to ingest`);
  }
  return id;
}

export const round = (n: number, digits = 3) => Number(n.toFixed(digits));

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
