// What of `wrangler dev`'s output reaches the terminal of `npm run dev`: the Worker's own lines (one JSON line per
// request, login codes, errors) and wrangler's errors; not the chatter that is harmless offline or repeats the banner.

import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";

const ANSI = /\x1b\[[0-9;]*m/g;

/** Single lines: wrangler's startup chatter, and its access log (requests, queue batches), which repeats the Worker's own JSON line. */
const DROPPED_LINES = [
  /^ ⛅️ wrangler /,
  /^─+$/,
  /^Using secrets defined in /,
  /^⎔ (Starting local server|Connection status updated)/,
  /^\[wrangler:info\] Ready on /,
  /^\[wrangler:info\] (GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|QUEUE) /,
];

/**
 * Blocks: a first line, then the lines that belong to it. The bindings table (printed at every start and reload)
 * ends at a blank line; the Request.cf warning (no internet: workers.cloudflare.com is unreachable) carries a stack
 * trace; the cron warning is answered by the local stack, which fires the cron itself (dev/local-api.ts).
 */
const DROPPED_BLOCKS: { first: RegExp; rest: RegExp }[] = [
  { first: /^Your Worker has access to the following bindings:/, rest: /\S/ },
  { first: /^\[wrangler:warn\] Unable to fetch the `Request\.cf` object/, rest: /^(Error: getaddrinfo |\s+at )/ },
  { first: /Scheduled Workers are not automatically triggered/, rest: /^(\s|$)/ },
];

/** Line by line: true for a line to show. Stateful, because a block's lines are only known by what came before. */
export function wranglerLineFilter(): (line: string) => boolean {
  let block: RegExp | undefined;
  return (raw) => {
    const line = raw.replace(ANSI, "");
    if (block) {
      if (block.test(line)) return false;
      block = undefined;
      // The blank line that closes a table belongs to it.
      if (line === "") return false;
    }
    const started = DROPPED_BLOCKS.find((b) => b.first.test(line));
    if (started) {
      block = started.rest;
      return false;
    }
    return !DROPPED_LINES.some((re) => re.test(line));
  };
}

/** Lines worth showing even from before the Worker was ready (after the banner): wrangler's errors and warnings. */
export const isProblem = (line: string) => /\[(ERROR|WARNING)\]|\[wrangler:(warn|error)\]|"level":"(warn|error)"/.test(line.replace(ANSI, ""));

/**
 * Pipes a child's stdout and stderr through the filter. Until `release()` lines are held (raw, for a failed start);
 * `release()` shows the held problems and forwards from then on, `dump()` prints everything held, unfiltered.
 */
export function holdOutput(streams: { from: Readable | null; to: Writable }[]) {
  const held: { line: string; to: Writable; keep: boolean }[] = [];
  let live = false;
  let awaited: { pattern: RegExp; resolve: () => void } | undefined;
  for (const { from, to } of streams) {
    if (!from) continue;
    const keep = wranglerLineFilter();
    createInterface({ input: from, crlfDelay: Infinity }).on("line", (line) => {
      const shown = keep(line);
      if (live) {
        if (shown) to.write(`${line}\n`);
      } else {
        held.push({ line, to, keep: shown });
        if (awaited?.pattern.test(line)) awaited.resolve();
      }
    });
  }
  return {
    /** Resolves once a held line matches (or after `ms`): e.g. the Worker's log line of the readiness probe. */
    heard(pattern: RegExp, ms: number): Promise<void> {
      if (held.some((h) => pattern.test(h.line))) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(resolve, ms);
        awaited = {
          pattern,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
    },
    release() {
      for (const h of held) if (h.keep && isProblem(h.line)) h.to.write(`${h.line}\n`);
      held.length = 0;
      live = true;
    },
    dump() {
      for (const h of held) process.stderr.write(`${h.line}\n`);
      held.length = 0;
    },
  };
}
