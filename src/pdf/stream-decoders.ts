// How many bytes a stream's filters decode it to, found by decoding it chunk by chunk and discarding the output:
// memory stays bounded whatever the ratio (Flate reaches ~1,000:1 a layer, and layers multiply). Flate, nearly
// every PDF's filter, is fflate's streaming inflater; the legacy filters are small decoders after pdf.js's
// (src/core/{lzw,run_length,ascii_hex,ascii_85}_stream.js). All stop where pdf.js stops, at the end marker or at
// the first broken byte, so trailing junk cannot hide what comes before it. Not DecompressionStream: workerd's
// drops the output it decoded ahead once it meets an error, so a bomb followed by junk would measure as small.
// A decoder's chunks may be views into its buffers, valid until the next one is asked for: each consumer (the
// next decoder, or the count) is done with a chunk before it asks.

import { Inflate } from "fflate";

type Decoder = (input: Iterable<Uint8Array>) => Generator<Uint8Array>;

export interface FilterSpec {
  name: string;
  /** LZW's /EarlyChange (default 1). */
  earlyChange?: number;
}

/** Filters whose output is an image's pixels: measuring stops before them (pdf.js bounds images by their size). */
const IMAGE_FILTERS = new Set(["DCTDecode", "DCT", "JPXDecode", "JBIG2Decode", "CCITTFaxDecode", "CCF", "Crypt"]);

/**
 * The most output one input byte can decode to: deflate's limit is 1032:1 (a 258-byte match in 2 bits; 1100
 * leaves room for block overhead on tiny inputs); an LZW code of 9 bits or more stands for at most 4096 bytes;
 * a run-length pair for 128 bytes; ASCII85's "z" for 4; two hex digits for 1.
 */
const MAX_RATIO: Record<string, number> = {
  FlateDecode: 1100,
  Fl: 1100,
  LZWDecode: 3641,
  LZW: 3641,
  RunLengthDecode: 64,
  RL: 64,
  ASCII85Decode: 4,
  A85: 4,
  ASCIIHexDecode: 0.5,
  AHx: 0.5,
};

/** The most `length` bytes can decode to through `filters`: a stream whose bound is within a limit needs no decoding. */
export function maxDecodedSize(length: number, filters: FilterSpec[]): number {
  let bound = length;
  for (const { name } of filters) {
    if (IMAGE_FILTERS.has(name)) break;
    const ratio = MAX_RATIO[name];
    if (ratio === undefined) return 0; // pdf.js cannot decode it either
    bound *= ratio;
  }
  return bound;
}

function decoderFor({ name, earlyChange = 1 }: FilterSpec): Decoder | "image" | null {
  if (name === "FlateDecode" || name === "Fl") return inflate;
  if (name === "LZWDecode" || name === "LZW") return (input) => lzw(input, earlyChange);
  if (name === "RunLengthDecode" || name === "RL") return runLength;
  if (name === "ASCIIHexDecode" || name === "AHx") return asciiHex;
  if (name === "ASCII85Decode" || name === "A85") return ascii85;
  return IMAGE_FILTERS.has(name) ? "image" : null;
}

/**
 * Bytes `data` decodes to through `filters` (in order), counted up to `limit` + 1: decoding stops past the limit.
 * `collect` receives the decoded bytes (an object stream's content) while they stay within the limit.
 */
export function decodedSize(data: Uint8Array, filters: FilterSpec[], limit: number, collect?: (chunk: Uint8Array) => void): number {
  let output: Iterable<Uint8Array> = [data];
  for (const filter of filters) {
    const decoder = decoderFor(filter);
    if (decoder === "image") break;
    if (!decoder) return 0; // pdf.js cannot decode it either: it reads nothing
    output = decoder(output);
  }
  let total = 0;
  for (const chunk of output) {
    total += chunk.length;
    if (total > limit) return limit + 1; // leaving the loop stops every decoder
    collect?.(chunk);
  }
  return total;
}

// ---------------------------------------------------------------------------------------------------------------
// Flate (zlib: RFC 1950 header, RFC 1951 deflate), by fflate's streaming inflater.

/** Input is fed in slices this small, so one slice decodes to at most ~1 MB (deflate's 1032:1). */
const FLATE_SLICE = 1024;

function* inflate(input: Iterable<Uint8Array>): Generator<Uint8Array> {
  const decoded: Uint8Array[] = [];
  const inflater = new Inflate((chunk) => decoded.push(chunk));
  let header: number[] | null = [];
  try {
    for (let chunk of input) {
      if (header) {
        // The 2-byte zlib header, checked as pdf.js's FlateStream does: deflate, a valid check, no preset dictionary.
        while (header.length < 2 && chunk.length) [header, chunk] = [[...header, chunk[0]!], chunk.subarray(1)];
        if (header.length < 2) continue;
        const [cmf, flg] = header as [number, number];
        if ((cmf & 0x0f) !== 8 || ((cmf << 8) | flg) % 31 !== 0 || flg & 0x20) return;
        header = null;
      }
      for (let at = 0; at < chunk.length; at += FLATE_SLICE) {
        inflater.push(chunk.subarray(at, at + FLATE_SLICE));
        yield* decoded.splice(0);
      }
    }
    inflater.push(new Uint8Array(0), true);
  } catch {
    // Broken or truncated data ends the output where it breaks, as in pdf.js.
  }
  yield* decoded.splice(0);
}

