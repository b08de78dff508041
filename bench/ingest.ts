// npm run bench:ingest — seconds from upload to `ready` for the fixture PDFs on the local stack, plus extraction
// and chunking throughput; then two large PDFs generated here from the fixtures, each ingested with its page ranges
// queued at once (BENCH_INGEST_RUNS runs, the medians reported), with their chunks' count and hash and the bytes
// the ranges read from R2 (their ingest log lines' bytes_read): a 453-page PDF joined with qpdf, and a 22 MB,
// 420-page one whose every page also carries its own photo-like JPEG (needs img2pdf and pdftoppm). Miniflare
// delivers one queue batch at a time, so locally the ranges still run one after another.
// BENCH_INGEST_CASES picks among documents, large, photo (all by default). Prints one JSON line.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { LocalApi } from "../dev/local-api.ts";
import { PROJECT_ROOT } from "../scripts/lib/db.ts";
import { chunkPages } from "../src/ingest/chunker.ts";
import { extractPages } from "../src/ingest/extract.ts";
import { openPdf } from "../src/pdf/open.ts";
import { makeIllustratedTextPdf } from "../test/support/pdf-factory.ts";
import { loginAs, median, round, withLocalApi } from "./lib.ts";

const FIXTURES = ["first-latex-doc-en.pdf", "lshort-en.pdf", "lshort-fa.pdf"];
const fixturePath = (name: string) => `${PROJECT_ROOT}test/fixtures/pdf/${name}`;
const read = (name: string) => readFileSync(fixturePath(name));
/** Runs of the large PDF per mode (BENCH_INGEST_RUNS); the median is reported. */
const RUNS = Number(process.env.BENCH_INGEST_RUNS ?? 1);
const CASES = new Set((process.env.BENCH_INGEST_CASES ?? "documents,large,photo").split(","));

/** Extraction and chunking alone, in this process, with the Worker's own code. */
async function extractionRate(name: string) {
  const pdf = await openPdf(new Uint8Array(read(name)));
  const t0 = performance.now();
  // Text layer only (OCR off): the born-digital fixtures have no page that needs it.
  const { pages, warnings } = await extractPages(pdf, 1, pdf.numPages, { ocr: null, ocrPagesLeft: 0 });
  const t1 = performance.now();
  const chunks = chunkPages(pages);
  const t2 = performance.now();
  await pdf.loadingTask.destroy();
  return {
    pages: pdf.numPages,
    extract_pages_per_s: round(pdf.numPages / ((t1 - t0) / 1000), 1),
    chunks: chunks.length,
    chunk_ms: round(t2 - t1, 1),
    warnings: warnings.length,
  };
}

interface IngestedDoc {
  id: string;
  status: string;
  page_count: number;
  chunk_count: number;
}

/** Uploads the file and polls it until ingestion ends. */
async function ingest(api: LocalApi, token: string, name: string, bytes: Buffer<ArrayBuffer>) {
  const headers = { "X-Tenant-ID": "demo", Authorization: `Bearer ${token}` };
  const form = new FormData();
  form.append("file", new File([bytes], name, { type: "application/pdf" }));
  const started = performance.now();
  const res = await fetch(`${api.url}/v1/files`, { method: "POST", headers, body: form });
  const uploadMs = performance.now() - started;
  if (!res.ok) throw new Error(`upload of ${name} answered ${res.status}: ${await res.text()}`);
  const { id } = (await res.json()) as { id: string };
  let doc: IngestedDoc;
  do {
    await new Promise((r) => setTimeout(r, 20));
    const polled = await fetch(`${api.url}/v1/files/${id}`, { headers });
    // A poll the busy local stack could not answer in time (503) is asked again.
    doc = polled.ok ? ((await polled.json()) as IngestedDoc) : { id, status: "processing", page_count: 0, chunk_count: 0 };
  } while (doc.status === "queued" || doc.status === "processing");
  return { doc, uploadMs, seconds: (performance.now() - started) / 1000 };
}

