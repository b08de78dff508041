// npm run bench:corpus -- DIR: DocuChat's extraction over every PDF in DIR (e.g. the PDFs of pdf.js's own test
// suite), beside poppler's pdftotext on the same files: how many open, fail, hang, and how much of pdftotext's
// text ours reads. OCR is off (pages that would go to it count as such). Each PDF runs in a child process that is
// killed after PER_FILE_SECONDS, so a PDF that loops cannot stop the run.
import { execFileSync, fork } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { median } from "./lib.ts";

const PER_FILE_SECONDS = 30;
const MAX_PAGES = 500;

interface FileResult {
  file: string;
  outcome: "read" | "no_text" | "encrypted" | "invalid_pdf" | "too_many_pages" | "crash" | "timeout";
  pages: number;
  chars: number;
  warnings: number;
  wantOcr: number;
  ms: number;
  error?: string;
}

const letters = (s: string) => s.replace(/[\s\p{P}\p{S}]/gu, "").length;

async function readOne(path: string): Promise<Omit<FileResult, "file">> {
  const { openPdf } = await import("../src/pdf/open.ts");
  const { extractPages } = await import("../src/ingest/extract.ts");
  const { nodePdfResources } = await import("../scripts/lib/pdf-resources.ts");
  const started = performance.now();
  let pdf;
  try {
    pdf = await openPdf(new Uint8Array(readFileSync(path)), nodePdfResources());
  } catch (err) {
    const code = (err as { code?: string }).code;
    return {
      outcome: code === "encrypted" ? "encrypted" : "invalid_pdf",
      pages: 0,
      chars: 0,
      warnings: 0,
      wantOcr: 0,
      ms: performance.now() - started,
      error: String(err).slice(0, 200),
    };
  }
  try {
    if (pdf.numPages > MAX_PAGES) return { outcome: "too_many_pages", pages: pdf.numPages, chars: 0, warnings: 0, wantOcr: 0, ms: 0 };
    let chars = 0;
    let warnings = 0;
    let wantOcr = 0;
    for (let from = 1; from <= pdf.numPages; from += 50) {
      const r = await extractPages(pdf, from, Math.min(pdf.numPages, from + 49), { ocr: null, ocrPagesLeft: 0 });
      chars += r.pages.reduce((n, p) => n + letters(p.text), 0);
      warnings += r.warnings.filter((w) => w.code !== "ocr_off").length;
      wantOcr += r.warnings.filter((w) => w.code === "ocr_off").length;
    }
    return { outcome: chars ? "read" : "no_text", pages: pdf.numPages, chars, warnings, wantOcr, ms: performance.now() - started };
  } finally {
    await pdf.loadingTask.destroy();
  }
}

if (process.argv[2] === "--child") {
  process.on("message", async (path: string) => {
    try {
      process.send!(await readOne(path));
    } catch (err) {
      process.send!({ outcome: "crash", pages: 0, chars: 0, warnings: 0, wantOcr: 0, ms: 0, error: String(err).slice(0, 200) });
    }
  });
} else {
  const dir = process.argv[2];
  if (!dir) throw new Error("usage: npm run bench:corpus -- DIR (a folder of PDFs)");
  const files = readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith(".pdf"))
    .sort();
  const results: Array<FileResult & { reference: number }> = [];
  let child = fork(import.meta.filename, ["--child"], { stdio: ["ignore", "ignore", "ignore", "ipc"] });
  for (const [i, file] of files.entries()) {
    const path = join(dir, file);
    const result = await new Promise<Omit<FileResult, "file">>((resolve) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        child = fork(import.meta.filename, ["--child"], { stdio: ["ignore", "ignore", "ignore", "ipc"] });
        resolve({ outcome: "timeout", pages: 0, chars: 0, warnings: 0, wantOcr: 0, ms: PER_FILE_SECONDS * 1000 });
      }, PER_FILE_SECONDS * 1000);
      const onExit = () => {
        clearTimeout(timer);
        child = fork(import.meta.filename, ["--child"], { stdio: ["ignore", "ignore", "ignore", "ipc"] });
        resolve({ outcome: "crash", pages: 0, chars: 0, warnings: 0, wantOcr: 0, ms: 0, error: "the process died" });
      };
      child.once("exit", onExit);
      child.once("message", (r: Omit<FileResult, "file">) => {
        clearTimeout(timer);
        child.off("exit", onExit);
        resolve(r);
      });
      child.send(path);
    });
    let reference = 0;
    try {
      reference = letters(execFileSync("pdftotext", ["-q", path, "-"], { timeout: PER_FILE_SECONDS * 1000, maxBuffer: 1 << 28 }).toString());
    } catch {
      // pdftotext could not read it either.
    }
    results.push({ file, ...result, reference });
    if ((i + 1) % 100 === 0) process.stderr.write(`bench:corpus — ${i + 1}/${files.length}\n`);
  }
  child.kill();

  const by = (o: FileResult["outcome"]) => results.filter((r) => r.outcome === o).length;
  const withText = results.filter((r) => r.reference >= 200);
  const share = withText.map((r) => Math.min(1, r.chars / r.reference));
  const lowShare = withText.filter((r) => r.chars < 0.5 * r.reference);
  const summary = {
    files: results.length,
    outcomes: Object.fromEntries(
      (["read", "no_text", "encrypted", "invalid_pdf", "too_many_pages", "crash", "timeout"] as const).map((o) => [o, by(o)]),
    ),
    pages_with_warnings: results.reduce((n, r) => n + r.warnings, 0),
    pages_that_want_ocr: results.reduce((n, r) => n + r.wantOcr, 0),
    files_where_pdftotext_reads_200_letters: withText.length,
    median_share_of_pdftotext_letters: median(share),
    files_under_half_of_pdftotext: lowShare.length,
    files_no_text_but_pdftotext_reads: withText.filter((r) => r.outcome === "no_text").length,
    median_ms_per_file: median(results.filter((r) => r.outcome === "read").map((r) => r.ms)),
  };
  console.error(JSON.stringify(summary, null, 2));
  console.error("Under half of pdftotext's letters (letters ours / pdftotext):");
  for (const r of lowShare.slice(0, 40))
    console.error(`  ${r.file}: ${r.chars} / ${r.reference} (${r.outcome}${r.wantOcr ? `, ${r.wantOcr} pages want OCR` : ""})`);
  for (const r of results.filter((x) => x.outcome === "crash" || x.outcome === "timeout"))
    console.error(`  ${r.outcome}: ${r.file} ${r.error ?? ""}`);
  console.log(JSON.stringify({ benchmark: "corpus", ...summary }));
}
