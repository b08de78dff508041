// npm run db:studio — Drizzle Studio on the running local stack's database (or DATABASE_URL when set).
import { spawn } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT, resolveDatabaseUrl } from "./lib/db.ts";

let url: string;
try {
  url = resolveDatabaseUrl();
} catch (err) {
  console.error(`db:studio: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
const studio = spawn(
  process.execPath,
  [join(PROJECT_ROOT, "node_modules/drizzle-kit/bin.cjs"), "studio", "--config", "scripts/drizzle-studio.config.ts", ...process.argv.slice(2)],
  { cwd: PROJECT_ROOT, stdio: "inherit", env: { ...process.env, DATABASE_URL: url } },
);
studio.on("exit", (code) => process.exit(code ?? 1));
// Ctrl-C reaches both through the terminal; a plain kill of this process must not leave the studio behind.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => studio.kill(signal));
