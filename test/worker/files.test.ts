// Happy path: real PDFs (English and Persian) go through upload → queue → ready, then search finds the right pages.
import { describe, expect, it } from "vitest";
import { call, fixturePdf, json, login, search, upload, waitForIngestion } from "../support/api.ts";

async function sha256(bytes: ArrayBuffer | Uint8Array) {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const pageOf = (hit: { page_start: number; page_end: number }) => [hit.page_start, hit.page_end];

describe("upload and ingestion", () => {
  it("accepts a PDF with 202, ingests it to ready, and serves it back byte for byte", async () => {
    const { token } = await login();
    const bytes = fixturePdf("first-latex-doc-en.pdf");
    const res = await upload(token, bytes, "first-latex-doc-en.pdf");
    expect(res.status).toBe(202);
    const created = await json(res);
    expect(created).toMatchObject({ status: "queued", filename: "first-latex-doc-en.pdf", size_bytes: bytes.length, sha256: await sha256(bytes) });
    expect(Date.parse(created.created_at)).toBeGreaterThan(Date.now() - 60_000);

    const { doc } = await waitForIngestion(token, created.id);
    expect(doc).toMatchObject({ status: "ready", page_count: 9, progress: { pages_done: 9, pages_total: 9 }, error: null });
    expect(doc.chunk_count).toBeGreaterThan(5);
    expect(doc.token_count).toBeGreaterThan(2000);

    const download = await call(`/v1/files/${created.id}/download`, { token });
    expect(download.status).toBe(200);
    expect(download.headers.get("Content-Type")).toBe("application/pdf");
    expect(download.headers.get("Content-Disposition")).toContain("first-latex-doc-en.pdf");
    expect(await sha256(await download.arrayBuffer())).toBe(created.sha256);
  });

  it("returns the existing document when the same bytes are uploaded again", async () => {
    const { token } = await login();
    const bytes = fixturePdf("first-latex-doc-en.pdf");
    const first = await json(await upload(token, bytes, "a.pdf"));
    const again = await upload(token, bytes, "renamed.pdf");
    expect(again.status).toBe(200);
    expect((await json(again)).id).toBe(first.id);
    const list = await json(await call("/v1/files", { token }));
    expect(list.files.map((f: { id: string }) => f.id)).toEqual([first.id]);
  });

  it("ingests the 153-page English manual with visible progress, and search finds the right pages", async () => {
    const { token } = await login();
    const created = await json(await upload(token, fixturePdf("lshort-en.pdf"), "lshort-en.pdf"));
    const { doc, seen } = await waitForIngestion(token, created.id);
    expect(doc).toMatchObject({ status: "ready", page_count: 153, progress: { pages_done: 153, pages_total: 153 } });
    // Progress is reported while it runs, never going backwards.
    const progress = seen.map((s) => s.pages_done);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(new Set(progress).size).toBeGreaterThan(1);

    const exact = await search(token, { query: "Each letter is considered to be the name of a variable and will be typeset as such" });
    expect(exact[0]!.page_start).toBeLessThanOrEqual(60);
    expect(exact[0]!.page_end).toBeGreaterThanOrEqual(60);
    expect(exact[0]).toMatchObject({ file_id: created.id, filename: "lshort-en.pdf" });

    const paraphrase = await search(token, { query: "How does LaTeX hyphenate words?", top_k: 3 });
    expect(paraphrase).toHaveLength(3);
    // Ranking paraphrases is issue 12's work (the OR-of-all-words keyword branch favours chunks full of "LaTeX");
    // the hyphenation pages must be among the first three.
    expect(paraphrase.some((hit) => pageOf(hit).some((p) => p >= 32 && p <= 37))).toBe(true);

    const tables = await search(token, { query: "tabular environment columns", top_k: 5 });
    expect(tables.filter((h) => h.page_end >= 48 && h.page_start <= 51).length).toBeGreaterThanOrEqual(2);
    // Scores are ordered.
    expect(tables.map((h) => h.score)).toEqual([...tables.map((h) => h.score)].sort((a, b) => b - a));
  });

  it("ingests the 147-page Persian manual (presentation forms normalised) and finds Persian text", async () => {
    const { token } = await login();
    const created = await json(await upload(token, fixturePdf("lshort-fa.pdf"), "lshort-fa.pdf"));
    const { doc } = await waitForIngestion(token, created.id);
    expect(doc).toMatchObject({ status: "ready", page_count: 147 });

    const hits = await search(token, { query: "راه حل بهتری را توسط محیط amsmath", top_k: 5 });
    expect(hits[0]!.page_start).toBeLessThanOrEqual(60);
    expect(hits[0]!.page_end).toBeGreaterThanOrEqual(60);
    // Stored text is normalised: letters, not Arabic presentation forms (U+FB50–U+FEFF).
    expect(hits[0]!.text).not.toMatch(/[\uFB50-\uFDFF\uFE70-\uFEFF]/);
    expect(hits[0]!.text).toContain("amsmath");

    // A query typed with Arabic yeh/kaf and Arabic presentation forms finds the same pages.
    const variant = await search(token, { query: "راه حل بهتري را توسط محيط amsmath", top_k: 5 });
    expect(variant[0]!.chunk_id).toBe(hits[0]!.chunk_id);
  });

  it("lists documents newest first with a working cursor", async () => {
    const { token } = await login();
    const ids: string[] = [];
    for (const text of ["one", "two", "three"]) {
      const res = await upload(token, `%PDF-1.4\n% ${text} ${crypto.randomUUID()}\n`, `${text}.pdf`);
      ids.push((await json(res)).id);
    }
    const page1 = await json(await call("/v1/files?limit=2", { token }));
    expect(page1.files.map((f: { id: string }) => f.id)).toEqual([ids[2], ids[1]]);
    expect(page1.next_cursor).toEqual(expect.any(String));
    const page2 = await json(await call(`/v1/files?limit=2&cursor=${encodeURIComponent(page1.next_cursor)}`, { token }));
    expect(page2.files.map((f: { id: string }) => f.id)).toEqual([ids[0]]);
    expect(page2.next_cursor).toBeNull();
  });

  it("restricts search to file_ids when given", async () => {
    const { token } = await login();
    const a = await json(await upload(token, fixturePdf("first-latex-doc-en.pdf"), "first.pdf"));
    await waitForIngestion(token, a.id);
    const none = await search(token, { query: "LaTeX document", file_ids: [crypto.randomUUID()] });
    expect(none).toEqual([]);
    const only = await search(token, { query: "LaTeX document", file_ids: [a.id], top_k: 50 });
    expect(only.length).toBeGreaterThan(0);
    expect(new Set(only.map((h) => h.file_id))).toEqual(new Set([a.id]));
  });
});
