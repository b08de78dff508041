// Words too common to say anything in a keyword match. PostgreSQL's 'simple' configuration keeps them all, so
// the exact-word query drops them itself; the search form (src/search/keyword/) drops the Persian ones and its
// 'english' configuration the English ones.
const ENGLISH = `a about above after again against all am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her here hers
herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on once
only or other our ours ourselves out over own same she should so some such than that the their theirs them themselves
then there these they this those through to too under until up very was we were what when where which while who whom
why will with would you your yours yourself yourselves`;

const PERSIAN = `و در به از که این را با است برای آن یک خود تا کرد بر هم نیز می شود ها های ای شده بود کند باید یا اما هر
اگر ما من تو او آنها ایشان شما دیگر همه چه چرا کجا چگونه بی پس پیش روی زیر بین نه نمی هست نیست شد کنند کنید کرده
کردن دارد دارند داشت بوده باشد باشند آیا چون ولی همین همان آنکه اینکه وی`;

const STOPWORDS = new Set([...ENGLISH.split(/\s+/), ...PERSIAN.split(/\s+/)]);

/** Whether a lower-cased word (ZWNJs ignored) is too common to search for. */
export function isStopword(word: string): boolean {
  return STOPWORDS.has(word.replaceAll("\u200c", ""));
}

/** The query's words that carry meaning, in order, lower-cased (input already normalised). */
export function keywordTerms(normalizedQuery: string): string[] {
  const words = normalizedQuery.toLowerCase().match(/[\p{L}\p{N}_\u200c]+/gu) ?? [];
  const meaningful = words.filter((w) => !isStopword(w));
  return [...new Set(meaningful.length ? meaningful : words)];
}