// ---------------------------------------------------------------------------------------------------------------
// The other filters a content stream may use.

function* lzw(input: Iterable<Uint8Array>, earlyChange: number): Generator<Uint8Array> {
  const prefix = new Int32Array(4097);
  const lastByte = new Uint8Array(4097);
  const length = new Uint16Array(4097);
  for (let i = 0; i < 256; i++) {
    lastByte[i] = i;
    length[i] = 1;
  }
  let nextCode = 258;
  let codeLength = 9;
  let previous = -1;
  let sequence = new Uint8Array(0);
  let bits = 0;
  let count = 0;
  for (const chunk of input) {
    for (const byte of chunk) {
      bits = ((bits << 8) | byte) & 0xffffff;
      count += 8;
      while (count >= codeLength) {
        count -= codeLength;
        const code = (bits >>> count) & ((1 << codeLength) - 1);
        if (code === 256) {
          nextCode = 258;
          codeLength = 9;
          previous = -1;
          continue;
        }
        if (code === 257) return; // end of data
        if (code < 256 || code < nextCode) {
          const entry = new Uint8Array(length[code]!);
          for (let j = entry.length - 1, q = code; j >= 0; j--, q = prefix[q]!) entry[j] = lastByte[q]!;
          sequence = entry;
        } else if (previous >= 0) {
          const entry = new Uint8Array(sequence.length + 1);
          entry.set(sequence);
          entry[sequence.length] = sequence[0]!;
          sequence = entry;
        } else {
          return; // a code that cannot be: broken data
        }
        if (previous >= 0 && nextCode < 4097) {
          prefix[nextCode] = previous;
          length[nextCode] = length[previous]! + 1;
          lastByte[nextCode] = sequence[0]!;
          nextCode++;
          const n = nextCode + earlyChange;
          if ((n & (n - 1)) === 0) codeLength = Math.min(Math.log2(n) + 1, 12);
        }
        previous = code;
        yield sequence;
      }
    }
  }
}

function* runLength(input: Iterable<Uint8Array>): Generator<Uint8Array> {
  let literal = 0; // bytes still to copy
  let repeat = -1; // the count of a run whose byte is next, or -1
  for (const chunk of input) {
    for (let i = 0; i < chunk.length; ) {
      if (literal > 0) {
        const take = chunk.subarray(i, i + literal);
        yield take;
        literal -= take.length;
        i += take.length;
      } else if (repeat >= 0) {
        yield new Uint8Array(repeat).fill(chunk[i++]!);
        repeat = -1;
      } else {
        const n = chunk[i++]!;
        if (n === 128) return; // end of data
        if (n < 128) literal = n + 1;
        else repeat = 257 - n;
      }
    }
  }
}

const hexValue = (c: number) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1);

function* asciiHex(input: Iterable<Uint8Array>): Generator<Uint8Array> {
  let high = -1;
  for (const chunk of input) {
    const out: number[] = [];
    for (const c of chunk) {
      if (c === 0x3e) {
        if (high >= 0) out.push(high << 4);
        return yield Uint8Array.from(out);
      }
      const v = hexValue(c);
      if (v < 0) continue;
      if (high < 0) {
        high = v;
      } else {
        out.push((high << 4) | v);
        high = -1;
      }
    }
    yield Uint8Array.from(out);
  }
  if (high >= 0) yield Uint8Array.of(high << 4);
}

function* ascii85(input: Iterable<Uint8Array>): Generator<Uint8Array> {
  const group: number[] = [];
  const emit = (out: number[], count: number) => {
    let value = 0;
    for (let k = 0; k < 5; k++) value = value * 85 + (group[k] ?? 84);
    for (let k = 0; k < count; k++) out.push((value >>> (24 - 8 * k)) & 0xff);
    group.length = 0;
  };
  let ended = false;
  for (const chunk of input) {
    const out: number[] = [];
    for (const c of chunk) {
      if (c === 0x7e) {
        ended = true; // "~>"
        break;
      }
      if (c === 0x7a && group.length === 0) out.push(0, 0, 0, 0);
      else if (c >= 0x21 && c <= 0x75) {
        group.push(c - 0x21);
        if (group.length === 5) emit(out, 4);
      }
    }
    if (ended && group.length > 1) emit(out, group.length - 1);
    yield Uint8Array.from(out);
    if (ended) return;
  }
  if (group.length > 1) {
    const out: number[] = [];
    emit(out, group.length - 1);
    yield Uint8Array.from(out);
  }
}
