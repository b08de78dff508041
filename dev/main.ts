// npm run dev — the whole local stack in one command: stand-ins, migrations, a seeded `demo` tenant and
// `wrangler dev` wired to them. Ctrl-C stops everything. Data persists in .docuchat/ (git-ignored).
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT, STACK_STATE_FILE } from "../scripts/lib/db.ts";
import { parseDotenv } from "./lib/dotenv.ts";
import { startLocalApi } from "./local-api.ts";

const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(`DocuChat needs Node >= 22.18 (this is ${process.version}). See README, "Requirements".`);
  process.exit(1);
}

const started = performance.now();
const stateDir = join(PROJECT_ROOT, ".docuchat");
mkdirSync(stateDir, { recursive: true });

// .dev.vars may point the stack at real services (DATABASE_URL, UPSTASH_*, OPENAI_*) and override any Worker variable.
const devVarsFile = join(PROJECT_ROOT, ".dev.vars");
const userVars = existsSync(devVarsFile) ? parseDotenv(readFileSync(devVarsFile, "utf8")) : {};

const secretFile = join(stateDir, "jwt-secret");
if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString("base64url"), { mode: 0o600 });

let api;
try {
  api = await startLocalApi({
    port: Number(process.env.PORT ?? 8787),
    persistDir: stateDir,
    stateDir,
    env: { ...userVars, ...process.env },
    vars: { JWT_SECRET: readFileSync(secretFile, "utf8"), ...userVars },
    inheritOutput: true,
    log: (line) => console.log(`[stack] ${line}`),
  });
} catch (err) {
  console.error(`\nnpm run dev could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
writeFileSync(STACK_STATE_FILE, JSON.stringify({ postgresUrl: api.stack.postgresUrl, apiUrl: api.url, pid: process.pid }, null, 2));

let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  await api!.stop();
  rmSync(STACK_STATE_FILE, { force: true });
  console.log("[stack] stopped");
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
void api.exited.then((code) => stop(code));

const { backends } = api.stack;
console.log(`
  DocuChat is running (ready in ${((performance.now() - started) / 1000).toFixed(1)} s)
    API       ${api.url}   (docs: ${api.url}/docs)
    Tenant    demo        (send X-Tenant-ID: demo)
    Database  ${backends.database}
    Redis     ${backends.redis}
    OpenAI    ${backends.openai}
  Login codes are printed by the Worker and returned as "dev_code". Ctrl-C stops everything.
`);
