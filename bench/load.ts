// npm run bench:load — 32 concurrent clients for 20 s, alternating authenticated GET /v1/files and
// POST /v1/search, against the local stack. Prints one JSON line: requests/s and latency percentiles per route, the
// backends used, and the CPU each part of the local stack spent per request (what bounds the figure on this machine).
import { availableParallelism as cores } from "node:os";
import { perRequestMs, stackCpuSeconds } from "./cpu-profile.ts";
import { loginAs, percentile, round, uploadReady, withLocalApi } from "./lib.ts";

const CLIENTS = Number(process.env.LOAD_CLIENTS ?? 32);
const SECONDS = Number(process.env.LOAD_SECONDS ?? 20);
const QUERIES = ["how to start a section", "bibliography", "compile to pdf", "documentclass article", "editor", "tables"];

interface Sample {
  route: string;
  ms: number;
  ok: boolean;
}

const result = await withLocalApi(async (api) => {
  const token = await loginAs(api.url, "load@example.com");
  const headers = { "X-Tenant-ID": "demo", Authorization: `Bearer ${token}` };
  await uploadReady(api.url, headers);

  const samples: Sample[] = [];
  const deadline = performance.now() + SECONDS * 1000;
  const client = async (n: number) => {
    for (let i = n; performance.now() < deadline; i++) {
      const search = i % 2 === 1;
      const started = performance.now();
      const res = search
        ? await fetch(`${api.url}/v1/search`, {
            method: "POST",
            headers: { ...headers, "Content-Type": "application/json" },
            body: JSON.stringify({ query: QUERIES[i % QUERIES.length], top_k: 5 }),
          })
        : await fetch(`${api.url}/v1/files`, { headers });
      await res.arrayBuffer();
      samples.push({ route: search ? "POST /v1/search" : "GET /v1/files", ms: performance.now() - started, ok: res.status === 200 });
    }
  };
  const cpuBefore = stackCpuSeconds(api);
  const started = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));
  const elapsed = (performance.now() - started) / 1000;
  const cpu = perRequestMs(cpuBefore, stackCpuSeconds(api), samples.length);

  const stats = (list: Sample[]) => {
    const ms = list.map((s) => s.ms).sort((a, b) => a - b);
    return {
      requests: list.length,
      errors: list.filter((s) => !s.ok).length,
      requests_per_s: round(list.length / elapsed, 1),
      p50_ms: round(percentile(ms, 50), 1),
      p95_ms: round(percentile(ms, 95), 1),
      p99_ms: round(percentile(ms, 99), 1),
    };
  };
  return {
    clients: CLIENTS,
    seconds: round(elapsed, 1),
    backends: api.stack.backends,
    cpu_ms_per_request: cpu,
    all: stats(samples),
    "GET /v1/files": stats(samples.filter((s) => s.route === "GET /v1/files")),
    "POST /v1/search": stats(samples.filter((s) => s.route === "POST /v1/search")),
  };
});

const { cpu_ms_per_request: cpu } = result;
console.error(
  `${result.all.requests_per_s} requests/s; CPU per request: the Worker's workerd ${cpu.worker} ms, wrangler's proxy ${cpu.proxy} ms, wrangler ${cpu.wrangler} ms, redis-server ${cpu.redis} ms, stand-ins + PGlite + load clients ${cpu.stack} ms (${cores()} cores)`,
);
console.log(JSON.stringify({ benchmark: "load", node: process.version, ...result }));
