// The local stack plus `wrangler dev` wired to it: what `npm run dev`, the benchmarks and the end-to-end
// tests all run. Resolves once the Worker answers its health check.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createTenant, ensureOwner, PROJECT_ROOT } from "../scripts/lib/db.ts";
import { toDotenv } from "./lib/dotenv.ts";
import { freePort } from "./lib/http.ts";
import { holdOutput } from "./lib/wrangler-output.ts";
import { type Stack, startStack } from "./stack.ts";

export interface LocalApiOptions {
  /** Worker port; a free one when absent. */
  port?: number;
  /** Where the database, Redis, R2 and queue state persist; a fresh in-memory stack when absent. */
  persistDir?: string;
  /** Scratch folder for the Worker's env file and Miniflare state when nothing persists. */
  stateDir: string;
  /** Environment that may name real services (DATABASE_URL, UPSTASH_*, OPENAI_*, REDIS_URL). */
  env?: Record<string, string | undefined>;
  /** Latency the Neon stand-in adds per database round trip (StackOptions.neonDelayMs). */
  neonDelayMs?: number;
  /** Worker variables on top of the stack's (JWT_SECRET at least). */
  vars: Record<string, string>;
  /**
   * Whether wrangler's output goes to this terminal: filtered (dev/lib/wrangler-output.ts) and held until the Worker
   * is ready, so the caller's banner comes first; all of it, unfiltered, if the start fails.
   */
  inheritOutput?: boolean;
  log?: (line: string) => void;
  /** Called with each line of the Worker's output (wrangler's stdout): a benchmark reads the Worker's log lines. */
  workerLog?: (line: string) => void;
}

export interface LocalApi {
  url: string;
  /** workerd's DevTools endpoint (wrangler's inspector proxy): `http://127.0.0.1:<port>/json` lists the Worker. */
  inspectorPort: number;
  /** wrangler's process id, also its process group's: workerd runs in it. */
  pid: number;
  stack: Stack;
  /** Resolves with wrangler's exit code if it stops on its own. */
  exited: Promise<number>;
  stop(): Promise<void>;
}

/** wrangler dev never fires cron triggers: the stack fires wrangler.toml's (the stall sweeper) on its schedule. */
/** The demo tenant's owner: logging in with this email on the demo page shows the admin view. */
export const DEMO_OWNER_EMAIL = "owner@example.com";

const CRON = "*/5 * * * *";
const CRON_EVERY_MS = 5 * 60_000;

async function waitForHealth(url: string, exited: Promise<number>): Promise<void> {
  let stopped = false;
  void exited.then(() => (stopped = true));
  for (let i = 0; i < 1200 && !stopped; i++) {
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(stopped ? "wrangler dev exited before the Worker was ready" : "the Worker did not become healthy within 120 s");
}

export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const stack = await startStack({ persistDir: options.persistDir, env: options.env, neonDelayMs: options.neonDelayMs, log: options.log });
  let wrangler: ChildProcess | undefined;
  let cron: NodeJS.Timeout | undefined;
  let output: ReturnType<typeof holdOutput> | undefined;
  const stop = async () => {
    clearInterval(cron);
    if (wrangler?.pid && wrangler.exitCode === null && wrangler.signalCode === null) {
      const gone = new Promise((resolve) => wrangler!.once("exit", resolve));
      process.kill(-wrangler.pid, "SIGTERM");
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (wrangler.exitCode === null && wrangler.signalCode === null) process.kill(-wrangler.pid, "SIGKILL");
    }
    await stack.close();
  };

  try {
    await createTenant(stack.postgresUrl, "demo", "Demo");
    await ensureOwner(stack.postgresUrl, "demo", DEMO_OWNER_EMAIL);
    mkdirSync(options.stateDir, { recursive: true });
    const envFile = join(options.stateDir, "worker.env");
    writeFileSync(envFile, toDotenv({ ...stack.bindings, ...options.vars }), { mode: 0o600 });
    const port = options.port ?? (await freePort());
    const inspectorPort = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const piped = options.inheritOutput ? "pipe" : "ignore";
    const stdout = options.inheritOutput || options.workerLog ? "pipe" : "ignore";
    wrangler = spawn(
      process.execPath,
      [
        join(PROJECT_ROOT, "node_modules/wrangler/bin/wrangler.js"),
        "dev",
        "--ip",
        "127.0.0.1",
        "--port",
        String(port),
        "--inspector-port",
        String(inspectorPort),
        "--env-file",
        envFile,
        "--persist-to",
        join(options.persistDir ?? options.stateDir, "wrangler"),
        "--show-interactive-dev-session=false",
      ],
      // Its own process group, so stop() ends wrangler and workerd together.
      { cwd: PROJECT_ROOT, stdio: ["ignore", stdout, piped], detached: true },
    );
    if (options.workerLog) createInterface({ input: wrangler.stdout!, crlfDelay: Infinity }).on("line", options.workerLog);
    output = holdOutput([
      { from: options.inheritOutput ? wrangler.stdout : null, to: process.stdout },
      { from: wrangler.stderr, to: process.stderr },
    ]);
    const exited = new Promise<number>((resolve) => wrangler!.once("exit", (code) => resolve(code ?? 1)));
    await waitForHealth(url, exited);
    // The probe's own request line arrives just after its answer: hold it back with the rest of the start-up.
    if (options.inheritOutput) await output.heard(/"route":"\/healthz","status":200/, 1000);
    // After the caller's banner, which it prints as soon as this resolves (a microtask, before any macrotask).
    const ready = output;
    setImmediate(() => ready.release());
    // Miniflare's trigger endpoint runs the Worker's scheduled handler, as Cloudflare's cron would.
    const scheduled = `${url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent(CRON)}`;
    cron = setInterval(() => void fetch(scheduled).catch(() => {}), CRON_EVERY_MS).unref();
    return { url, inspectorPort, pid: wrangler.pid!, stack, exited, stop };
  } catch (err) {
    output?.dump();
    await stop();
    throw err;
  }
}
