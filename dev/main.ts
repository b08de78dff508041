// npm run dev — the whole local stack in one command: stand-ins, migrations, a seeded `demo` tenant and
// `wrangler dev` wired to them. Ctrl-C stops everything. Data persists in .docuchat/ (git-ignored).
// The Node version is checked before this file loads (scripts/check-node.mjs, in package.json).
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT, STACK_STATE_FILE } from "../scripts/lib/db.ts";
import { parseDotenv } from "./lib/dotenv.ts";
import { DEMO_OWNER_EMAIL, startLocalApi } from "./local-api.ts";

const started = performance.now();
const stateDir = join(PROJECT_ROOT, ".docuchat");
mkdirSync(stateDir, { recursive: true });

// .dev.vars may point the stack at real services (DATABASE_URL, UPSTASH_*, OPENAI_*) and override any Worker variable.
const devVarsFile = join(PROJECT_ROOT, ".dev.vars");
const userVars = existsSync(devVarsFile) ? parseDotenv(readFileSync(devVarsFile, "utf8")) : {};

const secretFile = join(stateDir, "jwt-secret");
if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString("base64url"), { mode: 0o600 });

// The stand-ins' start-up lines are held: the banner comes first and says where everything is; they are shown if the
// start fails, and every line from after the banner is shown as it comes.
const held: string[] = [];
let live = false;
const log = (line: string) => (live ? console.log(`[stack] ${line}`) : held.push(`[stack] ${line}`));

let api;
try {
  api = await startLocalApi({
    port: Number(process.env.PORT ?? 8787),
    persistDir: stateDir,
    stateDir,
    env: { ...userVars, ...process.env },
    vars: { JWT_SECRET: readFileSync(secretFile, "utf8"), ...userVars },
    inheritOutput: true,
    log,
  });
} catch (err) {
  for (const line of held) console.error(line);
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
    Tenant    demo        (send X-Tenant-ID: demo; its owner is ${DEMO_OWNER_EMAIL})
    Database  ${backends.database}
    Redis     ${backends.redis}
    OpenAI    ${backends.openai}
  Login codes are printed by the Worker and returned as "dev_code". Sample documents: \`npm run seed\`.
  Ctrl-C stops everything.
`);
live = true;
