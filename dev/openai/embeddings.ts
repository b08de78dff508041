// The stand-in's "embedding model": signed feature hashing of word unigrams, word bigrams and
// character 3-grams, so cosine similarity tracks lexical overlap (English and Persian alike).
// Deterministic: the same text and dimension always give the same vector.

// Bidi controls, ZWJ, BOM, soft hyphen and tatweel carry no meaning for matching.
// biome-ignore lint/suspicious/noMisleadingCharacterClass: single invisible code points (ZWJ among them), never a joined sequence
const INVISIBLE = /[\u00AD\u0640\u061C\u200B\u200D-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g;
// Arabic letter variants folded onto the Persian (or plain) letter.
const LETTER_MAP: Record<string, string> = {
  "\u064A": "\u06CC", // ي Arabic yeh -> ی
  "\u0649": "\u06CC", // ى alef maksura -> ی
  "\u0643": "\u06A9", // ك Arabic kaf -> ک
  "\u0629": "\u0647", // ة teh marbuta -> ه
  "\u06D5": "\u0647", // ە ae (what ۀ leaves after its hamza is stripped) -> ه
  "\u0671": "\u0627", // ٱ alef wasla -> ا
};
const LETTERS = new RegExp(`[${Object.keys(LETTER_MAP).join("")}]`, "g");

/**
 * NFKC (folds Arabic presentation forms, full-width forms, ligatures), lowercase, strip diacritics
 * (harakat, hamza/madda marks, Latin accents), drop invisible marks, ZWNJ -> space (so "کتاب‌ها"
 * shares the word "کتاب"), fold Arabic yeh/kaf to Persian, and Persian/Arabic digits to ASCII.
 */
export function normalizeText(text: string): string {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .normalize("NFD")
    .replace(/\p{Mn}/gu, "")
    .replace(INVISIBLE, "")
    .replace(/\u200C/g, " ")
    .replace(LETTERS, (c) => LETTER_MAP[c] ?? c)
    .replace(/[\u06F0-\u06F9]/g, (d) => String(d.charCodeAt(0) - 0x06f0))
    .replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x0660))
    .normalize("NFC");
}

/** Normalised words: runs of letters and digits. */
export function words(text: string): string[] {
  return normalizeText(text).match(/[\p{L}\p{N}]+/gu) ?? [];
}

// Function words get a small weight so that content words decide similarity (there is no IDF).
const STOPWORDS = new Set(
  (
    "a an the of to in on at for and or is are was were be been being it its this that these those with as by from " +
    "what which who whom whose how when where why does do did can could would should will shall may might must " +
    "i you he she we they me my your our their his her them us not no but if so than then also into about there " +
    "has have had any some all each more most such only own same too very just please tell explain describe " +
    "و در به از که این آن را با است هست بود برای تا یا هم می ها های شود شد کرد کند کنند ای یک چه چی چیست " +
    "کدام آیا بر نیز اما باید توان ما من تو او آنها ایشان خود هر کجا کجاست چگونه چطور چرا کی چند چقدر " +
    "دارد داشت شده باشد بیان توضیح دهید بگویید"
  )
    .split(" ")
    .map(normalizeText),
);

/** The normalised words of the text that are not function words. */
export function contentWords(text: string): string[] {
  return words(text).filter((w) => !STOPWORDS.has(w));
}

// Relative weights of the three feature families.
const W_WORD = 1;
const W_BIGRAM = 0.7;
const W_CHAR = 0.35;
const W_STOP = 0.15; // multiplier for features made only of stopwords

/** Weighted features of a text: "w:" unigrams, "b:" bigrams, "c:" char 3-grams of "<word>". */
export function features(text: string): Map<string, number> {
  const ws = words(text);
  const counts = new Map<string, { n: number; w: number }>();
  const add = (key: string, w: number) => {
    const e = counts.get(key);
    if (e) e.n++;
    else counts.set(key, { n: 1, w });
  };
  ws.forEach((word, i) => {
    const stop = STOPWORDS.has(word);
    add(`w:${word}`, W_WORD * (stop ? W_STOP : 1));
    const next = ws[i + 1];
    if (next !== undefined) add(`b:${word} ${next}`, W_BIGRAM * (stop && STOPWORDS.has(next) ? W_STOP : 1));
    const padded = [...`<${word}>`]; // code points, so astral characters stay whole
    for (let j = 0; j + 3 <= padded.length; j++) add(`c:${padded.slice(j, j + 3).join("")}`, W_CHAR * (stop ? W_STOP : 1));
  });
  // tf weighting 1 + ln(tf): repeated terms count, but sublinearly.
  const out = new Map<string, number>();
  for (const [key, { n, w }] of counts) out.set(key, w * (1 + Math.log(n)));
  return out;
}

/** 32-bit FNV-1a over UTF-16 code units. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3 finaliser: decorrelates the sign bit from the bucket index. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Unit-length embedding of `text` with `dims` dimensions. Features are hashed straight into `dims`
 * buckets (not truncated from a bigger vector), so small dimensions keep all features.
 */
export function embed(text: string, dims = 1536): Float32Array {
  const acc = new Float64Array(dims);
  let feats = features(text);
  // Text without letters or digits (e.g. "!!!") still needs a unit vector: hash it whole.
  if (feats.size === 0) feats = new Map([[`raw:${text}`, 1]]);
  for (const [key, w] of feats) {
    const h = fnv1a(key);
    acc[h % dims]! += fmix32(h) & 1 ? w : -w;
  }
  let norm = 0;
  for (const v of acc) norm += v * v;
  norm = Math.sqrt(norm);
  const out = new Float32Array(dims);
  // Two features may cancel exactly in one bucket; an all-zero vector is left as is (not NaN).
  if (norm > 0) for (let i = 0; i < dims; i++) out[i] = acc[i]! / norm;
  return out;
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

/** Little-endian float32 bytes, base64-encoded: the API's `encoding_format: "base64"`. */
export function toBase64(vec: Float32Array): string {
  const buf = Buffer.alloc(vec.length * 4);
  vec.forEach((v, i) => {
    buf.writeFloatLE(v, i * 4);
  });
  return buf.toString("base64");
}
