// Just enough PDF syntax to find every stream in a file without pdf.js: top-level objects ("12 0 obj … endobj"),
// their values, and where each stream's data lies. Read from the raw bytes, never from the cross-reference table,
// so that a file whose table points elsewhere than its objects cannot hide a stream from src/pdf/stream-limits.ts.

export type PdfValue =
  | number
  | boolean
  | null
  | { name: string; at: number }
  | { ref: number }
  | { string: true }
  | PdfValue[]
  | Map<string, PdfValue>;

export interface PdfStream {
  /** Object number ("N 0 obj"). */
  num: number;
  dict: Map<string, PdfValue>;
  /** Byte offset of each key name in the dictionary (its "/"), to rename a key in place. */
  keyAt: Map<string, number>;
  dataStart: number;
  /** Where the data ends if /Length is right; the search for "endstream" otherwise. */
  dataEnd: number;
  /** The first "endstream" after the data start, whatever /Length says. */
  searchedEnd: number;
}

export interface PdfObjects {
  streams: PdfStream[];
  /** Values of the other top-level objects by number (every definition: a file may define one twice). */
  values: Map<number, PdfValue[]>;
  /** Every array that holds references, as the object numbers it lists (repeats kept). */
  refArrays: number[][];
  /**
   * Where each object is referenced from: the key of the dictionary entry and the key of the dictionary holding
   * it ("XObject/Im1"), "[]" for an array element ("Contents/[]").
   */
  refPlaces: Map<number, Set<string>>;
}

const isWhite = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c || c === 0x00;
// ( ) < > [ ] { } / %
const isDelimiter = (c: number) =>
  c === 0x28 || c === 0x29 || c === 0x3c || c === 0x3e || c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d || c === 0x2f || c === 0x25;
const isRegular = (c: number) => !isWhite(c) && !isDelimiter(c);
const ascii = (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0));
const ENDSTREAM = ascii("endstream");

