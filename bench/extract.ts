// npm run bench:extract — text extraction against poppler's pdftotext, and the memory of one ingestion range.
//
// 1. Every fixture in test/fixtures/pdf: character error rate (test/support/cer.ts) of our text layer and of
//    pdftotext (default mode and -layout) against test/fixtures/source/<name>.txt; a fixture without a source
//    (the LaTeX manuals, fa-mixed) is compared against pdftotext's default output instead, and says so. Pages/s of
//    extractPages() alone (OCR off, this process, the Worker's pdf.js build; the PDF is opened outside the timer)
//    and of pdftotext spawned once per file (wall time), medians of 3 runs. Pages that need OCR are read again
//    through the OpenAI stand-in (tesseract) for the OCR column. Then the medians and the goals.
// 2. Memory of one page range, each in a fresh `node --expose-gc` child: the heaviest, font-heavy PDF found on
//    the machine (or one made from the fixtures with qpdf), a page with an 18-megapixel colour JPEG, a 300-dpi
//    scan through OCR; and the heap after each of three passes over all fixtures in one process.
//
// Needs poppler-utils (pdftotext, pdftoppm) and tesseract; qpdf and img2pdf for the generated PDFs (a scenario
// whose tool is missing is skipped). The tables go to stderr, one JSON line with every figure to stdout (bench/all.ts).
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cer } from "../test/support/cer.ts";

// The project's modules are imported where they are used, so that a memory probe can measure the heap before
// and after loading them (pdf.js alone is most of it).
type Modules = Awaited<ReturnType<typeof loadModules>>;
async function loadModules() {
  const [{ openPdf }, { extractPages }, { createPageOcr }, { default: OpenAI }, { getDocumentProxy }] = await Promise.all([
    import("../src/pdf/open.ts"),
    import("../src/ingest/extract.ts"),
    import("../src/ocr/page-ocr.ts"),
    import("openai"),
    import("unpdf"),
  ]);
  return { openPdf, extractPages, createPageOcr, OpenAI, getDocumentProxy };
}

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const PDF_DIR = join(ROOT, "test/fixtures/pdf");
const SOURCE_DIR = join(ROOT, "test/fixtures/source");
const OCR_MODEL = "gpt-4.1-mini";
const RUNS = 3;
const PAGES_PER_RANGE = 50; // src/ingest/consumer.ts PAGES_PER_MESSAGE
const fixed = (n: number, digits: number) => Number(n.toFixed(digits));
const MB = (bytes: number) => fixed(bytes / 2 ** 20, 1);
const log = (line = "") => process.stderr.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------------------------
// Memory probe (child process): one page range, GC forced twice after every page.
// ---------------------------------------------------------------------------------------------------------------

interface ProbeSpec {
  file: string;
  from: number;
  to: number;
  ocrUrl?: string;
  /** Call pdf.cleanup() after every N pages (0: never, as extractPages does now). */
  cleanupEvery?: number;
  /** Open with pdf.js's maxImageSize (what openPdf would pass) instead of openPdf's options. */
  maxImageSize?: number;
}

interface ProbeResult {
  pages: number;
  textPages: number;
  ocrPages: number;
  fileMb: number;
  seconds: number;
  /** heap + external of the idle process before / after importing the project's modules. */
  nodeMb: number;
  modulesMb: number;
  /** Everything below is above the process with its modules loaded (so: what the range adds). */
  afterReadMb: number;
  afterOpenMb: number;
  /** Highest heap + external seen: sampled every 2 ms and at each page end, before that page's GC. */
  peakMb: number;
  /** Highest heap + external right after a forced GC at a page end: what the range keeps. */
  retainedMaxMb: number;
  retainedEndMb: number;
  retainedEndHeapMb: number;
  retainedEndBuffersMb: number;
  textMb: number;
  afterDestroyMb: number;
  /** Peak resident set above the resident set before the file was read: sees synchronous spikes the sampler cannot. */
  rssGrowthMb: number;
}

