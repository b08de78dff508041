// The stand-in's "vision model": Debian's tesseract, run on the decoded image piped through stdin.
// At most `concurrency` runs at once (the rest wait in a FIFO queue), each with OMP_THREAD_LIMIT=1
// (tesseract's OpenMP threads only fight each other on a small machine) and a time limit.
//
// The contract a client sees (POST /v1/chat/completions whose user message has image_url parts):
//   200  choices[0].message.content = each image's text (trimmed; form feeds and LRM/RLM marks removed),
//        in request order, joined by a blank line; stream:true gives the same text as SSE deltas.
//        usage.prompt_tokens = the text parts counted as for any chat request + per image what OpenAI
//        bills (images.ts imageTokens: gpt-4o-mini 2833 + 5667/tile, gpt-4o & others 85 + 170/tile,
//        low detail = the base only); completion_tokens = o200k/cl100k tokens of the answer.
//   400  invalid_request_error, code invalid_base64 | invalid_image_format (not PNG/JPEG, undecodable,
//        over 20 MB) | invalid_image_url (http(s) URLs: the stand-in cannot fetch) | invalid_value.
//   503  server_error, code ocr_unavailable: tesseract or its traineddata is missing. Permanent until
//        installed; sent with `x-should-retry: false`, so the openai SDK does not retry it.
//   500  server_error, code ocr_timeout (a run took over timeoutMs; not retried either) or ocr_failed.
import { type ChildProcess, spawn } from "node:child_process";
import { ApiError } from "./errors.ts";

export interface OcrOptions {
  /** The tesseract binary: a name looked up on PATH, or a path. Env OPENAI_STANDIN_TESSERACT; default "tesseract". */
  tesseract: string;
  /** tesseract's -l value. Env OPENAI_STANDIN_OCR_LANGS; default "fas+eng". */
  langs: string;
  /** Runs at once. Env OPENAI_STANDIN_OCR_CONCURRENCY; default 2. */
  concurrency: number;
  /** A run is killed after this long (queueing time not counted). Env OPENAI_STANDIN_OCR_TIMEOUT_MS; default 60000. */
  timeoutMs: number;
  /** tesseract's page segmentation mode; default 3 (fully automatic, no OSD). */
  psm: number;
}

export const INSTALL_HINT = "apt-get install tesseract-ocr tesseract-ocr-fas tesseract-ocr-eng";

/** Options from `overrides`, else the environment, else the defaults. */
export function ocrOptions(overrides: Partial<OcrOptions> = {}, env: NodeJS.ProcessEnv = process.env): OcrOptions {
  const int = (name: string, fallback: number) => {
    const v = env[name];
    if (v === undefined || v === "") return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
    return n;
  };
  const opts: OcrOptions = {
    tesseract: overrides.tesseract ?? (env.OPENAI_STANDIN_TESSERACT || "tesseract"),
    langs: overrides.langs ?? (env.OPENAI_STANDIN_OCR_LANGS || "fas+eng"),
    concurrency: overrides.concurrency ?? int("OPENAI_STANDIN_OCR_CONCURRENCY", 2),
    timeoutMs: overrides.timeoutMs ?? int("OPENAI_STANDIN_OCR_TIMEOUT_MS", 60_000),
    psm: overrides.psm ?? 3,
  };
  if (!/^[A-Za-z0-9_]+(\+[A-Za-z0-9_]+)*$/.test(opts.langs))
    throw new Error(`OCR languages must look like "fas+eng", got ${JSON.stringify(opts.langs)}`);
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new Error("OCR concurrency must be a positive integer");
  return opts;
}

/**
 * 503 `ocr_unavailable`, with `x-should-retry: false` so the openai SDK gives up at once (it would
 * retry any other 503 twice). Callers should treat the code as permanent: installing tesseract, not
 * waiting, fixes it.
 */
