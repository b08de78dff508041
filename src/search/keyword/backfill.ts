// Gives chunks stored before the search form existed, or under an older SEARCH_FORM_VERSION, their search form. The
// cron runs it every few minutes, so an upgrade needs no operator step; until a chunk is done, keyword search
// matches it through its exact-word column (src/search/hybrid.ts).
import type { Db } from "../../db/client.ts";
import { SEARCH_FORM_VERSION, searchForm } from "./search-form.ts";

/** Chunks per run: a large backlog drains over a few runs, each well inside a cron invocation's time. */
export const BACKFILL_BATCH = 500;

/** Computes the search form of up to `limit` outdated chunks (across tenants: it only rewrites each row itself). */
export async function backfillSearchForms(db: Db, limit = BACKFILL_BATCH): Promise<number> {
  const sql = db.$client;
  const rows = (await sql.query(
    "select id, text from chunks where search_version is null or search_version < $1 order by search_version nulls first, id limit $2",
    [SEARCH_FORM_VERSION, limit],
  )) as Array<{ id: string; text: string }>;
  if (!rows.length) return 0;
  await sql.query(
    `update chunks c set search_text = f.search_text, search_version = $3
     from unnest($1::uuid[], $2::text[]) as f(id, search_text) where c.id = f.id`,
    [rows.map((r) => r.id), rows.map((r) => searchForm(r.text)), SEARCH_FORM_VERSION],
  );
  return rows.length;
}