const gc2 = () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("the memory probe needs node --expose-gc");
  gc();
  gc();
};
const heapExt = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external; // external includes arrayBuffers
};

async function probe(spec: ProbeSpec): Promise<ProbeResult> {
  gc2();
  const node = heapExt();
  const mod = await loadModules();
  // pdf.js loads its worker half with the first document: count it with the modules, not with the range.
  const warm = await mod.openPdf(new Uint8Array(readFileSync(join(PDF_DIR, "en-1.chromium.pdf"))));
  await mod.extractPages(warm, 1, 1, { ocr: null, ocrPagesLeft: 0 });
  await warm.loadingTask.destroy();
  gc2();
  const baseMem = process.memoryUsage();
  const base = baseMem.heapUsed + baseMem.external;
  const rss0 = process.memoryUsage.rss();
  let peak = 0;
  const sample = () => {
    const t = heapExt();
    if (t > peak) peak = t;
  };
  const timer = setInterval(sample, 2);
  // As the consumer does: the whole object in one buffer (pdf.js takes it over without a copy).
  const bytes = new Uint8Array(readFileSync(spec.file));
  const fileBytes = bytes.byteLength;
  gc2();
  const afterRead = heapExt();
  const pdf = spec.maxImageSize ? await mod.getDocumentProxy(bytes, { maxImageSize: spec.maxImageSize }) : await mod.openPdf(bytes);
  gc2();
  const afterOpen = heapExt();
  const to = Math.min(spec.to, pdf.numPages);
  const openai = spec.ocrUrl ? new mod.OpenAI({ apiKey: "bench", baseURL: spec.ocrUrl, maxRetries: 0 }) : null;
  let retainedMax = 0;
  const started = performance.now();
  const result = await mod.extractPages(pdf, spec.from, to, {
    ocr: openai ? mod.createPageOcr(openai, OCR_MODEL) : null,
    ocrPagesLeft: 1000,
    onProgress: async (n) => {
      sample();
      if (spec.cleanupEvery && (n - spec.from + 1) % spec.cleanupEvery === 0) await pdf.cleanup();
      gc2();
      retainedMax = Math.max(retainedMax, heapExt());
    },
  });
  const seconds = (performance.now() - started) / 1000;
  sample();
  clearInterval(timer);
  gc2();
  const m = process.memoryUsage();
  const retainedEnd = m.heapUsed + m.external;
  const textBytes = result.pages.reduce((n, p) => n + p.text.length * 2, 0);
  await pdf.loadingTask.destroy();
  gc2();
  const afterDestroy = heapExt();
  const rssGrowth = process.resourceUsage().maxRSS * 1024 - rss0;
  return {
    pages: to - spec.from + 1,
    textPages: result.pages.length,
    ocrPages: result.ocr.pages,
    fileMb: MB(fileBytes),
    seconds: fixed(seconds, 2),
    nodeMb: MB(node),
    modulesMb: MB(base - node),
    afterReadMb: MB(afterRead - base),
    afterOpenMb: MB(afterOpen - base),
    peakMb: MB(peak - base),
    retainedMaxMb: MB(retainedMax - base),
    retainedEndMb: MB(retainedEnd - base),
    retainedEndHeapMb: MB(m.heapUsed - baseMem.heapUsed),
    retainedEndBuffersMb: MB(m.arrayBuffers - baseMem.arrayBuffers),
    textMb: MB(textBytes),
    afterDestroyMb: MB(afterDestroy - base),
    rssGrowthMb: MB(rssGrowth),
  };
}

