// A page's text from the positions of its text runs: runs → lines (by baseline, in content-stream order, so
// LaTeX columns stay in column order and table rows stay rows) → paragraphs (by line spacing) → each line in
// logical order, in its paragraph's direction (bidi). Word breaks come from the gaps, not only from space glyphs.
import { ARABIC_LETTERS, type Direction, dominantDirection, reorder } from "./bidi.ts";

/** One positioned piece of text, as pdf.js reports it (its `text` already in logical order). */
export interface TextRun {
  text: string;
  /** Origin and advance in the run's own (unrotated) frame, in PDF units. */
  x: number;
  y: number;
  width: number;
  /** Font size: the run's vertical scale. */
  size: number;
  dir: Direction;
  /** Text rotation in degrees, rounded: runs of different angles never share a line. */
  angle: number;
}

interface Line {
  runs: TextRun[];
  y: number;
  size: number;
  angle: number;
  minX: number;
  maxX: number;
}

/** A gap wider than this fraction of the font size between two runs is a word break. */
const WORD_GAP_EM = 0.12;
/** Baselines closer than this fraction of the font size belong to the same line. */
const SAME_BASELINE_EM = 0.45;
/** How many recent lines a run may still join (content streams sometimes come back to a line). */
const LINES_LOOKBACK = 3;
/** A vertical step this many times the page's usual line step starts a new paragraph. */
const PARAGRAPH_STEP = 1.45;

/**
 * LibreOffice justifies Persian with kashida glyphs that have no Unicode mapping, which pdf.js then reads as an
 * ASCII quote: a quote squeezed between two Arabic letters is one of those.
 */
const KASHIDA_STAND_IN = new RegExp(`(?<=[${ARABIC_LETTERS}][\\u064B-\\u065F\\u0670]*)["']+(?=[${ARABIC_LETTERS}])`, "gu");
const MARKS_ONLY = /^[\s\p{M}]+$/u;

/** The page's text: lines joined by "\n", paragraphs by "\n\n". */
export function layoutText(runs: TextRun[]): string {
  const lines = groupLines(runs);
  const step = usualLineStep(lines);
  const paragraphs: Line[][] = [];
  lines.forEach((line, i) => {
    if (i === 0 || startsParagraph(lines[i - 1]!, line, step)) paragraphs.push([line]);
    else paragraphs.at(-1)!.push(line);
  });
  return paragraphs
    .map((paragraph) => {
      const visual = paragraph.map(visualLine);
      // A paragraph has one base direction: a Persian line that starts with a URL is still a Persian line.
      const direction = dominantDirection(visual.join(" "));
      return visual.map((v) => reorder(v, direction).replace(KASHIDA_STAND_IN, "")).join("\n");
    })
    .join("\n\n");
}

function groupLines(runs: TextRun[]): Line[] {
  const lines: Line[] = [];
  for (const run of runs) {
    if (!run.text.trim()) continue;
    const line = findLine(lines, run);
    if (line) {
      line.runs.push(run);
      line.minX = Math.min(line.minX, run.x);
      line.maxX = Math.max(line.maxX, run.x + run.width);
      line.size = Math.max(line.size, run.size);
    } else {
      lines.push({ runs: [run], y: run.y, size: run.size, angle: run.angle, minX: run.x, maxX: run.x + run.width });
    }
  }
  return lines;
}

function findLine(lines: Line[], run: TextRun): Line | undefined {
  for (let i = lines.length - 1, seen = 0; i >= 0 && seen < LINES_LOOKBACK; i--, seen++) {
    const line = lines[i]!;
    if (line.angle !== run.angle) continue;
    const size = Math.min(line.size, run.size) || line.size || run.size;
    if (Math.abs(line.y - run.y) > SAME_BASELINE_EM * size && !isScript(run, line)) continue;
    // The current line takes any run on its baseline (table cells far apart stay one row); an earlier line
    // only a run that continues it, so a second column's line at the same height starts a line of its own.
    if (i === lines.length - 1) return line;
    if (run.x <= line.maxX + 2 * size && run.x + run.width >= line.minX - 2 * size) return line;
  }
  return undefined;
}

/** A superscript or subscript: smaller text raised or lowered within the line's height. */
function isScript(run: TextRun, line: Line): boolean {
  const dy = run.y - line.y;
  return run.size < 0.85 * line.size && dy > -0.4 * line.size && dy < 0.75 * line.size;
}

/** The line in visual order: runs sorted left to right, each in visual order, joined with word breaks. */
function visualLine(line: Line): string {
  const runs = attachMarks(line.runs.map((r, i) => ({ ...r, order: i })));
  // By centre: a zero-width ZWNJ placed between two glyphs sorts between them.
  runs.sort((a, b) => a.x + a.width / 2 - (b.x + b.width / 2) || a.order - b.order);
  let visual = "";
  let prevEnd = Number.NEGATIVE_INFINITY;
  for (const run of runs) {
    const piece = reorder(run.text, run.dir);
    const gap = run.x - prevEnd;
    if (visual && gap > WORD_GAP_EM * Math.max(run.size, line.size / 2) && !/\s$/.test(visual) && !/^\s/.test(piece)) visual += " ";
    visual += piece;
    prevEnd = Math.max(prevEnd, run.x + run.width);
  }
  return visual;
}

/**
 * A run of combining marks alone (a hamza or harakat drawn as its own glyph) goes onto the letter it is drawn
 * over: appended to that run's logical text, so the mark follows its letter whatever the direction.
 */
function attachMarks<T extends TextRun>(runs: T[]): T[] {
  const bases = runs.filter((r) => !isMarkRun(r));
  const letters = [...bases];
  for (const mark of runs.filter(isMarkRun)) {
    const marks = mark.text.replace(/\s+/g, "");
    let base: T | undefined;
    let best = Number.POSITIVE_INFINITY;
    for (const b of letters) {
      const distance = Math.max(b.x - mark.x, mark.x - b.x - b.width, 0);
      if (distance < best) [best, base] = [distance, b];
    }
    if (base && best <= base.size) base.text += marks;
    else bases.push({ ...mark, text: marks });
  }
  return bases;
}

const isMarkRun = (r: TextRun) => MARKS_ONLY.test(r.text);

/** The median step between consecutive lines of the same size going down the page. */
function usualLineStep(lines: Line[]): number {
  const steps: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const a = lines[i - 1]!;
    const b = lines[i]!;
    const step = a.y - b.y;
    if (a.angle === b.angle && step > 0 && Math.abs(a.size - b.size) < 0.5) steps.push(step);
  }
  if (!steps.length) return Number.POSITIVE_INFINITY;
  steps.sort((x, y) => x - y);
  return steps[Math.floor(steps.length / 2)]!;
}

function startsParagraph(prev: Line, line: Line, usualStep: number): boolean {
  if (prev.angle !== line.angle) return true;
  const step = prev.y - line.y;
  if (step <= 0) return true; // back up the page: a new column or block
  if (Math.abs(prev.size - line.size) > 0.15 * Math.max(prev.size, line.size)) return true; // heading ↔ body
  return step > PARAGRAPH_STEP * Math.min(usualStep, 2 * Math.max(prev.size, line.size));
}
