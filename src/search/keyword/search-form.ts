// The search form of a text: what the keyword index holds (chunks.search_text, indexed as
// to_tsvector('english', search_text)) and what a query is reduced to, by the same function, so both sides meet.
// Persian words lose their diacritics and are stemmed (./persian-stemmer.ts), Persian stopwords are dropped; Latin
// words and numbers are left to PostgreSQL's 'english' snowball configuration (tables -> tabl, English stopwords).
import { isStopword, keywordTerms } from "../stopwords.ts";
import { stemPersian } from "./persian-stemmer.ts";

/** Bumped whenever searchForm changes: chunks of an older version are recomputed by the backfill (./backfill.ts). */
export const SEARCH_FORM_VERSION = 1;

const WORD = /[\p{L}\p{M}\p{N}_\u200c]+/gu;
const ARABIC_SCRIPT = /[\u0600-\u06FF]/;
const MARKS = /[\u064B-\u065F\u0670]/g;

/** The search form of normalised text (src/text/normalize.ts): space-separated words. */
export function searchForm(normalizedText: string): string {
  const words: string[] = [];
  for (const raw of normalizedText.toLowerCase().match(WORD) ?? []) {
    if (!ARABIC_SCRIPT.test(raw)) {
      words.push(raw);
      continue;
    }
    const word = raw.replace(MARKS, "");
    if (word && !isStopword(word)) words.push(stemPersian(word));
  }
  return words.join(" ");
}

export interface KeywordQuery {
  /** The query's search form: matched against the search form of chunks. */
  stemmed: string;
  /** Its meaningful words as typed, for chunks not yet given a search form ('simple' column). */
  exact: string;
  /** Quoted phrases ("...", «...», “...”): a chunk must contain each one word for word. */
  phrases: string[];
}

const QUOTED = /["«“]([^"«»“”]+)["»”]/g;

/**
 * At most this many of a query's words are looked up. Each costs GIN lookups and a capped count whatever the library's
 * size, so a pasted paragraph would otherwise cost them by the hundred: a 2,000-character query took 28 s of SQL at
 * 100,000 chunks (PGlite, bench:search's library).
 */
export const MAX_KEYWORD_TERMS = 8;

/** The longest MAX_KEYWORD_TERMS of the terms (longer words are rarer), in query order. */
function longestTerms(terms: string[]): string[] {
  const longest = new Set([...terms].sort((a, b) => [...b].length - [...a].length).slice(0, MAX_KEYWORD_TERMS));
  return terms.filter((t) => longest.has(t));
}

export function keywordQuery(normalizedQuery: string): KeywordQuery {
  const phrases = [...normalizedQuery.matchAll(QUOTED)].map((m) => m[1]!.trim()).filter(Boolean);
  const words = normalizedQuery.replace(/["«»“”]/g, " ");
  const terms = keywordTerms(words);
  if (terms.length > MAX_KEYWORD_TERMS) {
    const kept = longestTerms(terms);
    return { stemmed: searchForm(kept.join(" ")), exact: kept.join(" "), phrases };
  }
  // Within the cap, the query's whole search form: its English stopwords are the english configuration's to drop.
  return { stemmed: searchForm(words), exact: terms.join(" "), phrases };
}