/** The same fixtures, three times, in one process: heap after each pass (GC forced), to see what is kept. */
async function retentionProbe(files: string[], ocrUrl: string) {
  const mod = await loadModules();
  const openai = new mod.OpenAI({ apiKey: "bench", baseURL: ocrUrl, maxRetries: 0 });
  gc2();
  const before = process.memoryUsage();
  const passes: { heapMb: number; heapExtMb: number; seconds: number }[] = [];
  for (let pass = 1; pass <= 3; pass++) {
    const t = performance.now();
    for (const file of files) {
      const pdf = await mod.openPdf(new Uint8Array(readFileSync(file)));
      try {
        await mod.extractPages(pdf, 1, pdf.numPages, { ocr: mod.createPageOcr(openai, OCR_MODEL), ocrPagesLeft: 1000 });
      } finally {
        await pdf.loadingTask.destroy();
      }
    }
    gc2();
    const m = process.memoryUsage();
    passes.push({ heapMb: MB(m.heapUsed), heapExtMb: MB(m.heapUsed + m.external), seconds: fixed((performance.now() - t) / 1000, 1) });
  }
  return { beforeHeapMb: MB(before.heapUsed), beforeHeapExtMb: MB(before.heapUsed + before.external), passes };
}

if (process.argv[2] === "--probe" || process.argv[2] === "--retention") {
  const arg = JSON.parse(process.argv[3]!) as ProbeSpec & { files: string[]; ocrUrl: string };
  const out = process.argv[2] === "--probe" ? await probe(arg) : await retentionProbe(arg.files, arg.ocrUrl);
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0);
}

function runChild<T>(mode: "--probe" | "--retention", arg: unknown): T {
  const res = spawnSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), mode, JSON.stringify(arg)], {
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (res.status !== 0) throw new Error(`memory probe failed (${res.status ?? res.signal}): ${res.stderr.slice(-2000)}`);
  return JSON.parse(res.stdout.trim().split("\n").at(-1)!) as T;
}

// ---------------------------------------------------------------------------------------------------------------
// Main: quality and speed, then memory.
// ---------------------------------------------------------------------------------------------------------------

// bench/lib.ts loads the local stack's modules: only this process needs it, not the probes.
const { median, round } = await import("./lib.ts");

const has = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
for (const tool of ["pdftotext", "pdftoppm", "pdfinfo", "tesseract"])
  if (!has(tool)) throw new Error(`${tool} is not on PATH: apt-get install poppler-utils tesseract-ocr tesseract-ocr-fas`);

