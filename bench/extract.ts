// npm run bench:extract — text extraction against poppler's pdftotext, and the memory of one ingestion range.
//
// 1. Every fixture in test/fixtures/pdf: character error rate (test/support/cer.ts) of our text layer and of
//    pdftotext (default mode and -layout) against test/fixtures/source/<name>.txt; a fixture without a source
//    (the LaTeX manuals, fa-mixed) is compared against pdftotext's default output instead, and says so. Pages/s of
//    extractPages() alone (OCR off, this process, the Worker's pdf.js build; the PDF is opened outside the timer)
//    and of pdftotext spawned once per file (wall time), medians of 3 runs. Pages that need OCR are read again
//    through the OpenAI stand-in (tesseract) for the OCR column. Then the medians and the goals.
// 2. Memory of one page range, each in a fresh `node --expose-gc` child (young generation sized as for a 128 MB
//    heap): every 50-page range of the heaviest font-heavy PDF found on the machine (TeX Live docs) and of one made
//    from the fixtures with qpdf (extractPages runs pdf.cleanup() every 10 pages); the worst again with it every page, cut into
//    25- and 10-page ranges; a page with an 18-megapixel JPEG (found, and made with pdftoppm + img2pdf, also with
//    20 MP allowed, over openPdf's 10 MP); a 300-dpi grayscale scan through OCR. Then what pdf.cleanup() costs in time, and the
//    heap after each of three passes over all fixtures in one process (anything kept across documents?).
//
// Needs poppler-utils and tesseract; qpdf and img2pdf for the generated PDFs (a scenario whose tool or file is
// missing is skipped). Nothing is written into the repository: generated PDFs live in a temporary folder.
// The tables go to stderr, one JSON line with every figure to stdout (bench/all.ts puts it in bench/results.json).
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cer } from "../test/support/cer.ts";

// The project's modules are imported where they are used, so that a memory probe can measure the heap before
// and after loading them (pdf.js alone is most of it).
type Modules = Awaited<ReturnType<typeof loadModules>>;
async function loadModules() {
  const [{ openPdf }, { extractPages }, { chunkPages }, { createPageOcr }, { default: OpenAI }, { getDocumentProxy }] = await Promise.all([
    import("../src/pdf/open.ts"),
    import("../src/ingest/extract.ts"),
    import("../src/ingest/chunker.ts"),
    import("../src/ocr/page-ocr.ts"),
    import("openai"),
    import("unpdf"),
  ]);
  return { openPdf, extractPages, chunkPages, createPageOcr, OpenAI, getDocumentProxy };
}

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const PDF_DIR = join(ROOT, "test/fixtures/pdf");
const SOURCE_DIR = join(ROOT, "test/fixtures/source");
const OCR_MODEL = "gpt-4.1-mini";
const RUNS = 3;
const PAGES_PER_RANGE = 50; // src/ingest/messages.ts PAGES_PER_MESSAGE
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
  /** Also call pdf.cleanup() after every N pages (extractPages itself does every 10). */
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
  /** heap + external of the idle process; what the project's modules add (pdf.js with its worker half loaded); the tokenizer. */
  nodeMb: number;
  modulesMb: number;
  tokenizerMb: number;
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

/** The file in a buffer of its own (never a slice of Node's pool): one copy, like the R2 object's arrayBuffer(). */
function readWhole(file: string): Uint8Array {
  const buf = readFileSync(file);
  return buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength ? new Uint8Array(buf.buffer) : new Uint8Array(buf);
}

