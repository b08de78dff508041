// Keyword search through POST /v1/search (mode "keyword": the keyword half alone) over real producers' PDFs: a
// Persian plural is found by its singular and the reverse, an English plural by its singular, quoted phrases
// match word for word, and chunks stored before the search form existed are found meanwhile and backfilled by the cron.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import { fixturePdf, json, login, search, upload, waitForIngestion } from "../support/api.ts";
import { count, sql } from "../support/db.ts";

type Login = Awaited<ReturnType<typeof login>>;

async function ingest(owner: Login, name: string): Promise<string> {
  const doc = await json(await upload(owner.token, fixturePdf(name), name));
  expect((await waitForIngestion(owner.token, doc.id, { timeoutMs: 120_000 })).doc.status).toBe("ready");
  return doc.id;
}

/** The keyword half's hits for `query` among `fileIds`. */
const keyword = (owner: Login, query: string, fileIds: string[]) => search(owner.token, { query, top_k: 5, file_ids: fileIds, mode: "keyword" });

const noZwnj = (s: string) => s.replaceAll("\u200c", "");

describe("keyword search", () => {
  let owner: Login;
  let fa: string[];
  let en: string;
  beforeAll(async () => {
    owner = await login();
    fa = [await ingest(owner, "fa-2.chromium.pdf"), await ingest(owner, "fa-3.chromium.pdf")];
    en = await ingest(owner, "en-1.chromium.pdf");
  }, 240_000);

  it.each([
    ["چمدان", "چمدان‌ها"], // the text has only the plural
    ["پریز", "پریزهای"], // attached plural + ezafe
    ["خوراکی", "خوراکی‌های"],
    ["ایستگاه‌ها", "ایستگاه"], // the text has only the singular
    ["کلاسهای", "کلاس"],
  ])("finds %s in a chunk that says %s", async (query, inText) => {
    const hits = await keyword(owner, query, fa);
    expect(hits.length).toBeGreaterThan(0);
    expect(noZwnj(hits[0]!.text)).toContain(noZwnj(inText));
  });

  it("finds an English plural by its singular, and the reverse", async () => {
    for (const [query, inText] of [
      ["heater", "heaters"],
      ["volunteer", "volunteers"],
      ["gardens", "garden"],
    ]) {
      const hits = await keyword(owner, query!, [en]);
      expect(hits[0]?.text.toLowerCase(), query).toContain(inText);
    }
  });

  it("matches a quoted phrase word for word, an unquoted one by its words", async () => {
    const phrase = await keyword(owner, "«برنامه‌نویسی پایتون»", fa);
    expect(phrase.length).toBeGreaterThan(0);
    for (const hit of phrase) expect(noZwnj(hit.text)).toContain(noZwnj("برنامه‌نویسی پایتون"));
    // Both words are in the text, but never in this order.
    expect(await keyword(owner, '"پایتون برنامه‌نویسی"', fa)).toEqual([]);
    expect((await keyword(owner, "پایتون برنامه‌نویسی", fa)).length).toBeGreaterThan(0);
    expect((await keyword(owner, '"opening hours" garden', [en]))[0]?.text.toLowerCase()).toContain("opening hours");
  });

  it("ranks a chunk holding the question's rare word above chunks holding only its common one", async () => {
    // قطار is on several chunks of fa-2, چمدان on one that does not say قطار: the rare word wins.
    const hits = await keyword(owner, "قطار چمدان", fa);
    expect(hits.length).toBeGreaterThan(1);
    expect(noZwnj(hits[0]!.text)).toContain("چمدان");
  });

  it.each([
    ["Persian", "چمدان‌ها", "fa"],
    ["English", "volunteers opening hours", "en"],
  ] as const)("%s: hybrid scores are normalised, and the chunk both halves put first comes first with 1", async (_, query, which) => {
    const files = which === "fa" ? fa : [en];
    const ask = (mode?: "semantic" | "keyword") => search(owner.token, { query, top_k: 10, file_ids: files, ...(mode ? { mode } : {}) });
    const [semantic, kw, hybrid] = [await ask("semantic"), await ask("keyword"), await ask()];
    expect(semantic[0]!.chunk_id).toBe(kw[0]!.chunk_id);
    expect(hybrid[0]).toMatchObject({ chunk_id: kw[0]!.chunk_id, score: 1 });
    // Each method alone puts its best at 1 too; every fused score is between 0 and 1.
    expect([semantic[0]!.score, kw[0]!.score]).toEqual([1, 1]);
    expect(hybrid.every((hit) => hit.score >= 0 && hit.score <= 1)).toBe(true);
  });
});

describe("chunks stored before the search form", () => {
  async function cron() {
    const ctx = createExecutionContext();
    // A long stall time keeps the run's stall sweeper off the documents other test files are ingesting.
    await worker.scheduled!(
      createScheduledController({ cron: "*/5 * * * *", scheduledTime: Date.now() }),
      { ...env, INGEST_STALL_MINUTES: "120" } as never,
      ctx,
    );
    await waitOnExecutionContext(ctx);
  }

  it("are found by their exact words until the cron backfills them, then by their stems", async () => {
    const owner = await login();
    const id = await ingest(owner, "fa-2.pango.pdf");
    await sql().query("update chunks set search_text = null, search_version = null where document_id = $1", [id]);
    const outdated = () => count("select 1 from chunks where document_id = $1 and search_version is null", [id]);
    expect(await outdated()).toBeGreaterThan(0);

    // Meanwhile: the exact word still matches; the singular of a word the text has only in the plural does not.
    expect(noZwnj((await keyword(owner, "چمدان‌ها", [id]))[0]?.text ?? "")).toContain("چمدانها");
    expect(await keyword(owner, "چمدان", [id])).toEqual([]);

    for (let run = 0; run < 10 && (await outdated()) > 0; run++) await cron();
    expect(await outdated()).toBe(0);
    const [row] = await sql().query("select search_text from chunks where document_id = $1 and search_text like $2 limit 1", [id, "%چمدان%"]);
    expect(row?.search_text).toMatch(/(^| )چمدان( |$)/);
    expect(noZwnj((await keyword(owner, "چمدان", [id]))[0]?.text ?? "")).toContain("چمدانها");
  }, 180_000);
});
