// The Worker's CPU time from a V8 CPU profile taken through workerd's inspector (wrangler dev --inspector-port):
// the DevTools protocol's Profiler domain, over the WebSocket wrangler's inspector proxy lists at /json.
import { readdirSync, readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string };
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Requested sampling interval; workerd samples a running isolate about every 0.19 ms with this setting. */
const SAMPLING_INTERVAL_US = 100;
/**
 * The sampler only fires while the isolate runs, so a long gap before a sample is the isolate waiting (for the
 * database, Redis, the next request), not CPU: such a sample counts as one typical interval, not as the gap.
 */
const WAITING_GAP_US = 1000;

export interface Profiler {
  start(): Promise<void>;
  stop(): Promise<CpuProfile>;
  close(): void;
}

export async function connectProfiler(inspectorPort: number): Promise<Profiler> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error("workerd's inspector lists no Worker");
  // wrangler's inspector proxy accepts DevTools clients from local origins only.
  const ws = new WebSocket(url, { headers: { Origin: "http://localhost" } } as unknown as string[]);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`cannot open workerd's inspector at ${url}`));
  });
  let nextId = 0;
  const pending = new Map<number, { method: string; resolve: (result: unknown) => void; reject: (err: Error) => void }>();
  ws.onmessage = (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
    const call = message.id === undefined ? undefined : pending.get(message.id);
    if (!call) return;
    pending.delete(message.id!);
    if (message.error) call.reject(new Error(`${call.method}: ${message.error.message}`));
    else call.resolve(message.result);
  };
  // wrangler dev restarts the Worker when a source file changes, which ends the profile.
  ws.onclose = () => {
    for (const call of pending.values()) call.reject(new Error(`${call.method}: workerd's inspector closed (the Worker restarted?)`));
  };
  const send = <T>(method: string, params: object = {}) =>
    new Promise<T>((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { method, resolve: resolve as (result: unknown) => void, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_US });
  return {
    start: () => send("Profiler.start"),
    stop: async () => (await send<{ profile: CpuProfile }>("Profiler.stop")).profile,
    close: () => ws.close(),
  };
}

/** Milliseconds the isolate spent running (JavaScript, the runtime's native code, garbage collection). */
export function busyMs(profile: CpuProfile): number {
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
  const running = profile.samples.flatMap((node, i) => (idle.has(node) ? [] : [profile.timeDeltas[i]!]));
  const steady = running.filter((d) => d <= WAITING_GAP_US).sort((a, b) => a - b);
  const typical = steady[steady.length >> 1] ?? 0;
  return running.reduce((sum, d) => sum + (d > WAITING_GAP_US ? typical : d), 0) / 1000;
}

export interface StackCpu {
  /** The Worker's workerd: its isolate, Miniflare's entry worker, the runtime's HTTP and I/O. */
  worker: number;
  /** wrangler dev's proxy in front of it (a second workerd, listening on the API's port): local only. */
  proxy: number;
  /** wrangler itself (Node: the dev server, its log output, esbuild). */
  wrangler: number;
  /** The local stack's redis-server, behind the Upstash stand-in. */
  redis: number;
  /** This process: the stand-ins (Neon over PGlite, Upstash, OpenAI) and the benchmark's own clients. */
  stack: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds (user + system, all threads) of every process of the local stack so far, from /proc. */
export function stackCpuSeconds(api: { pid: number; url: string }): StackCpu {
  const apiPort = new URL(api.url).port;
  const own = process.cpuUsage();
  const total: StackCpu = { worker: 0, proxy: 0, wrangler: 0, redis: 0, stack: (own.user + own.system) / 1e6 };
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    let stat: string;
    let command: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      command = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    // The fields after comm: state, ppid, pgrp, ...; utime and stime are the 14th and 15th of the whole line.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const seconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    if (Number(fields[2]) === api.pid) {
      if (comm !== "workerd") total.wrangler += seconds;
      else if (command.includes(`entry=127.0.0.1:${apiPort}`)) total.proxy += seconds;
      else total.worker += seconds;
    } else if (comm === "redis-server" && Number(fields[1]) === process.pid) total.redis += seconds;
  }
  return total;
}

/** Milliseconds per request of each part between two readings. */
export function perRequestMs(before: StackCpu, after: StackCpu, requests: number): StackCpu {
  const part = (k: keyof StackCpu) => Number((((after[k] - before[k]) * 1000) / requests).toFixed(2));
  return { worker: part("worker"), proxy: part("proxy"), wrangler: part("wrangler"), redis: part("redis"), stack: part("stack") };
}