const result = CASES.has("documents")
  ? await withLocalApi(async (api) => {
      const token = await loginAs(api.url, "bench@example.com");
      const documents: Record<string, unknown> = {};
      for (const name of FIXTURES) {
        const { doc, uploadMs, seconds } = await ingest(api, token, name, read(name));
        documents[name] = {
          status: doc.status,
          pages: doc.page_count,
          chunks: doc.chunk_count,
          upload_ms: round(uploadMs, 1),
          seconds_to_ready: round(seconds),
          pages_per_s: round(doc.page_count / seconds, 1),
          chunks_per_s: round(doc.chunk_count / seconds, 1),
        };
      }
      return documents;
    })
  : null;

/** qpdf's `--pages` of the fixtures into one file. */
function joined(dir: string, pages: string[]): string {
  const out = join(dir, "joined.pdf");
  execFileSync("qpdf", ["--empty", "--pages", ...pages, "--", out]);
  return out;
}

/** The fixtures end to end, as one long book: lshort-en, lshort-fa, lshort-en again. */
function largePdf(): Buffer<ArrayBuffer> {
  const dir = mkdtempSync(join(tmpdir(), "docuchat-bench-ingest-"));
  try {
    const [en, fa] = [fixturePath("lshort-en.pdf"), fixturePath("lshort-fa.pdf")];
    return readFileSync(joined(dir, [en, fa, en]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * lshort-en, lshort-fa and 120 pages of lshort-en (420 pages), each page over its own 256 × 256 JPEG of noise
 * (photo-like: JPEG barely compresses it, about 45 KB a page): 22.7 MB, mostly pictures, as a scanned or
 * illustrated book is. The noise is pdf-factory's, rendered to JPEG by pdftoppm; img2pdf makes a page of each,
 * qpdf lays them under the text pages.
 */
function photoPdf(): Buffer<ArrayBuffer> {
  const dir = mkdtempSync(join(tmpdir(), "docuchat-bench-photo-"));
  try {
    const [en, fa] = [fixturePath("lshort-en.pdf"), fixturePath("lshort-fa.pdf")];
    const text = joined(dir, [en, fa, en, "1-120"]);
    const pages = Number(execFileSync("qpdf", ["--show-npages", text], { encoding: "utf8" }));
    // makeIllustratedTextPdf draws each page's image at 256 × 256 pt, 50 pt from the bottom-left corner.
    writeFileSync(
      join(dir, "noise.pdf"),
      makeIllustratedTextPdf(
        Array.from({ length: pages }, () => ""),
        256 * 256,
      ),
    );
    const crop = ["-x", "50", "-y", String(792 - 50 - 256), "-W", "256", "-H", "256"];
    execFileSync("pdftoppm", ["-r", "72", "-gray", "-jpeg", "-jpegopt", "quality=92", ...crop, join(dir, "noise.pdf"), join(dir, "photo")]);
    const photos = readdirSync(dir)
      .filter((f) => f.startsWith("photo-") && f.endsWith(".jpg"))
      .sort()
      .map((f) => join(dir, f));
    execFileSync("img2pdf", [...photos, "-o", join(dir, "photos.pdf")]);
    execFileSync("qpdf", [text, "--underlay", join(dir, "photos.pdf"), "--", join(dir, "photo.pdf")]);
    return readFileSync(join(dir, "photo.pdf"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The document's chunks as stored, in order: their count and a hash of ordinal, pages and text. */
async function chunkDigest(api: LocalApi, documentId: string) {
  const db = new pg.Client({ connectionString: api.stack.postgresUrl });
  await db.connect();
  try {
    const { rows } = await db.query("select ordinal, page_start, page_end, text from chunks where document_id = $1 order by ordinal", [documentId]);
    const hash = createHash("sha256");
    for (const r of rows) hash.update(`${r.ordinal}\u0000${r.page_start}\u0000${r.page_end}\u0000${r.text}\u0001`);
    return { chunks: rows.length, text_sha256: hash.digest("hex").slice(0, 16) };
  } finally {
    await db.end();
  }
}

interface RangeLine {
  document_id: string;
  status: string;
  from_page: number;
  duration_ms: number;
  bytes_read?: number;
}

/** The ingest log lines of the document's ranges, once the one that ended it has been logged (it follows `ready`). */
async function rangeLines(lines: string[], documentId: string): Promise<RangeLine[]> {
  const parse = () =>
    lines.filter((l) => l.includes('"msg":"ingest"') && l.includes(documentId)).map((l) => JSON.parse(l.slice(l.indexOf("{"))) as RangeLine);
  for (let waited = 0; waited < 5_000 && !parse().some((l) => l.status !== "range_done"); waited += 50) await new Promise((r) => setTimeout(r, 50));
  return parse();
}

/** BENCH_INGEST_RUNS ingestions of `bytes`, each on a fresh local API: seconds to ready, chunks, bytes read from R2. */
async function largeCase(name: string, bytes: Buffer<ArrayBuffer>) {
  const runs: Array<{
    seconds: number;
    status: string;
    pages: number;
    chunks: number;
    text_sha256: string;
    ranges: number;
    bytes_read: number | null;
    later_range_ms: number;
  }> = [];
  for (let run = 0; run < RUNS; run++) {
    const lines: string[] = [];
    runs.push(
      await withLocalApi(
        async (api) => {
          const token = await loginAs(api.url, "bench@example.com");
          const { doc, seconds } = await ingest(api, token, name, bytes);
          const ranges = await rangeLines(lines, doc.id);
          // Null where the Worker does not log bytes_read (revisions before it): every range read the whole file then.
          const bytesRead = ranges.every((r) => r.bytes_read !== undefined) ? ranges.reduce((n, r) => n + r.bytes_read!, 0) : null;
          return {
            seconds,
            status: doc.status,
            pages: doc.page_count,
            ...(await chunkDigest(api, doc.id)),
            ranges: ranges.length,
            bytes_read: bytesRead,
            later_range_ms: median(ranges.filter((r) => r.from_page !== 1).map((r) => r.duration_ms)),
          };
        },
        {},
        { workerLog: (line) => lines.push(line) },
      ),
    );
    const last = runs.at(-1)!;
    console.error(
      `${name} run ${run + 1}: ${round(last.seconds, 1)} s to ready, ${last.ranges} ranges read ${last.bytes_read ?? "?"} bytes from R2, ${last.later_range_ms} ms a range after the first`,
    );
  }
  const { seconds: _, bytes_read: __, later_range_ms: ___, ...last } = runs.at(-1)!;
  const summary = {
    size_mb: round(bytes.length / 1e6, 1),
    size_bytes: bytes.length,
    runs: RUNS,
    ...last,
    seconds_to_ready: round(median(runs.map((r) => r.seconds)), 1),
    seconds_each_run: runs.map((r) => round(r.seconds, 1)),
    later_range_ms: median(runs.map((r) => r.later_range_ms)),
    bytes_read: runs[0]!.bytes_read === null ? null : median(runs.map((r) => r.bytes_read!)),
    same_chunks_every_run: runs.every((r) => r.text_sha256 === last.text_sha256),
  };
  console.error(
    `${name} (${summary.size_mb} MB, ${summary.pages} pages): ${summary.seconds_to_ready} s to ready, ${summary.chunks} chunks (${summary.text_sha256}), ${summary.bytes_read ?? "?"} bytes read`,
  );
  return summary;
}

const large_pdf = CASES.has("large") ? await largeCase("large.pdf", largePdf()) : null;
const photo_pdf = CASES.has("photo") ? await largeCase("photo.pdf", photoPdf()) : null;

const extraction: Record<string, unknown> = {};
if (CASES.has("documents")) for (const name of FIXTURES) extraction[name] = await extractionRate(name);

console.log(JSON.stringify({ benchmark: "ingest", node: process.version, documents: result, large_pdf, photo_pdf, extraction_in_node: extraction }));