const pdftotext = (file: string, layout = false) =>
  execFileSync("pdftotext", [...(layout ? ["-layout"] : []), "-enc", "UTF-8", file, "-"], { encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
const pageCount = (file: string) => Number(/^Pages:\s+(\d+)/m.exec(execFileSync("pdfinfo", [file], { encoding: "utf8" }))?.[1] ?? 0);

const { startOpenAIStandIn } = await import("../dev/openai/server.ts");
const standIn = await startOpenAIStandIn({});
const mod: Modules = await loadModules();
const openai = new mod.OpenAI({ apiKey: "bench", baseURL: standIn.url, maxRetries: 0 });
const benchStarted = performance.now();
const tmp = mkdtempSync(join(tmpdir(), "docuchat-bench-extract-"));

interface FixtureRow {
  fixture: string;
  pages: number;
  reference: "source" | "pdftotext";
  cer_ours: number;
  cer_pdftotext: number | null;
  cer_pdftotext_layout: number | null;
  pages_per_s_ours: number;
  pages_per_s_pdftotext: number;
  ocr_pages: number;
  cer_ocr: number | null;
  ocr_s_per_page: number | null;
}

async function measureFixture(file: string): Promise<FixtureRow> {
  const name = basename(file, ".pdf");
  const sourceFile = join(SOURCE_DIR, `${name.split(".")[0]}.txt`);
  const source = existsSync(sourceFile) ? readFileSync(sourceFile, "utf8") : null;
  const plain = pdftotext(file);
  const layout = pdftotext(file, true);
  const reference = source ?? plain;

  const bytes = readFileSync(file);
  const times: number[] = [];
  let text = "";
  let pages = 0;
  let needOcr = 0;
  for (let run = 0; run < RUNS; run++) {
    const pdf = await mod.openPdf(new Uint8Array(bytes));
    try {
      pages = pdf.numPages;
      const t = performance.now();
      const r = await mod.extractPages(pdf, 1, pdf.numPages, { ocr: null, ocrPagesLeft: 0 });
      times.push(performance.now() - t);
      text = r.pages.map((p) => p.text).join("\n");
      needOcr = r.warnings.filter((w) => w.code === "ocr_off").length;
    } finally {
      await pdf.loadingTask.destroy();
    }
  }
  const popplerTimes: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const t = performance.now();
    pdftotext(file);
    popplerTimes.push(performance.now() - t);
  }

  let cerOcr: number | null = null;
  let ocrSeconds: number | null = null;
  let ocrPages = 0;
  if (needOcr) {
    const pdf = await mod.openPdf(new Uint8Array(bytes));
    try {
      const t = performance.now();
      const r = await mod.extractPages(pdf, 1, pdf.numPages, { ocr: mod.createPageOcr(openai, OCR_MODEL), ocrPagesLeft: 1000 });
      ocrPages = r.ocr.pages;
      ocrSeconds = (performance.now() - t) / 1000 / Math.max(1, ocrPages);
      // Against the source only: pdftotext has no text for a scanned page to compare with.
      if (source) cerOcr = cer(r.pages.map((p) => p.text).join("\n"), source);
    } finally {
      await pdf.loadingTask.destroy();
    }
  }
  return {
    fixture: name,
    pages,
    reference: source ? "source" : "pdftotext",
    cer_ours: round(cer(text, reference), 4),
    cer_pdftotext: source ? round(cer(plain, source), 4) : null,
    cer_pdftotext_layout: round(cer(layout, reference), 4),
    pages_per_s_ours: round(pages / (median(times) / 1000), 1),
    pages_per_s_pdftotext: round(pages / (median(popplerTimes) / 1000), 1),
    ocr_pages: ocrPages,
    cer_ocr: cerOcr === null ? null : round(cerOcr, 4),
    ocr_s_per_page: ocrSeconds === null ? null : round(ocrSeconds, 2),
  };
}

function table(header: string[], rows: (string | number | null)[][], right = new Set<number>()): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === null ? "–" : String(c))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => [...(r[i] ?? "")].length)));
  const line = (r: string[]) => r.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(cells[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}
const f3 = (n: number | null) => (n === null ? null : n.toFixed(3));
const yes = (ok: boolean) => (ok ? "yes" : "NO");

log("bench:extract — fixtures…");
const fixtureFiles = readdirSync(PDF_DIR)
  .filter((f) => f.endsWith(".pdf"))
  .sort()
  .map((f) => join(PDF_DIR, f));
const rows: FixtureRow[] = [];
for (const file of fixtureFiles) rows.push(await measureFixture(file));

const bornDigital = rows.filter((r) => r.reference === "source" && !r.fixture.includes(".scan"));
const scans = rows.filter((r) => r.fixture.includes(".scan"));
const medianOurs = median(bornDigital.map((r) => r.cer_ours));
const medianPoppler = median(bornDigital.map((r) => r.cer_pdftotext!));
const medianPopplerLayout = median(bornDigital.map((r) => r.cer_pdftotext_layout!));
const within = bornDigital.filter((r) => r.cer_ours <= r.cer_pdftotext! + 0.01);
const withinBest = bornDigital.filter((r) => r.cer_ours <= Math.min(r.cer_pdftotext!, r.cer_pdftotext_layout!) + 0.01);
const speed = (name: string) => rows.find((r) => r.fixture === name)?.pages_per_s_ours ?? 0;
const goals = [
  { goal: "born-digital: ours within 0.01 of pdftotext (default mode)", value: `${within.length}/${bornDigital.length}`, ok: within.length === bornDigital.length },
  { goal: "born-digital: ours within 0.01 of the better pdftotext mode", value: `${withinBest.length}/${bornDigital.length}`, ok: withinBest.length === bornDigital.length },
  { goal: "born-digital: median CER ≤ 0.02", value: medianOurs.toFixed(4), ok: medianOurs <= 0.02 },
  { goal: "scans (OCR stand-in, tesseract): CER ≤ 0.10", value: scans.map((r) => `${r.fixture} ${f3(r.cer_ocr)}`).join(", "), ok: scans.every((r) => r.cer_ocr !== null && r.cer_ocr <= 0.1) },
  { goal: "lshort-en ≥ 87.5 pages/s (half of 175)", value: `${speed("lshort-en")} pages/s`, ok: speed("lshort-en") >= 87.5 },
  { goal: "lshort-fa ≥ 111.5 pages/s (half of 223)", value: `${speed("lshort-fa")} pages/s`, ok: speed("lshort-fa") >= 111.5 },
];

// ---------------------------------------------------------------------------------------------------------------
// Memory scenarios.
// ---------------------------------------------------------------------------------------------------------------

log("bench:extract — memory…");

/** The heaviest font-heavy PDF on the machine: symbols-a4.pdf (comprehensive), else typeface-all-rm.pdf. */
function findHeavyPdf(): string | null {
  for (const name of ["symbols-a4.pdf", "typeface-all-rm.pdf"]) {
    for (const dir of ["/usr/share/doc", "/usr/share/texlive", "/usr/share/texmf", "/usr/local/texlive"]) {
      if (!existsSync(dir)) continue;
      const found = spawnSync("find", [dir, "-name", name, "-size", "+1M"], { encoding: "utf8" }).stdout.split("\n").find(Boolean);
      if (found) return found;
    }
  }
  return null;
}

/**
 * A font-heavy PDF made from the fixtures: page 4k of lshort-fa and 4k+1 of lshort-en from 30 copies each, joined
 * by qpdf. Each copy is a separate file to qpdf, so every page brings its own copy of its fonts (~90 KB a page).
 */
function makeHeavyPdf(): string | null {
  if (!has("qpdf")) return null;
  const args: string[] = [];
  for (let i = 1; i <= 30; i++) {
    for (const [src, page] of [["lshort-fa", 4 * i], ["lshort-en", 4 * i + 1]] as const) {
      const copy = join(tmp, `${src}-${i}.pdf`);
      copyFileSync(join(PDF_DIR, `${src}.pdf`), copy);
      args.push(copy, String(page));
    }
  }
  const out = join(tmp, "fonts-from-fixtures.pdf");
  execFileSync("qpdf", ["--empty", "--pages", ...args, "--", out]);
  return out;
}

/** fa-1.chromium rasterised by pdftoppm and wrapped by img2pdf: one image per page. */
function makeImagePdf(name: string, dpiArgs: string[], sources: string[]): string | null {
  if (!has("img2pdf")) return null;
  const images: string[] = [];
  for (const src of sources) {
    const prefix = join(tmp, `${name}-${src}`);
    execFileSync("pdftoppm", [...dpiArgs, join(PDF_DIR, `${src}.pdf`), prefix]);
    images.push(...readdirSync(tmp).filter((f) => f.startsWith(`${name}-${src}`)).sort().map((f) => join(tmp, f)));
  }
  const out = join(tmp, `${name}.pdf`);
  execFileSync("img2pdf", ["-s", "300dpi", ...images, "-o", out]);
  return out;
}

interface Scenario {
  scenario: string;
  file: string;
  spec: ProbeSpec;
}
interface MemoryRow extends ProbeResult {
  scenario: string;
  file: string;
  range: string;
  kbPerPage: number;
}
const memoryRows: MemoryRow[] = [];
const probeRow = (s: Scenario): MemoryRow => {
  const r = runChild<ProbeResult>("--probe", s.spec);
  const size = statSync(s.file).size;
  const row = { scenario: s.scenario, file: basename(s.file), range: `${s.spec.from}-${Math.min(s.spec.to, pageCount(s.file))}`, kbPerPage: Math.round(size / 1024 / pageCount(s.file)), ...r };
  memoryRows.push(row);
  return row;
};

const heavyFound = findHeavyPdf();
const heavyMade = makeHeavyPdf();
let worst: MemoryRow | null = null;
for (const file of [heavyFound, heavyMade].filter((f): f is string => !!f)) {
  const n = pageCount(file);
  for (let from = 1; from <= n; from += PAGES_PER_RANGE) {
    const row = probeRow({ scenario: file === heavyFound ? "font-heavy (found)" : "font-heavy (made)", file, spec: { file, from, to: from + PAGES_PER_RANGE - 1 } });
    if (!worst || row.peakMb > worst.peakMb) worst = row;
  }
}
if (worst) {
  const file = heavyFound && worst.file === basename(heavyFound) ? heavyFound : heavyMade!;
  const from = Number(worst.range.split("-")[0]);
  probeRow({ scenario: "worst, pdf.cleanup() every page", file, spec: { file, from, to: from + PAGES_PER_RANGE - 1, cleanupEvery: 1 } });
  probeRow({ scenario: "worst, pdf.cleanup() every 10", file, spec: { file, from, to: from + PAGES_PER_RANGE - 1, cleanupEvery: 10 } });
  probeRow({ scenario: "worst, 25 pages a range", file, spec: { file, from, to: from + 24 } });
  probeRow({ scenario: "worst, 10 pages a range", file, spec: { file, from, to: from + 9 } });
}
const photo = makeImagePdf("photo-425dpi", ["-r", "425", "-jpeg"], ["fa-1.chromium"]);
if (photo) {
  probeRow({ scenario: "18-Mpx colour JPEG page, OCR", file: photo, spec: { file: photo, from: 1, to: 1, ocrUrl: standIn.url } });
  probeRow({ scenario: "same, maxImageSize 10 Mpx", file: photo, spec: { file: photo, from: 1, to: 1, ocrUrl: standIn.url, maxImageSize: 10_000_000 } });
}
const scan = makeImagePdf("scan-300dpi-gray", ["-r", "300", "-gray"], ["fa-1.chromium", "fa-2.chromium", "fa-3.chromium"]);
if (scan) probeRow({ scenario: "300-dpi gray scan, OCR", file: scan, spec: { file: scan, from: 1, to: PAGES_PER_RANGE, ocrUrl: standIn.url } });

const retention = runChild<Awaited<ReturnType<typeof retentionProbe>>>("--retention", { files: fixtureFiles, ocrUrl: standIn.url });

await standIn.close();
rmSync(tmp, { recursive: true, force: true });

// ---------------------------------------------------------------------------------------------------------------
// Report.
// ---------------------------------------------------------------------------------------------------------------

log();
log(`Text extraction, ${fixtureFiles.length} fixtures (CER: test/support/cer.ts; pages/s: median of ${RUNS} runs)`);
log(
  table(
    ["fixture", "pages", "reference", "CER ours", "pdftotext", "-layout", "ours p/s", "pdftotext p/s", "OCR pages", "CER OCR", "OCR s/page"],
    rows.map((r) => [
      r.fixture,
      r.pages,
      r.reference,
      f3(r.cer_ours),
      r.reference === "source" ? f3(r.cer_pdftotext) : "(ref)",
      f3(r.cer_pdftotext_layout),
      r.pages_per_s_ours,
      r.pages_per_s_pdftotext,
      r.ocr_pages || null,
      f3(r.cer_ocr),
      r.ocr_s_per_page,
    ]),
    new Set([1, 3, 4, 5, 6, 7, 8, 9, 10]),
  ),
);
log(`reference "pdftotext": no source text; ours and -layout are compared with pdftotext's default output. Scans: pdftotext reads nothing (CER 1).`);
log(`Medians over the ${bornDigital.length} born-digital fixtures with a source: ours ${medianOurs.toFixed(4)}, pdftotext ${medianPoppler.toFixed(4)}, pdftotext -layout ${medianPopplerLayout.toFixed(4)}`);
const behind = bornDigital.filter((r) => r.cer_ours > r.cer_pdftotext! + 0.01).map((r) => `${r.fixture} (${f3(r.cer_ours)} vs ${f3(r.cer_pdftotext)})`);
if (behind.length) log(`More than 0.01 behind pdftotext: ${behind.join(", ")}`);
log();
log(table(["goal", "value", "met"], goals.map((g) => [g.goal, g.value, yes(g.ok)])));

log();
log("Memory of one page range (fresh node --expose-gc per row; GC forced after every page; MB above the process with the modules loaded)");
log(
  table(
    ["scenario", "file", "KB/page", "pages", "s", "file MB", "peak", "retained max", "retained end", "texts", "peak RSS +", "≈ isolate", "< 100", "< 128"],
    memoryRows.map((r) => {
      const isolate = round(r.modulesMb + Math.max(r.peakMb, r.rssGrowthMb), 1);
      return [r.scenario, r.file, r.kbPerPage, r.range, r.seconds, r.fileMb, r.peakMb, r.retainedMaxMb, r.retainedEndMb, r.textMb, r.rssGrowthMb, isolate, yes(isolate < 100), yes(isolate < 128)];
    }),
    new Set([2, 4, 5, 6, 7, 8, 9, 10, 11]),
  ),
);
const modules = memoryRows[0]?.modulesMb ?? 0;
log(
  `peak: heap + external (external includes arrayBuffers), sampled every 2 ms and before each page's GC; retained: right after the GC; ` +
    `peak RSS +: the process's peak resident set above the one before the file was read, which also sees synchronous spikes ` +
    `(an image decoded in one go) that the sampler cannot; ≈ isolate: the project's modules (${modules} MB in Node: pdf.js, openai, our code) ` +
    `+ the larger of peak and peak RSS +.`,
);
if (worst) {
  const w = worst;
  log(
    `Worst font-heavy range: ${w.file} pages ${w.range}: peak ${w.peakMb} MB = whole PDF buffer ${w.fileMb} MB (pdf.js takes it without a copy) ` +
      `+ pdf.js document after open ${round(w.afterOpenMb - w.afterReadMb, 1)} MB + what the range keeps by its end ${round(w.retainedEndMb - w.afterOpenMb - w.textMb, 1)} MB ` +
      `(pdf.js font and operator caches; gone after pdf.cleanup() or destroy: ${w.afterDestroyMb} MB left) + page texts ${w.textMb} MB ` +
      `+ one page's working set ${round(w.peakMb - w.retainedMaxMb, 1)} MB.`,
  );
}
log();
log(`Retention: all ${fixtureFiles.length} fixtures (OCR on), 3 passes in one process, heap after each pass with GC forced (MB)`);
log(
  table(
    ["", "heap", "heap + external", "s"],
    [["before", retention.beforeHeapMb, retention.beforeHeapExtMb, null], ...retention.passes.map((p, i) => [`after pass ${i + 1}`, p.heapMb, p.heapExtMb, p.seconds])],
    new Set([1, 2, 3]),
  ),
);
log(`bench:extract took ${round((performance.now() - benchStarted) / 1000, 1)} s`);

console.log(
  JSON.stringify({
    benchmark: "extract",
    node: process.version,
    fixtures: Object.fromEntries(rows.map(({ fixture, ...r }) => [fixture, r])),
    medians: { cer_ours: medianOurs, cer_pdftotext: medianPoppler, cer_pdftotext_layout: medianPopplerLayout },
    goals: goals.map((g) => ({ goal: g.goal, value: g.value, met: g.ok })),
    memory_mb: memoryRows,
    retention_mb: retention,
  }),
);
