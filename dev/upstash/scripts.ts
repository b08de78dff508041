// Lua script handling in front of a backend.
// @upstash/ratelimit >= 2.1 sends scripts starting with `#!lua flags=allow-key-locking`, a flag only
// Upstash knows: Redis 7.0 refuses it ("Unexpected flag in script shebang") and ioredis-mock can't
// parse `#!` at all. So the shebang is stripped before the script reaches the backend. The client
// computes EVALSHA hashes itself from the ORIGINAL text, so we map sha1(original) → stripped script.
import { createHash } from "node:crypto";
import type { Backend, Command, Reply } from "./backend.ts";

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

interface Known {
  text: string; // script as the backend runs it
  sha: string; // sha1 of that text, i.e. the backend's own hash
}

export interface Runner {
  exec(cmd: Command): Promise<Reply>;
  multi(cmds: Command[]): Promise<Array<Reply | Error>>;
}

export function withScripts(backend: Backend): Runner {
  const known = new Map<string, Known>(); // keyed by sha1 of the script as the client sent it

  function remember(script: string): Known {
    // Blank the shebang line instead of removing it so Lua error line numbers still match.
    const text = script.startsWith("#!") ? script.replace(/^#![^\n]*/, "") : script;
    const entry = { text, sha: sha1(text) };
    known.set(sha1(script), entry);
    return entry;
  }
  const lookup = (sha: string | undefined) => (sha === undefined ? undefined : known.get(sha.toLowerCase()));

  /** The command for the backend; `inTx`: inside MULTI there is no NOSCRIPT retry, so send EVAL. */
  function rewrite(cmd: Command, inTx: boolean): Command {
    const [name, first, ...rest] = cmd;
    const upper = name.toUpperCase();
    if (first === undefined) return cmd;
    if (upper === "EVAL" || upper === "EVAL_RO") return [upper, remember(first).text, ...rest];
    if (upper === "EVALSHA" || upper === "EVALSHA_RO") {
      const k = lookup(first);
      if (k) return inTx ? [upper.replace("SHA", ""), k.text, ...rest] : [upper, k.sha, ...rest];
    }
    if (upper === "SCRIPT" && first.toUpperCase() === "LOAD" && rest.length === 1) return ["SCRIPT", "LOAD", remember(rest[0] ?? "").text];
    return cmd; // e.g. an unknown sha: the backend answers with its normal NOSCRIPT error
  }

  /** Replies must name the client's hashes, not the backend's. */
  function fixReply([name, sub = "", ...rest]: Command, reply: Reply): Reply {
    if (name.toUpperCase() !== "SCRIPT") return reply;
    sub = sub.toUpperCase();
    if (sub === "LOAD" && rest.length === 1) return Buffer.from(sha1(rest[0] ?? ""));
    // a script we know can always run (EVAL fallback), even if the backend's cache was flushed
    if (sub === "EXISTS" && Array.isArray(reply)) return reply.map((v, i) => (lookup(rest[i]) ? 1 : v));
    if (sub === "FLUSH") known.clear();
    return reply;
  }

  return {
    async exec(cmd) {
      const sent = rewrite(cmd, false);
      try {
        return fixReply(cmd, await backend.exec(sent));
      } catch (err) {
        // The backend lost the script (restart, SCRIPT FLUSH; the mock never caches): run it by text.
        const [name, , ...rest] = sent;
        const k = sent !== cmd && /^EVALSHA/.test(name) ? lookup(cmd[1]) : undefined;
        if (k && /^NOSCRIPT/.test((err as Error).message)) return backend.exec([name.replace("SHA", ""), k.text, ...rest]);
        throw err;
      }
    },
    async multi(cmds) {
      const replies = await backend.multi(cmds.map((c) => rewrite(c, true)));
      return replies.map((r, i) => (r instanceof Error ? r : fixReply(cmds[i] ?? [""], r)));
    },
  };
}