async function probe(spec: ProbeSpec): Promise<ProbeResult> {
  gc2();
  const node = heapExt();
  const mod = await loadModules();
  // pdf.js loads its worker half with the first document: count it with the modules, not with the range.
  const warm = await mod.openPdf(new Uint8Array(readFileSync(join(PDF_DIR, "en-1.chromium.pdf"))));
  const warmPages = await mod.extractPages(warm, 1, 1, { ocr: null, ocrPagesLeft: 0 });
  await warm.loadingTask.destroy();
  gc2();
  const modules = heapExt();
  // The chunker's tokenizer (js-tiktoken cl100k_base) is built on first use and kept by the isolate.
  mod.chunkPages(warmPages.pages);
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
  // As the consumer does: the whole object in one buffer, which pdf.js takes over without a copy.
  const bytes = readWhole(spec.file);
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
  // The consumer chunks the range before it embeds and stores it: pages and chunks are alive together.
  const chunks = mod.chunkPages(result.pages);
  const seconds = (performance.now() - started) / 1000;
  sample();
  clearInterval(timer);
  gc2();
  const m = process.memoryUsage();
  const retainedEnd = m.heapUsed + m.external;
  const textBytes = result.pages.reduce((n, p) => n + p.text.length * 2, 0) + chunks.reduce((n, c) => n + c.text.length * 2, 0);
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
    modulesMb: MB(modules - node),
    tokenizerMb: MB(base - modules),
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

/**
 * A young generation of 1 MB, as V8 sizes it for a 128 MB heap: Node's default (16 MB semi-spaces) lets short-lived
 * garbage pile up well past what an isolate with the Worker's limit would hold, and the figures would show Node's
 * GC, not what the range needs.
 */
const PROBE_FLAGS = ["--expose-gc", "--max-semi-space-size=1"];

/** Runs a probe in a child process; asynchronously, since the OCR stand-in it calls lives in this process. */
function runChild<T>(mode: "--probe" | "--retention", arg: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...PROBE_FLAGS, fileURLToPath(import.meta.url), mode, JSON.stringify(arg)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code !== 0) reject(new Error(`memory probe failed (${code ?? signal}): ${stderr.slice(-2000)}`));
      else resolve(JSON.parse(stdout.trim().split("\n").at(-1)!) as T);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Main: quality and speed, then memory.
// ---------------------------------------------------------------------------------------------------------------

// bench/lib.ts loads the local stack's modules: only this process needs it, not the probes.
const { median, round } = await import("./lib.ts");

const has = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
for (const tool of ["pdftotext", "pdftoppm", "pdfinfo", "pdfimages", "tesseract"])
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
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

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
  const line = (r: string[]) =>
    r
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(cells[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}
const f3 = (n: number | null) => (n === null ? null : n.toFixed(3));
const yes = (ok: boolean) => (ok ? "yes" : "NO");
const percentMore = (value: number, base: number) => {
  const pct = Math.round((value / base - 1) * 100);
  return `${pct >= 0 ? "+" : ""}${pct}%`;
};

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
  {
    goal: "born-digital: ours within 0.01 of pdftotext (default mode)",
    value: `${within.length}/${bornDigital.length}`,
    ok: within.length === bornDigital.length,
  },
  {
    goal: "born-digital: ours within 0.01 of the better pdftotext mode",
    value: `${withinBest.length}/${bornDigital.length}`,
    ok: withinBest.length === bornDigital.length,
  },
  { goal: "born-digital: median CER ≤ 0.02", value: medianOurs.toFixed(4), ok: medianOurs <= 0.02 },
  {
    goal: "scans (OCR stand-in, tesseract): CER ≤ 0.10",
    value: scans.map((r) => `${r.fixture} ${f3(r.cer_ocr)}`).join(", "),
    ok: scans.every((r) => r.cer_ocr !== null && r.cer_ocr <= 0.1),
  },
  { goal: "lshort-en ≥ 87.5 pages/s (half of 175)", value: `${speed("lshort-en")} pages/s`, ok: speed("lshort-en") >= 87.5 },
  { goal: "lshort-fa ≥ 111.5 pages/s (half of 223)", value: `${speed("lshort-fa")} pages/s`, ok: speed("lshort-fa") >= 111.5 },
];

// ---------------------------------------------------------------------------------------------------------------
// Memory scenarios.
// ---------------------------------------------------------------------------------------------------------------

log("bench:extract — memory…");

/** The first of `names` found under the TeX Live documentation folders (Debian's texlive-*-doc packages). */
function findPdf(names: string[]): string | null {
  for (const name of names) {
    for (const dir of ["/usr/share/doc", "/usr/share/texlive", "/usr/share/texmf", "/usr/local/texlive"]) {
      if (!existsSync(dir)) continue;
      const found = spawnSync("find", [dir, "-name", name, "-size", "+1M"], { encoding: "utf8" }).stdout.split("\n").find(Boolean);
      if (found) return found;
    }
  }
  return null;
}

/** The page that paints the largest image (pdfimages -list), with that image's size in megapixels. */
function largestImagePage(file: string): { page: number; megapixels: number } | null {
  let best: { page: number; megapixels: number } | null = null;
  for (const line of execFileSync("pdfimages", ["-list", file], { encoding: "utf8" }).split("\n").slice(2)) {
    const [page, , type, width, height] = line.trim().split(/\s+/);
    if (type !== "image") continue;
    const megapixels = (Number(width) * Number(height)) / 1e6;
    if (!best || megapixels > best.megapixels) best = { page: Number(page), megapixels: fixed(megapixels, 1) };
  }
  return best;
}

/**
 * A font-heavy PDF made from the fixtures: page 4k of lshort-fa and 4k+1 of lshort-en from 30 copies each, joined
 * by qpdf. Each copy is a separate file to qpdf, so every page brings its own copy of its fonts (~90 KB a page).
 */
function makeHeavyPdf(): string | null {
  if (!has("qpdf")) return null;
  const args: string[] = [];
  for (let i = 1; i <= 30; i++) {
    for (const [src, page] of [
      ["lshort-fa", 4 * i],
      ["lshort-en", 4 * i + 1],
    ] as const) {
      const copy = join(tmp, `${src}-${i}.pdf`);
      copyFileSync(join(PDF_DIR, `${src}.pdf`), copy);
      args.push(copy, String(page));
    }
  }
  const out = join(tmp, "fonts-from-fixtures.pdf");
  execFileSync("qpdf", ["--empty", "--pages", ...args, "--", out]);
  return out;
}

/** Fixtures rasterised by pdftoppm (`pdftoppmArgs`) and wrapped by img2pdf: one image per page, no text layer. */
function makeImagePdf(name: string, pdftoppmArgs: string[], sources: string[]): string | null {
  if (!has("img2pdf")) return null;
  const images: string[] = [];
  for (const src of sources) {
    const prefix = join(tmp, `${name}-${src}`);
    execFileSync("pdftoppm", [...pdftoppmArgs, join(PDF_DIR, `${src}.pdf`), prefix]);
    images.push(
      ...readdirSync(tmp)
        .filter((f) => f.startsWith(`${name}-${src}`))
        .sort()
        .map((f) => join(tmp, f)),
    );
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
/**
 * The isolate's estimate for a range: modules + the largest of the two extraction peaks and the chunking step.
 * The consumer releases the tokenizer after each range (chunker.releaseTokenizer), so it is built only to chunk,
 * after the pages (and their images) are gone: it is not resident while pages are read.
 */
const isolateMb = (r: MemoryRow) => round(r.modulesMb + Math.max(r.peakMb, r.rssGrowthMb, r.tokenizerMb + r.textMb), 1);
/** The same if the tokenizer stayed resident across ranges (as before releaseTokenizer). */
const withTokenizerKeptMb = (r: MemoryRow) => round(r.modulesMb + r.tokenizerMb + Math.max(r.peakMb, r.rssGrowthMb), 1);
const probeRow = async (s: Scenario, keep = true): Promise<MemoryRow> => {
  const r = await runChild<ProbeResult>("--probe", s.spec);
  const size = statSync(s.file).size;
  const row = {
    scenario: s.scenario,
    file: basename(s.file),
    range: `${s.spec.from}-${Math.min(s.spec.to, pageCount(s.file))}`,
    kbPerPage: Math.round(size / 1024 / pageCount(s.file)),
    ...r,
  };
  if (keep) memoryRows.push(row);
  return row;
};

// symbols-a4.pdf (comprehensive) is not in Debian's packages; typeface-all-rm.pdf is (texlive-latex-extra-doc).
const heavyFound = findPdf(["symbols-a4.pdf", "typeface-all-rm.pdf"]);
const heavyMade = makeHeavyPdf();
let worst: MemoryRow | null = null;
for (const file of [heavyFound, heavyMade].filter((f): f is string => !!f)) {
  const n = pageCount(file);
  for (let from = 1; from <= n; from += PAGES_PER_RANGE) {
    const row = await probeRow({
      scenario: file === heavyFound ? "font-heavy (found)" : "font-heavy (made)",
      file,
      spec: { file, from, to: from + PAGES_PER_RANGE - 1 },
    });
    if (!worst || row.peakMb > worst.peakMb) worst = row;
  }
}
if (worst) {
  const file = heavyFound && worst.file === basename(heavyFound) ? heavyFound : heavyMade!;
  const from = Number(worst.range.split("-")[0]);
  await probeRow({ scenario: "worst, pdf.cleanup() every page", file, spec: { file, from, to: from + PAGES_PER_RANGE - 1, cleanupEvery: 1 } });
  // Smaller ranges over the same 50 pages: each window in its own process, the worst window reported.
  for (const size of [25, 10]) {
    let worstWindow: MemoryRow | null = null;
    for (let start = from; start < from + PAGES_PER_RANGE && start <= pageCount(file); start += size) {
      const row = await probeRow(
        { scenario: "", file, spec: { file, from: start, to: Math.min(start + size - 1, from + PAGES_PER_RANGE - 1) } },
        false,
      );
      if (!worstWindow || row.peakMb > worstWindow.peakMb) worstWindow = row;
    }
    if (worstWindow) memoryRows.push({ ...worstWindow, scenario: `worst, ${size} pages a range (worst window)` });
  }
}
// A book cover (willowtreebook's: one 3696×4994 JPEG on a page with three characters of text), and one made alike.
const cover = findPdf(["willowtreebook.pdf"]);
const coverPage = cover && largestImagePage(cover);
if (cover && coverPage)
  await probeRow({
    scenario: `${coverPage.megapixels}-Mpx JPEG page (found): not decoded`,
    file: cover,
    spec: { file: cover, from: coverPage.page, to: coverPage.page, ocrUrl: standIn.url },
  });
const photo = makeImagePdf("photo-425dpi", ["-r", "425", "-jpeg"], ["fa-1.chromium"]);
if (photo) {
  await probeRow({
    scenario: "17.5-Mpx colour JPEG page (made): not decoded",
    file: photo,
    spec: { file: photo, from: 1, to: 1, ocrUrl: standIn.url },
  });
  await probeRow({
    scenario: "same, maxImageSize 20 Mpx (decoded)",
    file: photo,
    spec: { file: photo, from: 1, to: 1, ocrUrl: standIn.url, maxImageSize: 20_000_000 },
  });
}
const scan = makeImagePdf("scan-300dpi-gray", ["-r", "300", "-gray"], ["fa-1.chromium", "fa-2.chromium", "fa-3.chromium"]);
if (scan) await probeRow({ scenario: "300-dpi gray scan, OCR", file: scan, spec: { file: scan, from: 1, to: PAGES_PER_RANGE, ocrUrl: standIn.url } });

/** What pdf.cleanup() every N pages costs in time: extractPages over 50 pages in this process, median of 3 runs. */
async function cleanupCost(file: string, from: number) {
  const bytes = readFileSync(file);
  const ms: Record<string, number> = {};
  for (const every of [0, 10, 1]) {
    const times: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const pdf = await mod.openPdf(new Uint8Array(bytes));
      try {
        const to = Math.min(pdf.numPages, from + PAGES_PER_RANGE - 1);
        const t = performance.now();
        await mod.extractPages(pdf, from, to, {
          ocr: null,
          ocrPagesLeft: 0,
          onProgress: async (n) => void (every && (n - from + 1) % every === 0 && (await pdf.cleanup())),
        });
        times.push(performance.now() - t);
      } finally {
        await pdf.loadingTask.destroy();
      }
    }
    ms[every ? `every_${every}` : "never"] = Math.round(median(times));
  }
  return { file: basename(file), from, ms };
}
const costs = [await cleanupCost(join(PDF_DIR, "lshort-en.pdf"), 1), await cleanupCost(join(PDF_DIR, "lshort-fa.pdf"), 1)];
if (worst)
  costs.push(await cleanupCost(heavyFound && worst.file === basename(heavyFound) ? heavyFound : heavyMade!, Number(worst.range.split("-")[0])));

const retention = await runChild<Awaited<ReturnType<typeof retentionProbe>>>("--retention", { files: fixtureFiles, ocrUrl: standIn.url });

await standIn.close();

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
log(
  `Medians over the ${bornDigital.length} born-digital fixtures with a source: ours ${medianOurs.toFixed(4)}, pdftotext ${medianPoppler.toFixed(4)}, pdftotext -layout ${medianPopplerLayout.toFixed(4)}`,
);
const behind = bornDigital
  .filter((r) => r.cer_ours > r.cer_pdftotext! + 0.01)
  .map((r) => `${r.fixture} (${f3(r.cer_ours)} vs ${f3(r.cer_pdftotext)})`);
if (behind.length) log(`More than 0.01 behind pdftotext: ${behind.join(", ")}`);
log();
log(
  table(
    ["goal", "value", "met"],
    goals.map((g) => [g.goal, g.value, yes(g.ok)]),
  ),
);

log();
log(
  `Memory of one page range (a fresh node ${PROBE_FLAGS.join(" ")} per row; GC forced after every page; MB above the process with the modules loaded)`,
);
log(
  table(
    [
      "scenario",
      "file",
      "KB/page",
      "pages",
      "s",
      "file MB",
      "peak",
      "retained max",
      "retained end",
      "texts",
      "peak RSS +",
      "≈ isolate",
      "< 100",
      "< 128",
      "tokenizer kept",
    ],
    memoryRows.map((r) => {
      const isolate = isolateMb(r);
      return [
        r.scenario,
        r.file,
        r.kbPerPage,
        r.range,
        r.seconds,
        r.fileMb,
        r.peakMb,
        r.retainedMaxMb,
        r.retainedEndMb,
        r.textMb,
        r.rssGrowthMb,
        isolate,
        yes(isolate < 100),
        yes(isolate < 128),
        withTokenizerKeptMb(r),
      ];
    }),
    new Set([2, 4, 5, 6, 7, 8, 9, 10, 11, 14]),
  ),
);
const modules = memoryRows[0]?.modulesMb ?? 0;
const tokenizer = memoryRows[0]?.tokenizerMb ?? 0;
log(
  `peak: heap + external (external includes arrayBuffers), sampled every 2 ms and before each page's GC; retained: right after the GC; ` +
    `peak RSS +: the process's peak resident set above the one before the file was read, which also sees synchronous spikes ` +
    `(an image decoded in one go) that the sampler cannot; texts: page texts and chunks (UTF-16); ≈ isolate: the project's modules ` +
    `(${modules} MB in Node: pdf.js with its worker half, openai, our code) + the largest of peak, peak RSS + and chunking ` +
    `(the chunker's tokenizer, ${tokenizer} MB of js-tiktoken cl100k_base, + texts: the consumer builds it after reading the range ` +
    `and releases it after chunking); tokenizer kept: modules + tokenizer + the larger peak, as if it stayed resident.`,
);
if (worst) {
  const w = worst;
  log(
    `Worst font-heavy range: ${w.file} pages ${w.range}: peak ${w.peakMb} MB = whole PDF buffer ${w.fileMb} MB (pdf.js takes it without a copy) ` +
      `+ pdf.js document after open ${round(w.afterOpenMb - w.afterReadMb, 1)} MB + what the range keeps by its end ${round(w.retainedEndMb - w.afterOpenMb - w.textMb, 1)} MB ` +
      `(pdf.js font and operator caches; gone after pdf.cleanup() or destroy: ${w.afterDestroyMb} MB left) + page texts and chunks ${w.textMb} MB ` +
      `+ one page's working set ${round(w.peakMb - w.retainedMaxMb, 1)} MB.`,
  );
}
// The "same, …" rows show what a setting DocuChat does not use would cost: not a range DocuChat runs.
const worstOverall = memoryRows
  .filter((r) => !r.scenario.startsWith("same,"))
  .reduce<MemoryRow | null>((w, r) => (!w || isolateMb(r) > isolateMb(w) ? r : w), null);
if (worstOverall)
  log(
    `Worst range overall: ${worstOverall.scenario}, ${worstOverall.file} pages ${worstOverall.range}: ≈ ${isolateMb(worstOverall)} MB beside the 128 MB isolate limit (goal: under 100).`,
  );
log();
log(`What pdf.cleanup() costs: extractPages over 50 pages, OCR off, this process, median of ${RUNS} runs (ms)`);
log(
  table(
    ["file", "pages from", "no cleanup call of ours", "as extractPages (every 10 pages)", "every page"],
    costs.map((c) => [
      c.file,
      c.from,
      c.ms.never!,
      `${c.ms.every_10} (${percentMore(c.ms.every_10!, c.ms.never!)})`,
      `${c.ms.every_1} (${percentMore(c.ms.every_1!, c.ms.never!)})`,
    ]),
    new Set([1, 2, 3, 4]),
  ),
);
log();
log(`Retention: all ${fixtureFiles.length} fixtures (OCR on), 3 passes in one process, heap after each pass with GC forced (MB)`);
log(
  table(
    ["", "heap", "heap + external", "s"],
    [
      ["before", retention.beforeHeapMb, retention.beforeHeapExtMb, null],
      ...retention.passes.map((p, i) => [`after pass ${i + 1}`, p.heapMb, p.heapExtMb, p.seconds]),
    ],
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
    cleanup_cost_ms: costs,
  }),
);
