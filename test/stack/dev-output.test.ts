// What `npm run dev` shows in the terminal: its banner first, then one line per request; none of wrangler's
// start-up chatter, bindings table, offline warnings or access-log duplicates. Drives the real wrangler dev.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/lib/db.ts";

const stateDir = mkdtempSync(join(tmpdir(), "docuchat-dev-output-"));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

/** A miniature dev/main.ts: start with wrangler's output inherited, print a banner, make one request, stop. */
const SCRIPT = `
  import { startLocalApi } from ${JSON.stringify(join(PROJECT_ROOT, "dev/local-api.ts"))};
  const api = await startLocalApi({ stateDir: ${JSON.stringify(stateDir)}, vars: { JWT_SECRET: "x".repeat(32) }, inheritOutput: true });
  console.log("BANNER");
  await fetch(api.url + "/no-such-route");
  await new Promise((r) => setTimeout(r, 1500));
  await api.stop();
`;

function run(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", SCRIPT], { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`exited ${code}:\n${out}`))));
  });
}

it("shows the banner first, then the Worker's one line per request and nothing of wrangler's chatter", async () => {
  const lines = (await run()).split("\n").filter(Boolean);
  expect(lines[0]).toBe("BANNER");
  expect(lines.filter((l) => l.includes('"route":"unmatched"'))).toHaveLength(1);
  const shown = lines.join("\n");
  for (const chatter of [
    "Your Worker has access to the following bindings",
    "env.DOCUMENTS",
    "Request.cf",
    "getaddrinfo",
    "[wrangler:info]",
    "Scheduled Workers",
    "Starting local server",
  ])
    expect(shown).not.toContain(chatter);
}, 120_000);
