// Token-based chunking of extracted PDF text, remembering which pages each chunk came from.
import { Tiktoken } from "js-tiktoken/lite";
import cl100k_base from "js-tiktoken/ranks/cl100k_base";

export interface PageText {
  /** 1-based page number. */
  page: number;
  /** Text of the page, already passed through normalizeText. */
  text: string;
}

export interface Chunk {
  text: string;
  pageStart: number;
  pageEnd: number;
  tokenCount: number;
}

/** The default upper bound on a chunk's tokens: what one source in a chat prompt can take. */
export const CHUNK_MAX_TOKENS = 400;

export interface ChunkOptions {
  /** Upper bound on countTokens(chunk.text). Default CHUNK_MAX_TOKENS. */
  maxTokens?: number;
  /** About how many tokens of the previous chunk each chunk repeats at its start. Default 40. */
  overlapTokens?: number;
}

// ---------------------------------------------------------------------------------------------
// Tokenizer (cl100k_base). Built lazily: parsing the ranks costs ~250 ms, once per isolate.

let tokenizer: Tiktoken | undefined;
const tiktoken = () => (tokenizer ??= new Tiktoken(cl100k_base));

/**
 * Drops the tokenizer and its cache (about 32 MB): ingestion calls it after each page range, so the next range's
 * page images have the isolate's memory to themselves (bench:extract). The next count rebuilds it.
 */
export function releaseTokenizer(): void {
  tokenizer = undefined;
  pieceTokens.clear();
}

// tiktoken splits text with this pattern and encodes each piece on its own, so tokens can be cached
// per piece: real text repeats its words, and a warm cache makes counting ~10x faster.
const PIECE = new RegExp(cl100k_base.pat_str, "gu");
const pieceTokens = new Map<string, number[]>();
const MAX_CACHED_PIECES = 20_000;
// js-tiktoken's BPE is quadratic in the piece length (4,000 Persian letters without a space: 3.5 s), so
// longer runs, which real words never reach, are encoded in slices: bounded cost for hostile PDFs.
const MAX_PIECE_CHARS = 64;

function encodePiece(piece: string, out: number[]): void {
  let tokens = pieceTokens.get(piece);
  if (!tokens) {
    // No special tokens: "<|endoftext|>" in a PDF is plain text, and must not throw.
    tokens = tiktoken().encode(piece, [], []);
    if (pieceTokens.size >= MAX_CACHED_PIECES) pieceTokens.clear();
    pieceTokens.set(piece, tokens);
  }
  for (const t of tokens) out.push(t);
}

/** cl100k_base tokens of text: tiktoken's encode, except that runs over 64 characters are cut into slices. */
export function encodeTokens(text: string): number[] {
  const out: number[] = [];
  for (const m of text.matchAll(PIECE)) {
    const piece = m[0];
    if (piece.length <= MAX_PIECE_CHARS) {
      encodePiece(piece, out);
      continue;
    }
    for (let i = 0; i < piece.length; ) {
      let end = Math.min(i + MAX_PIECE_CHARS, piece.length);
      if (end < piece.length && isLowSurrogate(piece.charCodeAt(end))) end--; // keep surrogate pairs whole
      encodePiece(piece.slice(i, end), out);
      i = end;
    }
  }
  return out;
}

export function decodeTokens(tokens: number[]): string {
  return tiktoken().decode(tokens);
}

export function countTokens(text: string): number {
  return encodeTokens(text).length;
}

const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;

// ---------------------------------------------------------------------------------------------
// Segmentation: paragraphs, then sentences; pieces still too long are cut at lines, then words,
// then token windows.

interface Segment {
  text: string;
  /** Whitespace that joins this segment to the one before it ("\n\n", "\n", " " or ""). */
  sep: string;
  page: number;
  /** Tokens of the segment, with and without its separator (whichever is larger). */
  tokens: number;
}

