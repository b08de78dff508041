// npm run bench:bombs — what hostile PDFs cost the ingestion's extraction: peak memory beside the Worker's 128 MB
// isolate limit, time, and what was read. Each scenario runs extractPages over the PDF's first range (the
// consumer's openPdf, OCR off) in a fresh `node --expose-gc` child whose young generation is sized as V8 sizes it
// for a 128 MB heap (1 MB semi-spaces, as bench:extract does). Two figures of memory over the same child just
// before the PDF is opened (modules loaded, file in memory): the peak of V8 heap + external memory (what an isolate
// is charged for), sampled every 2 ms, and the peak resident set (getrusage), which also keeps what the allocator
// has not returned yet.
//
//   whitespace-300mib     page 2's content stream inflates to 300 MiB of spaces (306 KB file)
//   contents-20x30mib     page 2 lists one 30 MiB stream 20 times in its /Contents array (600 MiB, 31 KB file)
//   compressed-text-4mb   one page whose 31 KB content stream draws 4 MB of text
//   lshort-en 1-50        a real manual's first range, for comparison
//
// A child that runs over 60 s or dies is reported as such. One JSON line with every figure goes to stdout.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SCENARIOS = ["whitespace-300mib", "contents-20x30mib", "compressed-text-4mb", "lshort-en"] as const;
type Scenario = (typeof SCENARIOS)[number];
const MB = (bytes: number) => Number((bytes / 2 ** 20).toFixed(1));

async function build(scenario: Scenario): Promise<Uint8Array> {
  const factory = await import("../test/support/pdf-factory.ts");
  if (scenario === "whitespace-300mib") return factory.makeWhitespaceBombPdf(300, { text: "A readable first page." });
  if (scenario === "contents-20x30mib") return factory.makeWhitespaceBombPdf(30, { text: "A readable first page.", repeat: 20 });
  if (scenario === "compressed-text-4mb") return factory.makeCompressedTextPdf(4_000_000);
  return new Uint8Array(readFileSync(`${ROOT}test/fixtures/pdf/lshort-en.pdf`));
}

/** In the child: read the PDF (built by the parent, so that building it is not measured), settle, then open and read it. */
async function probe(scenario: Scenario, file: string) {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("the probe needs node --expose-gc");
  const [{ openPdf }, { extractPages }] = await Promise.all([import("../src/pdf/open.ts"), import("../src/ingest/extract.ts")]);
  const bytes = new Uint8Array(readFileSync(file));
  gc();
  const used = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  const before = process.memoryUsage().rss;
  const heapBefore = used();
  let heapPeak = heapBefore;
  const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, used())), 2);
  const started = performance.now();
  const fileKb = Math.round(bytes.length / 1024);
  const pdf = await openPdf(bytes);
  const to = Math.min(pdf.numPages, 50);
  const result = await extractPages(pdf, 1, to, { ocr: null, ocrPagesLeft: 0 });
  heapPeak = Math.max(heapPeak, used());
  clearInterval(sampler);
  await pdf.loadingTask.destroy();
  const peak = process.resourceUsage().maxRSS * 1024;
  return {
    scenario,
    file_kb: fileKb,
    pages: to,
    pages_with_text: result.pages.length,
    chars: result.pages.reduce((n, p) => n + p.text.length, 0),
    warnings: [...new Set(result.warnings.map((w) => `${w.page}:${w.code}`))],
    seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
    heap_added_mb: MB(heapPeak - heapBefore),
    rss_before_open_mb: MB(before),
    peak_rss_mb: MB(peak),
    rss_added_mb: MB(peak - before),
  };
}

if (process.argv[2] === "--probe") {
  console.log(JSON.stringify(await probe(process.argv[3] as Scenario, process.argv[4]!)));
} else {
  const results = [];
  const dir = mkdtempSync(join(tmpdir(), "docuchat-bombs-"));
  for (const scenario of SCENARIOS) {
    process.stderr.write(`bench:bombs ${scenario}… `);
    const file = join(dir, `${scenario}.pdf`);
    writeFileSync(file, await build(scenario));
    let result: Record<string, unknown>;
    try {
      const out = execFileSync(
        process.execPath,
        ["--expose-gc", "--max-semi-space-size=1", fileURLToPath(import.meta.url), "--probe", scenario, file],
        {
          cwd: ROOT,
          encoding: "utf8",
          timeout: 60_000,
          stdio: ["ignore", "pipe", "ignore"],
        },
      );
      result = JSON.parse(out.trim().split("\n").at(-1)!);
    } catch (err) {
      const e = err as { signal?: string; status?: number };
      result = { scenario, outcome: e.signal === "SIGTERM" ? "over 60 s" : `died (${e.signal ?? `exit ${e.status}`})` };
    }
    process.stderr.write(`${JSON.stringify(result)}\n`);
    results.push(result);
  }
  rmSync(dir, { recursive: true, force: true });
  process.stderr.write("\nscenario               file KB  heap+ext added MB  RSS added MB  s      pages with text  warnings\n");
  for (const r of results as Array<Record<string, unknown>>) {
    process.stderr.write(
      `${String(r.scenario).padEnd(22)} ${String(r.file_kb ?? "").padStart(7)}  ${String(r.heap_added_mb ?? r.outcome).padStart(17)}  ${String(r.rss_added_mb ?? "").padStart(12)}  ${String(r.seconds ?? "").padEnd(5)}  ${String(r.pages_with_text ?? "").padStart(15)}  ${(r.warnings as string[] | undefined)?.join(" ") ?? ""}\n`,
    );
  }
  process.stderr.write("(the Worker's isolate limit is 128 MB)\n");
  console.log(JSON.stringify({ isolate_limit_mb: 128, scenarios: results }));
}
