// Every [n] an answer shows must be a citation that was sent. Models cite numbers that do not exist: repeating a
// marker from an earlier answer in the history (whose sources were others), copying the prompt's own "[1]"
// example, or miscounting. The streamed deltas pass through this filter: markers above the citation count are
// dropped (with the space before them), Persian and Arabic-Indic digits in markers become ASCII so the page can
// link them, and code (fenced blocks, `inline spans`) is left alone: `a[9]` there is code, not a citation.

const DIGIT = "[0-9\u06F0-\u06F9\u0660-\u0669]";
/** A marker as the page links it: "[2]", "[1, 3]", "[۲،۳]", with the spaces before it (not a line break). */
const MARKER = new RegExp(`([ \\t\u00A0]*)\\[\\s*(${DIGIT}+(?:\\s*[,،]\\s*${DIGIT}+)*)\\s*\\]`, "g");
/** What may still grow into a marker: trailing whitespace and an open "[" of digits and separators (held back). */
const OPEN_TAIL = new RegExp(`\\s*(?:\\[[\\s,،${DIGIT.slice(1, -1)}]{0,24})?$`);

const asciiDigits = (s: string) => s.replace(/[\u06F0-\u06F9\u0660-\u0669]/g, (d) => String((d.charCodeAt(0) - 0x0660) % 0x90));

/** Where code starts and ends, tracked across deltas: a ``` or ~~~ line toggles a fence, a backtick an inline span. */
interface CodeState {
  fence: boolean;
  inline: boolean;
  line: string;
}

function advance(state: CodeState, text: string): CodeState {
  let { fence, inline, line } = state;
  for (const ch of text) {
    if (ch === "\n") {
      if (/^ {0,3}(```|~~~)/.test(line)) fence = !fence;
      inline = false;
      line = "";
      continue;
    }
    if (ch === "`" && !fence) inline = !inline;
    line += ch;
  }
  return { fence, inline, line };
}

const inCode = (s: CodeState) => s.fence || s.inline || /^ {0,3}(```|~~~)/.test(s.line);

export interface CitationMarkerFilter {
  /** Takes the next delta; returns the text that can be shown now (possibly empty: a marker may be half-written). */
  push(delta: string): string;
  /** The text still held back, once the answer is complete. */
  flush(): string;
}

/** A filter for one answer that was sent `count` citations, numbered 1..count. */
export function citationMarkerFilter(count: number): CitationMarkerFilter {
  let held = "";
  let state: CodeState = { fence: false, inline: false, line: "" };

  /** `text` with its markers checked, given the code state where it starts. */
  const checked = (text: string) => {
    let out = "";
    let last = 0;
    for (const m of text.matchAll(MARKER)) {
      const at = m.index;
      if (inCode(advance(state, text.slice(0, at)))) continue;
      const kept = m[2]!
        .split(/[,،]/)
        .map((n) => Number(asciiDigits(n.trim())))
        .filter((n) => n >= 1 && n <= count);
      out += text.slice(last, at) + (kept.length ? `${m[1]}[${[...new Set(kept)].join(", ")}]` : "");
      last = at + m[0].length;
    }
    return out + text.slice(last);
  };

  const release = (text: string) => {
    const out = checked(text);
    state = advance(state, text);
    return out;
  };

  return {
    push(delta) {
      held += delta;
      const cut = held.length - (OPEN_TAIL.exec(held)?.[0].length ?? 0);
      const ready = held.slice(0, cut);
      held = held.slice(cut);
      return release(ready);
    },
    flush() {
      const rest = held;
      held = "";
      return release(rest);
    },
  };
}
