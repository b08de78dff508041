// Persian questions, paraphrased as users ask them, over each producer's PDFs of the same texts: the passage
// that answers must be in the top 5 for at least 4 questions in 5 (test/fixtures/source/questions.json).
import { describe, expect, it } from "vitest";
import { fixturePdf, fixtureSource, json, login, search, upload, uploadReady, waitForIngestion } from "../support/api.ts";
import { canonicalText, fuzzyIncludes } from "../support/cer.ts";

interface Question {
  source: string;
  question: string;
  evidence: string;
}

const QUESTIONS = JSON.parse(fixtureSource("questions.json")) as Question[];

/** Letters only: a hit counts when it holds the evidence, whatever spaces or ZWNJs the producer kept. */
const letters = (s: string) => canonicalText(s).replace(/[\s\u200C]/g, "");

/** Searches the questions of `sources` over their `producer` PDFs, among the `distractors` PDFs. */
async function hitRate(producer: string, sources: string[], distractors: string[] = [], maxEditRate = 0) {
  const { token } = await login();
  const ids: Record<string, string> = {};
  for (const file of distractors) {
    const doc = await uploadReady(token, fixturePdf(file), file);
    ids[file] = doc.id;
  }
  for (const source of sources) {
    const name = `${source}.${producer}.pdf`;
    const doc = await json(await upload(token, fixturePdf(name), name));
    expect((await waitForIngestion(token, doc.id, { timeoutMs: 120_000 })).doc.status).toBe("ready");
    ids[source] = doc.id;
  }
  const questions = QUESTIONS.filter((q) => sources.includes(q.source));
  const misses: string[] = [];
  for (const q of questions) {
    const hits = await search(token, { query: q.question, top_k: 5, file_ids: Object.values(ids) });
    if (!hits.some((h) => h.file_id === ids[q.source] && fuzzyIncludes(letters(h.text), letters(q.evidence), maxEditRate))) misses.push(q.question);
  }
  return { found: questions.length - misses.length, total: questions.length, misses };
}

describe("Persian search over every producer's PDFs", () => {
  it.each(["chromium", "libreoffice", "pango", "xelatex"])(
    "%s: the answer is in the top 5 for at least 4 questions in 5",
    async (producer) => {
      const { found, total, misses } = await hitRate(producer, ["fa-1", "fa-2", "fa-3"]);
      expect(total).toBe(15);
      expect(found / total, `missed: ${misses.join(" | ")}`).toBeGreaterThanOrEqual(0.8);
    },
    180_000,
  );

  it("scan (OCR): the answer is in the top 5 for at least 4 questions in 5", async () => {
    // Among the other texts' PDFs; OCR may misread a letter or two of the evidence (at most 1 in 6).
    const { found, total, misses } = await hitRate("scan", ["fa-1"], ["fa-2.chromium.pdf", "fa-3.chromium.pdf"], 1 / 6);
    expect(found / total, `missed: ${misses.join(" | ")}`).toBeGreaterThanOrEqual(0.8);
  }, 180_000);
});
