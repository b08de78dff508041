// npm run bench — the ingestion, extraction, hostile-PDF, chat, load, Worker CPU, organisation, retrieval-quality,
// search-scale and quota-check benchmarks one after another, each on a fresh local stack; writes bench/results.json.
// `npm run bench -- load chat` runs only those and replaces only their entries. Every entry carries when and on which
// machine it was measured, so figures from different runs are never mistaken for one.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { PROJECT_ROOT } from "../scripts/lib/db.ts";

const ALL = ["ingest", "extract", "bombs", "chat", "load", "cpu", "org", "quality", "search", "quota"];
const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !ALL.includes(name));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")}; choose from ${ALL.join(", ")}`);
  process.exit(2);
}

const file = `${PROJECT_ROOT}bench/results.json`;
const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memory_gb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  platform: process.platform,
};
const results: Record<string, unknown> = asked.length && existsSync(file) ? JSON.parse(readFileSync(file, "utf8")).results : {};
for (const name of asked.length ? asked : ALL) {
  console.error(`bench: ${name}…`);
  const out = execFileSync(process.execPath, [`${PROJECT_ROOT}bench/${name}.ts`], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  results[name] = { measured_at: new Date().toISOString(), machine, ...JSON.parse(out.trim().split("\n").at(-1)!) };
}

const report = {
  stack: "npm run dev's local stack: wrangler dev (Miniflare), Neon stand-in over PGlite, Upstash stand-in over redis-server, OpenAI stand-in",
  results,
};
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report));
