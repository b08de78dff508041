// npm run bench:ingest — seconds from upload to `ready` for the fixture PDFs on the local stack, plus extraction
// and chunking throughput. Prints one JSON line.
import { readFileSync } from "node:fs";
import { PROJECT_ROOT } from "../scripts/lib/db.ts";
import { chunkPages } from "../src/ingest/chunker.ts";
import { extractPages } from "../src/ingest/extract.ts";
import { openPdf } from "../src/pdf/open.ts";
import { loginAs, round, withLocalApi } from "./lib.ts";

const FIXTURES = ["first-latex-doc-en.pdf", "lshort-en.pdf", "lshort-fa.pdf"];
const read = (name: string) => readFileSync(`${PROJECT_ROOT}test/fixtures/pdf/${name}`);

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

const result = await withLocalApi(async (api) => {
  const token = await loginAs(api.url, "bench@example.com");
  const documents: Record<string, unknown> = {};
  for (const name of FIXTURES) {
    const form = new FormData();
    form.append("file", new File([read(name)], name, { type: "application/pdf" }));
    const started = performance.now();
    const res = await fetch(`${api.url}/v1/files`, {
      method: "POST",
      headers: { "X-Tenant-ID": "demo", Authorization: `Bearer ${token}` },
      body: form,
    });
    const uploadMs = performance.now() - started;
    const { id } = (await res.json()) as { id: string };
    let doc: { status: string; page_count: number; chunk_count: number; token_count: number };
    do {
      await new Promise((r) => setTimeout(r, 20));
      doc = (await (
        await fetch(`${api.url}/v1/files/${id}`, { headers: { "X-Tenant-ID": "demo", Authorization: `Bearer ${token}` } })
      ).json()) as typeof doc;
    } while (doc.status === "queued" || doc.status === "processing");
    const seconds = (performance.now() - started) / 1000;
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

const extraction: Record<string, unknown> = {};
for (const name of FIXTURES) extraction[name] = await extractionRate(name);

console.log(JSON.stringify({ benchmark: "ingest", node: process.version, documents: result, extraction_in_node: extraction }));