export function ocrUnavailable(reason: string): ApiError {
  return new ApiError(503, `OCR is not available in the OpenAI stand-in: ${reason}`, {
    type: "server_error",
    code: "ocr_unavailable",
    headers: { "x-should-retry": "false" },
  });
}

/** Thrown when the caller's signal aborts a queued or running recognition (the client went away). */
export class OcrAbortedError extends Error {
  constructor() {
    super("OCR aborted");
    this.name = "AbortError";
  }
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
}

/** Tesseract's text, as a model would give it: no form feeds or bidi marks, no trailing spaces, at most one blank line in a row. */
export function cleanOcrText(raw: string): string {
  return raw
    .replace(/\f/g, "")
    .replace(/[\u200E\u200F]/g, "") // the LRM/RLM tesseract puts around left-to-right runs in right-to-left lines
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/** Languages listed by `tesseract --list-langs` (tesseract 5 prints them on stdout, 4 on stderr). */
export function parseLangs(output: string): string[] {
  const lines = output.split(/\r?\n/);
  const start = lines.findIndex((l) => /^List of available languages/i.test(l));
  if (start < 0) return [];
  return lines
    .slice(start + 1)
    .map((l) => l.trim())
    .filter((l) => /^[A-Za-z0-9_.-]+$/.test(l));
}

const tail = (s: string, n = 400) => {
  const t = s.trim().replace(/\s*\n\s*/g, " | ");
  return t.length > n ? `…${t.slice(-n)}` : t || "(no output)";
};

export class OcrEngine {
  readonly options: OcrOptions;
  #active = 0;
  #queue: (() => void)[] = [];
  #children = new Set<ChildProcess>();
  /** The last successful availability check; a failed one is forgotten, so installing tesseract later helps. */
  #available: Promise<void> | null = null;

  constructor(options: OcrOptions) {
    this.options = options;
  }

  /** Runs now, and waiting for a slot. */
  get load(): { running: number; queued: number } {
    return { running: this.#active, queued: this.#queue.length };
  }

  /** Resolves if tesseract runs and has every requested language; else throws 503 ocr_unavailable. */
  ensureAvailable(): Promise<void> {
    if (!this.#available) {
      const check = this.#check();
      this.#available = check;
      check.catch(() => {
        if (this.#available === check) this.#available = null;
      });
    }
    return this.#available;
  }

  /** The text in one PNG/JPEG image. `where` names it in error messages (e.g. "messages[1].content[1]"). */
  async recognize(image: Buffer, where: string, signal: AbortSignal): Promise<string> {
    await this.#acquire(signal);
    let r: RunResult;
    try {
      const { langs, psm } = this.options;
      r = await this.#run(["stdin", "stdout", "-l", langs, "--psm", String(psm)], image, this.options.timeoutMs, signal);
    } catch (err) {
      throw this.#spawnError(err);
    } finally {
      this.#release();
    }
    if (r.aborted) throw new OcrAbortedError();
    if (r.timedOut)
      throw new ApiError(500, `OCR timed out: tesseract ran over ${this.options.timeoutMs / 1000} s on ${where} and was killed.`, {
        type: "server_error",
        code: "ocr_timeout",
        headers: { "x-should-retry": "false" },
      });
    if (r.code === 0) return cleanOcrText(r.stdout.toString("utf8"));
    if (/Failed loading language|Error opening data file|couldn't load any languages/i.test(r.stderr)) {
      this.#available = null;
      throw ocrUnavailable(
        `tesseract could not load the traineddata for '${this.options.langs}': ${tail(r.stderr)} (${INSTALL_HINT}, or set OPENAI_STANDIN_OCR_LANGS)`,
      );
    }
    if (/pixRead|cannot be read|findFileFormat|libpng error|Corrupt JPEG|Premature end of JPEG/i.test(r.stderr))
      throw new ApiError(
        400,
        `You uploaded an unsupported image. Please make sure your image is valid. (${where}: tesseract could not decode it: ${tail(r.stderr)})`,
        {
          code: "invalid_image_format",
        },
      );
    throw new ApiError(500, `OCR failed: tesseract exited with ${r.signal ?? `code ${r.code}`} on ${where}: ${tail(r.stderr)}`, {
      type: "server_error",
      code: "ocr_failed",
    });
  }

  /** Kills every running tesseract (for server shutdown). */
  close(): void {
    for (const child of this.#children) child.kill("SIGKILL");
  }

  async #check(): Promise<void> {
    let r: RunResult;
    try {
      r = await this.#run(["--list-langs"], undefined, 15_000);
    } catch (err) {
      throw this.#spawnError(err);
    }
    const langs = parseLangs(`${r.stdout.toString("utf8")}\n${r.stderr}`);
    if (langs.length === 0)
      throw ocrUnavailable(
        `'${this.options.tesseract} --list-langs' listed no languages (exit ${r.signal ?? r.code}): ${tail(r.stderr)} (${INSTALL_HINT})`,
      );
    const missing = this.options.langs.split("+").filter((l) => !langs.includes(l));
    if (missing.length > 0) {
      const pkgs = missing.map((l) => `tesseract-ocr-${l.toLowerCase().replace(/_/g, "-")}`).join(" ");
      throw ocrUnavailable(
        `tesseract has no traineddata for ${missing.map((l) => `'${l}'`).join(", ")} (it has: ${langs.join(", ")}); apt-get install ${pkgs}, or set OPENAI_STANDIN_OCR_LANGS`,
      );
    }
  }

  /** A spawn failure (binary missing, not executable) as a 503 ocr_unavailable; anything else unchanged. */
  #spawnError(err: unknown): unknown {
    if (err instanceof ApiError) return err;
    const code = (err as NodeJS.ErrnoException)?.code;
    const bin = this.options.tesseract;
    const where = bin.includes("/") ? `at '${bin}'` : bin === "tesseract" ? "on PATH" : `on PATH (as '${bin}')`;
    if (code === "ENOENT") {
      this.#available = null;
      return ocrUnavailable(`tesseract was not found ${where} (${INSTALL_HINT}; OPENAI_STANDIN_TESSERACT names another binary)`);
    }
    if (code === "EACCES") {
      this.#available = null;
      return ocrUnavailable(`tesseract ${where} is not executable (${INSTALL_HINT})`);
    }
    return err;
  }

  #acquire(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(new OcrAbortedError());
    if (this.#active < this.options.concurrency) {
      this.#active++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener("abort", onAbort);
        this.#active++;
        resolve();
      };
      const onAbort = () => {
        const i = this.#queue.indexOf(grant);
        if (i >= 0) this.#queue.splice(i, 1);
        reject(new OcrAbortedError());
      };
      this.#queue.push(grant);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  #release(): void {
    this.#active--;
    this.#queue.shift()?.();
  }

  /** Runs tesseract with `args`, feeding `input` on stdin; rejects only if it cannot be started. */
  #run(args: string[], input: Buffer | undefined, timeoutMs: number, signal?: AbortSignal): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.options.tesseract, args, {
        env: { ...process.env, OMP_THREAD_LIMIT: "1" },
        stdio: [input ? "pipe" : "ignore", "pipe", "pipe"],
      });
      this.#children.add(child);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      let aborted = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, timeoutMs);
      const onAbort = () => {
        aborted = true;
        child.kill("SIGKILL");
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      if (signal?.aborted) onAbort();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#children.delete(child);
      };
      child.stdout!.on("data", (c: Buffer) => out.push(c));
      child.stderr!.on("data", (c: Buffer) => err.push(c));
      child.once("error", (e) => {
        done();
        reject(e);
      });
      child.once("close", (code, sig) => {
        done();
        resolve({ code, signal: sig, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8"), timedOut, aborted });
      });
      if (input) {
        child.stdin!.on("error", () => {}); // EPIPE if tesseract exits before reading everything: its exit status tells
        child.stdin!.end(input);
      }
    });
  }
}