/** First index of `needle` in bytes at or after `from`, or -1. */
function indexOfBytes(bytes: Uint8Array, needle: Uint8Array, from: number): number {
  for (let i = bytes.indexOf(needle[0]!, from); i >= 0 && i + needle.length <= bytes.length; i = bytes.indexOf(needle[0]!, i + 1)) {
    let j = 1;
    while (j < needle.length && bytes[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

type Token =
  | { kind: "num"; value: number; int: boolean }
  | { kind: "name"; value: string; at: number }
  | { kind: "word"; value: string }
  | { kind: "punct"; value: "[" | "]" | "<<" | ">>" }
  | { kind: "string" };

/** Tokens of PDF syntax from `pos`; strings and comments are skipped over, names decoded (#xx). */
class Lexer {
  pos: number;
  private readonly pending: Token[] = [];
  private readonly bytes: Uint8Array;
  private readonly end: number;
  constructor(bytes: Uint8Array, pos: number, end = bytes.length) {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
  }

  push(token: Token): void {
    this.pending.push(token);
  }

  next(): Token | null {
    const queued = this.pending.pop();
    if (queued) return queued;
    const b = this.bytes;
    for (;;) {
      while (this.pos < this.end && isWhite(b[this.pos]!)) this.pos++;
      if (this.pos >= this.end) return null;
      if (b[this.pos] !== 0x25) break; // % comment to the end of the line
      while (this.pos < this.end && b[this.pos] !== 0x0a && b[this.pos] !== 0x0d) this.pos++;
    }
    const c = b[this.pos]!;
    const start = this.pos;
    if (c === 0x5b || c === 0x5d) {
      this.pos++;
      return { kind: "punct", value: c === 0x5b ? "[" : "]" };
    }
    if (c === 0x3c && b[this.pos + 1] === 0x3c) {
      this.pos += 2;
      return { kind: "punct", value: "<<" };
    }
    if (c === 0x3e && b[this.pos + 1] === 0x3e) {
      this.pos += 2;
      return { kind: "punct", value: ">>" };
    }
    if (c === 0x3c) {
      const close = b.indexOf(0x3e, this.pos);
      this.pos = close < 0 ? this.end : close + 1;
      return { kind: "string" };
    }
    if (c === 0x28) {
      this.skipLiteralString();
      return { kind: "string" };
    }
    if (c === 0x2f) {
      this.pos++;
      let name = "";
      while (this.pos < this.end && isRegular(b[this.pos]!)) {
        const ch = b[this.pos]!;
        const hex = ch === 0x23 ? Number.parseInt(String.fromCharCode(b[this.pos + 1]!, b[this.pos + 2]!), 16) : Number.NaN;
        if (Number.isNaN(hex)) {
          name += String.fromCharCode(ch);
          this.pos++;
        } else {
          name += String.fromCharCode(hex);
          this.pos += 3;
        }
      }
      return { kind: "name", value: name, at: start };
    }
    if (!isRegular(c)) {
      this.pos++; // a stray ")", ">", "{" or "}"
      return { kind: "word", value: String.fromCharCode(c) };
    }
    while (this.pos < this.end && isRegular(b[this.pos]!)) this.pos++;
    const word = String.fromCharCode(...b.subarray(start, Math.min(this.pos, start + 64)));
    if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(word)) return { kind: "num", value: Number(word), int: /^[+-]?\d+$/.test(word) };
    return { kind: "word", value: word };
  }

  private skipLiteralString(): void {
    const b = this.bytes;
    let depth = 0;
    while (this.pos < this.end) {
      const ch = b[this.pos++]!;
      if (ch === 0x5c)
        this.pos++; // backslash escapes the next byte
      else if (ch === 0x28) depth++;
      else if (ch === 0x29 && --depth === 0) return;
    }
  }
}

/** The value starting with `first`; refs ("12 0 R") become { ref }, recorded with where they are (`keys`). */
function parseValue(lexer: Lexer, first: Token, into: PdfObjects, keys: string[] = [], depth = 0): PdfValue {
  if (depth > 100) return null; // a nesting no real file has: stop rather than recurse further
  if (first.kind === "num") {
    if (first.int && first.value >= 0) {
      const gen = lexer.next();
      if (gen?.kind === "num" && gen.int) {
        const r = lexer.next();
        if (r?.kind === "word" && r.value === "R") {
          const place = keys.slice(-2).join("/");
          const places = into.refPlaces.get(first.value);
          if (places) places.add(place);
          else into.refPlaces.set(first.value, new Set([place]));
          return { ref: first.value };
        }
        if (r) lexer.push(r);
      }
      if (gen) lexer.push(gen);
    }
    return first.value;
  }
  if (first.kind === "name") return { name: first.value, at: first.at };
  if (first.kind === "string") return { string: true };
  if (first.kind === "word") return first.value === "true" ? true : first.value === "false" ? false : null;
  if (first.value === "[") {
    const items: PdfValue[] = [];
    const itemKeys = [...keys, "[]"];
    for (let t = lexer.next(); t && !(t.kind === "punct" && t.value === "]"); t = lexer.next()) {
      if (t.kind === "word" && (t.value === "endobj" || t.value === "stream")) break;
      items.push(parseValue(lexer, t, into, itemKeys, depth + 1));
    }
    const refs = items.flatMap((v) => (v && typeof v === "object" && "ref" in v ? [v.ref] : []));
    if (refs.length) into.refArrays.push(refs);
    return items;
  }
  if (first.value === "<<") return parseDict(lexer, into, keys, depth + 1).dict;
  return null;
}

function parseDict(lexer: Lexer, into: PdfObjects, keys: string[], depth: number): { dict: Map<string, PdfValue>; keyAt: Map<string, number> } {
  const dict = new Map<string, PdfValue>();
  const keyAt = new Map<string, number>();
  for (let t = lexer.next(); t && !(t.kind === "punct" && t.value === ">>"); t = lexer.next()) {
    if (t.kind === "word" && (t.value === "endobj" || t.value === "stream")) {
      lexer.push(t);
      break;
    }
    if (t.kind !== "name") continue; // not a key: skip it, as lenient readers do
    const valueToken = lexer.next();
    if (!valueToken) break;
    dict.set(t.value, parseValue(lexer, valueToken, into, [...keys.slice(-1), t.value], depth));
    keyAt.set(t.value, t.at);
  }
  return { dict, keyAt };
}

/**
 * The objects of an object stream's decoded content ("num offset" pairs, then the objects from `first`) into
 * `into`: a page's /Contents array or a stream's /Filter may live there.
 */
export function readObjectStream(content: Uint8Array, count: number, first: number, into: PdfObjects): void {
  const header = new Lexer(content, 0, Math.min(first, content.length));
  for (let i = 0; i < count; i++) {
    const num = header.next();
    const offset = header.next();
    if (num?.kind !== "num" || offset?.kind !== "num") return;
    const lexer = new Lexer(content, first + offset.value);
    const token = lexer.next();
    if (token) addValue(into.values, num.value, parseValue(lexer, token, into));
  }
}

/**
 * The object number when "obj" at objAt ends an object header: digits, whitespace, digits, then "obj" (pdf.js also
 * reads "1 0obj", without the last space).
 */
function objectNumberBefore(bytes: Uint8Array, objAt: number): number | null {
  let i = objAt - 1;
  const skipWhite = () => {
    const from = i;
    while (i >= 0 && isWhite(bytes[i]!)) i--;
    return i < from;
  };
  const digits = () => {
    const endAt = i;
    while (i >= 0 && bytes[i]! >= 0x30 && bytes[i]! <= 0x39) i--;
    return endAt > i ? Number(String.fromCharCode(...bytes.subarray(i + 1, endAt + 1))) : null;
  };
  skipWhite();
  if (digits() === null || !skipWhite()) return null;
  const num = digits();
  if (num === null || (i >= 0 && isRegular(bytes[i]!))) return null;
  return num;
}

/** Where a stream's data ends: at /Length when "endstream" follows it there, else at the first "endstream". */
export function streamEnd(bytes: Uint8Array, dataStart: number, length: PdfValue | undefined, searchedEnd: number): number {
  if (typeof length !== "number" || length < 0 || dataStart + length > bytes.length) return searchedEnd;
  let at = dataStart + length;
  while (at < bytes.length && isWhite(bytes[at]!)) at++;
  return indexOfBytes(bytes.subarray(at, at + ENDSTREAM.length), ENDSTREAM, 0) === 0 ? dataStart + length : searchedEnd;
}

const OBJ = ascii("obj");

/** Every top-level object of the file, streams with their data's extent. */
export function readObjects(bytes: Uint8Array): PdfObjects {
  const result: PdfObjects = { streams: [], values: new Map(), refArrays: [], refPlaces: new Map() };
  for (let at = indexOfBytes(bytes, OBJ, 0); at >= 0; at = indexOfBytes(bytes, OBJ, at)) {
    const num = objectNumberBefore(bytes, at);
    const after = at + OBJ.length;
    if (num === null || (after < bytes.length && isRegular(bytes[after]!))) {
      at = after; // "endobj", or "obj" inside other bytes
      continue;
    }
    const lexer = new Lexer(bytes, after);
    const first = lexer.next();
    if (!first) break;
    if (first.kind === "punct" && first.value === "<<") {
      const { dict, keyAt } = parseDict(lexer, result, [], 1);
      const keyword = lexer.next();
      if (keyword?.kind === "word" && keyword.value === "stream") {
        let dataStart = lexer.pos;
        if (bytes[dataStart] === 0x0d) dataStart++;
        if (bytes[dataStart] === 0x0a) dataStart++;
        const found = indexOfBytes(bytes, ENDSTREAM, dataStart);
        const searchedEnd = found < 0 ? bytes.length : found;
        const dataEnd = streamEnd(bytes, dataStart, dict.get("Length"), searchedEnd);
        result.streams.push({ num, dict, keyAt, dataStart, dataEnd, searchedEnd });
        at = Math.max(dataEnd, searchedEnd); // never look for objects inside stream data
        continue;
      }
      addValue(result.values, num, dict);
    } else {
      addValue(result.values, num, parseValue(lexer, first, result));
    }
    at = Math.max(lexer.pos, after);
  }
  return result;
}

function addValue(values: Map<number, PdfValue[]>, num: number, value: PdfValue): void {
  const list = values.get(num);
  if (list) list.push(value);
  else values.set(num, [value]);
}