// Sentence end: terminal punctuation, optional closing quotes/brackets, then whitespace.
const SENTENCE_END = /[.!?؟؛…]+["'”’»)\]]*(\s+)/g;
const PARAGRAPH_BREAK = /\n[^\S\n]*\n\s*/;

function segmentPages(pages: PageText[], limit: number): Segment[] {
  const out: Segment[] = [];
  for (const { page, text } of pages) {
    let sep = "\n"; // a page break is a soft break: sentences run on across pages
    for (const paragraph of text.split(PARAGRAPH_BREAK)) {
      const p = paragraph.trim();
      if (!p) continue;
      let start = 0;
      for (const m of p.matchAll(SENTENCE_END)) {
        const ws = m[1] ?? " ";
        addPiece(out, p.slice(start, m.index + m[0].length - ws.length), sep, page, limit, 0);
        sep = ws.includes("\n") ? "\n" : " ";
        start = m.index + m[0].length;
      }
      addPiece(out, p.slice(start), sep, page, limit, 0);
      sep = "\n\n";
    }
  }
  return out;
}

/** Adds text as one segment if it fits in limit tokens, else cut at the next weaker boundary. */
function addPiece(out: Segment[], raw: string, sep: string, page: number, limit: number, level: 0 | 1 | 2): void {
  const text = raw.trim();
  if (!text) return;
  const tokens = Math.max(countTokens(text), countTokens(sep + text));
  if (tokens <= limit) {
    out.push({ text, sep, page, tokens });
    return;
  }
  if (level === 0) {
    const lines = text.split("\n");
    if (lines.length > 1) {
      lines.forEach((line, i) => {
        addPiece(out, line, i === 0 ? sep : "\n", page, limit, 1);
      });
      return;
    }
  }
  if (level <= 1) {
    const words = text.split(/\s+/);
    if (words.length > 1) {
      words.forEach((word, i) => {
        addPiece(out, word, i === 0 ? sep : " ", page, limit, 2);
      });
      return;
    }
  }
  splitByTokens(text, limit).forEach((piece, i) => {
    const pieceSep = i === 0 ? sep : "";
    out.push({ text: piece, sep: pieceSep, page, tokens: Math.max(countTokens(piece), countTokens(pieceSep + piece)) });
  });
}

function splitLines(seg: Segment, limit: number): Segment[] {
  const out: Segment[] = [];
  seg.text.split("\n").forEach((line, i) => {
    addPiece(out, line, i === 0 ? seg.sep : "\n", seg.page, limit, 1);
  });
  return out;
}

/** Cuts text (no whitespace boundaries left) into pieces of at most limit tokens, never inside a character. */
function splitByTokens(text: string, limit: number): string[] {
  const pieces: string[] = [];
  const tokens = encodeTokens(text);
  let pos = 0;
  for (let i = 0; i < tokens.length; ) {
    let end = Math.min(i + limit, tokens.length);
    let piece = "";
    // A window can end inside a multi-byte character; shrink it until it decodes to the source text.
    for (; end > i; end--) {
      piece = decodeTokens(tokens.slice(i, end));
      if (text.startsWith(piece, pos) && countTokens(piece) <= limit) break;
    }
    if (end === i) {
      // No clean boundary (only with a lone surrogate or U+FFFD in the text): fall back to UTF-8
      // bytes, which bound tokens from above, and tokenize the rest afresh.
      const head = prefixWithinBytes(text.slice(pos), limit);
      return [...pieces, head, ...splitByTokens(text.slice(pos + head.length), limit)].filter(Boolean);
    }
    pieces.push(piece);
    pos += piece.length;
    i = end;
  }
  return pieces;
}

/** Longest prefix of text (whole code points, at least one) whose UTF-8 form fits in maxBytes. */
function prefixWithinBytes(text: string, maxBytes: number): string {
  let bytes = 0;
  let i = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + size > maxBytes && i > 0) break;
    bytes += size;
    i += ch.length;
  }
  return text.slice(0, i);
}

// ---------------------------------------------------------------------------------------------
// Packing.

const joinSegments = (segs: Segment[]) => segs.map((s, i) => (i === 0 ? s.text : s.sep + s.text)).join("");
const sumTokens = (segs: Segment[]) => segs.reduce((n, s) => n + s.tokens, 0);

