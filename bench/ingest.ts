// npm run bench:ingest — seconds from upload to `ready` for the fixture PDFs on the local stack, plus extraction
// and chunking throughput; then a 453-page PDF (generated here with qpdf from the fixtures) ingested with its page
// ranges queued at once (BENCH_INGEST_RUNS runs, the median reported), with its chunks' count and hash. Miniflare
// delivers one queue batch at a time, so locally its ranges still run one after another.
// Prints one JSON line.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { LocalApi } from "../dev/local-api.ts";
import { PROJECT_ROOT } from "../scripts/lib/db.ts";
import { chunkPages } from "../src/ingest/chunker.ts";
import { extractPages } from "../src/ingest/extract.ts";
import { openPdf } from "../src/pdf/open.ts";
import { loginAs, median, round, withLocalApi } from "./lib.ts";

const FIXTURES = ["first-latex-doc-en.pdf", "lshort-en.pdf", "lshort-fa.pdf"];
const fixturePath = (name: string) => `${PROJECT_ROOT}test/fixtures/pdf/${name}`;
const read = (name: string) => readFileSync(fixturePath(name));
/** Runs of the large PDF per mode (BENCH_INGEST_RUNS); the median is reported. */
const RUNS = Number(process.env.BENCH_INGEST_RUNS ?? 1);

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

const result = await withLocalApi(async (api) => {
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
});

/** The fixtures end to end, as one long book: lshort-en, lshort-fa, lshort-en again. */
function largePdf(): Buffer<ArrayBuffer> {
  const dir = mkdtempSync(join(tmpdir(), "docuchat-bench-ingest-"));
  try {
    const out = join(dir, "large.pdf");
    const [en, fa] = [fixturePath("lshort-en.pdf"), fixturePath("lshort-fa.pdf")];
    execFileSync("qpdf", ["--empty", "--pages", en, fa, en, "--", out]);
    return readFileSync(out);
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

const large = largePdf();
const largeRuns: Array<{ seconds: number; status: string; pages: number; chunks: number; text_sha256: string }> = [];
for (let run = 0; run < RUNS; run++)
  largeRuns.push(
    await withLocalApi(async (api) => {
      const token = await loginAs(api.url, "bench@example.com");
      const { doc, seconds } = await ingest(api, token, "large.pdf", large);
      return { seconds, status: doc.status, pages: doc.page_count, ...(await chunkDigest(api, doc.id)) };
    }),
  );
const { seconds: _, ...largeLast } = largeRuns.at(-1)!;
const large_pdf = {
  size_mb: round(large.length / 1e6, 1),
  runs: RUNS,
  ...largeLast,
  seconds_to_ready: round(median(largeRuns.map((r) => r.seconds)), 1),
  same_chunks_every_run: largeRuns.every((r) => r.text_sha256 === largeLast.text_sha256),
};
console.error(
  `large PDF (${large_pdf.size_mb} MB, ${large_pdf.pages} pages): ${large_pdf.seconds_to_ready} s to ready, ${large_pdf.chunks} chunks (${large_pdf.text_sha256})`,
);

const extraction: Record<string, unknown> = {};
for (const name of FIXTURES) extraction[name] = await extractionRate(name);

console.log(JSON.stringify({ benchmark: "ingest", node: process.version, documents: result, large_pdf, extraction_in_node: extraction }));
