// npm run bench:cpu — the Worker's CPU time per request, from CPU profiles of workerd taken through its inspector,
// for GET /v1/me, GET /v1/files and POST /v1/search beside GET / (the floor: routing, middleware, logging). Time
// spent waiting on the database, Redis or the model is not CPU and is not counted. Cross-check: the CPU seconds of
// the Worker's workerd process (/proc: the isolate plus Miniflare's entry worker and the runtime's I/O) and of
// wrangler's proxy in front of it, which production does not have.
// Prints a table on stderr and one JSON line.
import { busyMs, connectProfiler, perRequestMs, stackCpuSeconds } from "./cpu-profile.ts";
import { loginAs, median, round, uploadReady, withLocalApi } from "./lib.ts";

const ROUNDS = Number(process.env.CPU_ROUNDS ?? 5);
const REQUESTS = Number(process.env.CPU_REQUESTS ?? 40);
/** Issue 14's goals, in ms of CPU above GET /. */
const GOALS: Record<string, number> = { "GET /v1/me": 3, "GET /v1/files": 3, "POST /v1/search": 5 };

const result = await withLocalApi(async (api) => {
  const token = await loginAs(api.url, "cpu@example.com");
  const headers = { "X-Tenant-ID": "demo", Authorization: `Bearer ${token}` };
  await uploadReady(api.url, headers);

  const search = { method: "POST", headers: { ...headers, "Content-Type": "application/json" } };
  const routes: Record<string, (i: number) => Promise<Response>> = {
    "GET /": () => fetch(`${api.url}/`),
    "GET /v1/me": () => fetch(`${api.url}/v1/me`, { headers }),
    "GET /v1/files": () => fetch(`${api.url}/v1/files`, { headers }),
    "POST /v1/search": (i) => fetch(`${api.url}/v1/search`, { ...search, body: JSON.stringify({ query: `bibliography ${i % 7}`, top_k: 5 }) }),
  };
  const profiler = await connectProfiler(api.inspectorPort);
  const measured = Object.fromEntries(
    Object.keys(routes).map((route) => [route, { cpu: [] as number[], worker: [] as number[], proxy: [] as number[], wall: [] as number[] }]),
  );
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [route, call] of Object.entries(routes)) {
        for (let i = 0; i < 3; i++) await (await call(i)).arrayBuffer();
        const before = stackCpuSeconds(api);
        await profiler.start();
        const walls: number[] = [];
        for (let i = 0; i < REQUESTS; i++) {
          const started = performance.now();
          const res = await call(i);
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`${route} answered ${res.status}`);
          walls.push(performance.now() - started);
        }
        const profile = await profiler.stop();
        const parts = perRequestMs(before, stackCpuSeconds(api), REQUESTS);
        const entry = measured[route]!;
        entry.cpu.push(busyMs(profile) / REQUESTS);
        entry.worker.push(parts.worker);
        entry.proxy.push(parts.proxy);
        entry.wall.push(median(walls));
      }
    }
  } finally {
    profiler.close();
  }
  const floor = median(measured["GET /"]!.cpu);
  return Object.fromEntries(
    Object.entries(measured).map(([route, m]) => {
      const cpu = median(m.cpu);
      return [
        route,
        {
          cpu_ms: round(cpu, 2),
          above_floor_ms: route === "GET /" ? 0 : round(cpu - floor, 2),
          goal_above_floor_ms: GOALS[route] ?? null,
          worker_process_cpu_ms: round(median(m.worker), 2),
          proxy_process_cpu_ms: round(median(m.proxy), 2),
          wall_p50_ms: round(median(m.wall), 1),
        },
      ];
    }),
  );
});

console.error(`CPU per request, medians of ${ROUNDS} rounds of ${REQUESTS} sequential requests`);
console.error("route              Worker CPU   above GET /   goal   Worker's workerd   wrangler's proxy   wall p50");
for (const [route, r] of Object.entries(result)) {
  const goal = r.goal_above_floor_ms === null ? "—" : `< ${r.goal_above_floor_ms}`;
  console.error(
    `${route.padEnd(18)} ${`${r.cpu_ms} ms`.padStart(10)}   ${`${r.above_floor_ms} ms`.padStart(11)}   ${goal.padStart(4)}   ${`${r.worker_process_cpu_ms} ms`.padStart(16)}   ${`${r.proxy_process_cpu_ms} ms`.padStart(16)}   ${`${r.wall_p50_ms} ms`.padStart(8)}`,
  );
}
console.log(JSON.stringify({ benchmark: "cpu", node: process.version, rounds: ROUNDS, requests_per_round: REQUESTS, routes: result }));