/** The end of a chunk to repeat at the start of the next: whole trailing sentences, topped up with a token tail. */
function takeOverlap(prev: Segment[], budget: number): Segment[] {
  if (budget <= 0) return [];
  let used = 0;
  let k = prev.length;
  while (k > 1 && used + prev[k - 1]!.tokens <= budget) used += prev[--k]!.tokens;
  const whole = prev.slice(k);
  // Whole sentences that fill at least half the budget are the better overlap.
  if (used * 2 >= budget) return whole;
  const before = prev[k - 1];
  if (!before) return whole;
  const tail = tokenTail(before.text, budget - used);
  if (!tail) return whole;
  return [{ text: tail, sep: "", page: before.page, tokens: countTokens(tail) }, ...whole];
}

/** About the last n tokens of text, starting at a word if the tail has one. */
function tokenTail(text: string, n: number): string {
  const tokens = encodeTokens(text);
  let tail = "";
  for (let start = Math.max(0, tokens.length - n); start < tokens.length; start++) {
    tail = decodeTokens(tokens.slice(start));
    if (text.endsWith(tail)) break;
    tail = "";
  }
  // Started mid-word: skip to the next word.
  if (tail && tail.length < text.length && !/\s/.test(text[text.length - tail.length - 1] ?? "")) {
    const space = tail.search(/\s/);
    if (space >= 0) tail = tail.slice(space);
  }
  return tail.replace(/^[\s\u200C]+|[\s\u200C]+$/g, "");
}

/**
 * Splits pages into chunks of at most maxTokens tokens (cl100k_base), packing whole sentences, each
 * chunk after the first starting with about overlapTokens tokens from the end of the one before.
 */
export function chunkPages(pages: PageText[], opts: ChunkOptions = {}): Chunk[] {
  const maxTokens = opts.maxTokens ?? CHUNK_MAX_TOKENS;
  const overlapTokens = opts.overlapTokens ?? 40;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new RangeError("maxTokens must be a positive integer");
  // One character can take 4 tokens (one per UTF-8 byte): a segment needs room for at least that.
  if (!Number.isInteger(overlapTokens) || overlapTokens < 0 || maxTokens - overlapTokens < 4) {
    throw new RangeError("overlapTokens must be an integer in [0, maxTokens - 4]");
  }
  // Segments leave room for a full overlap in front of them.
  const segs = segmentPages(pages, maxTokens - overlapTokens);
  const chunks: Chunk[] = [];
  let overlap: Segment[] = [];
  for (let i = 0; i < segs.length; ) {
    let parts = [...overlap];
    let used = sumTokens(parts);
    const first = i;
    while (i < segs.length) {
      const seg = segs[i]!;
      if (i !== first && used + seg.tokens > maxTokens) {
        // A long sentence would leave this chunk less than half full: fall back to its line breaks.
        if (used * 2 >= maxTokens || !seg.text.includes("\n")) break;
        segs.splice(i, 1, ...splitLines(seg, maxTokens - overlapTokens));
        continue;
      }
      used += seg.tokens;
      parts.push(seg);
      i++;
    }
    // The sum of segment counts is an estimate (tokens can merge across joins): check the real count.
    let text = joinSegments(parts);
    let tokenCount = countTokens(text);
    while (tokenCount > maxTokens && parts.length > overlap.length + 1) {
      parts.pop();
      i--;
      text = joinSegments(parts);
      tokenCount = countTokens(text);
    }
    if (tokenCount > maxTokens && overlap.length > 0) {
      parts = parts.slice(overlap.length);
      text = joinSegments(parts);
      tokenCount = countTokens(text);
    }
    chunks.push({ text, pageStart: parts[0]!.page, pageEnd: parts[parts.length - 1]!.page, tokenCount });
    const next = segs[i];
    overlap = next ? takeOverlap(parts, Math.min(overlapTokens, maxTokens - next.tokens)) : [];
  }
  return chunks;
}
