// npm run dev — the whole local stack in one command: stand-ins, migrations, a seeded `demo` tenant and
// `wrangler dev` wired to them. Ctrl-C stops everything. Data persists in .docuchat/ (git-ignored).
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTenant, PROJECT_ROOT, STACK_STATE_FILE } from "../scripts/lib/db.ts";
import { parseDotenv, toDotenv } from "./lib/dotenv.ts";
import { startStack } from "./stack.ts";

const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(`DocuChat needs Node >= 22.18 (this is ${process.version}). See README, "Requirements".`);
  process.exit(1);
}

const started = performance.now();
const stateDir = join(PROJECT_ROOT, ".docuchat");
const port = Number(process.env.PORT ?? 8787);
mkdirSync(stateDir, { recursive: true });

// .dev.vars may point the stack at real services (DATABASE_URL, UPSTASH_*, OPENAI_*) and override any Worker variable.
const devVarsFile = join(PROJECT_ROOT, ".dev.vars");
const userVars = existsSync(devVarsFile) ? parseDotenv(readFileSync(devVarsFile, "utf8")) : {};

const secretFile = join(stateDir, "jwt-secret");
if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString("base64url"), { mode: 0o600 });

const log = (line: string) => console.log(`[stack] ${line}`);
const stack = await startStack({ persistDir: stateDir, env: { ...userVars, ...process.env }, log });
await createTenant(stack.postgresUrl, "demo", "Demo");

const workerEnvFile = join(stateDir, "worker.env");
writeFileSync(workerEnvFile, toDotenv({ ...stack.bindings, JWT_SECRET: readFileSync(secretFile, "utf8"), ...userVars }), { mode: 0o600 });
const apiUrl = `http://127.0.0.1:${port}`;
writeFileSync(STACK_STATE_FILE, JSON.stringify({ postgresUrl: stack.postgresUrl, apiUrl, pid: process.pid }, null, 2));

const wranglerBin = join(PROJECT_ROOT, "node_modules/wrangler/bin/wrangler.js");
const wrangler: ChildProcess = spawn(
  process.execPath,
  [wranglerBin, "dev", "--ip", "127.0.0.1", "--port", String(port), "--env-file", workerEnvFile, "--persist-to", join(stateDir, "wrangler"), "--show-interactive-dev-session=false"],
  { cwd: PROJECT_ROOT, stdio: "inherit", detached: true },
);

let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  if (wrangler.exitCode === null && wrangler.pid) {
    const exited = new Promise((resolve) => wrangler.once("exit", resolve));
    process.kill(-wrangler.pid, "SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (wrangler.exitCode === null) process.kill(-wrangler.pid, "SIGKILL");
  }
  await stack.close();
  rmSync(STACK_STATE_FILE, { force: true });
  console.log("[stack] stopped");
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
wrangler.on("exit", (code) => void stop(code ?? 1));

// Announce once the Worker answers its health check.
for (let i = 0; i < 600 && !stopping; i++) {
  const health = await fetch(`${apiUrl}/healthz`).then((r) => r.json() as Promise<{ status: string }>, () => null);
  if (health) {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`
  DocuChat is running (ready in ${seconds} s, health: ${health.status})
    API       ${apiUrl}   (docs: ${apiUrl}/docs)
    Tenant    demo        (send X-Tenant-ID: demo)
    Database  ${stack.backends.database}
    Redis     ${stack.backends.redis}
    OpenAI    ${stack.backends.openai}
  Login codes are printed by the Worker and returned as "dev_code". Ctrl-C stops everything.
`);
    break;
  }
  await new Promise((r) => setTimeout(r, 250));
}
