// npm run bench — the ingestion, extraction, hostile-PDF, chat, load, Worker CPU, organisation, retrieval-quality, search-scale and quota-check benchmarks one after another, each on a fresh local stack;
// writes bench/results.json with the machine they ran on.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { PROJECT_ROOT } from "../scripts/lib/db.ts";

const results: Record<string, unknown> = {};
for (const name of ["ingest", "extract", "bombs", "chat", "load", "cpu", "org", "quality", "search", "quota"]) {
  console.error(`bench: ${name}…`);
  const out = execFileSync(process.execPath, [`${PROJECT_ROOT}bench/${name}.ts`], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  results[name] = JSON.parse(out.trim().split("\n").at(-1)!);
}

const report = {
  date: new Date().toISOString(),
  machine: {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memory_gb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: process.platform,
  },
  stack: "npm run dev's local stack: wrangler dev (Miniflare), Neon stand-in over PGlite, Upstash stand-in over redis-server, OpenAI stand-in",
  ...results,
};
writeFileSync(`${PROJECT_ROOT}bench/results.json`, `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report));
