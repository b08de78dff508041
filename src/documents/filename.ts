// Names users give their documents, at upload or rename: safe to show and to store.
import { MAX_FILENAME_LENGTH } from "./limits.ts";

/**
 * Bidi controls (ALM, LRM, RLM, embeddings, overrides, isolates) reorder what a viewer displays:
 * "invoice\u202Egpj.pdf" shows as "invoicefdp.jpg". ZWNJ (U+200C) is not among them: it is part of Persian words.
 */
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/** Keeps the last path segment, without control characters or bidi controls, at a sane length. */
export function cleanFilename(name: string): string {
  const base = name
    .split(/[\\/]/)
    .pop()!
    .replace(/[\u0000-\u001f\u007f]/g, "")
    .replace(BIDI_CONTROLS, "")
    .trim();
  return (base || "document.pdf").slice(0, MAX_FILENAME_LENGTH);
}
