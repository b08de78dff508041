// One-time login codes: 6 random digits, kept in Redis only as an HMAC, bound to tenant + email,
// valid for 10 minutes, single-use, burned after too many wrong guesses.
import type { Redis } from "@upstash/redis/cloudflare";

export const CODE_TTL_SECONDS = 600;
export const MAX_WRONG_ATTEMPTS = 5;

const codeKey = (tenantId: string, email: string) => `login:code:${tenantId}:${email}`;
const cooldownKey = (tenantId: string, email: string) => `login:cooldown:${tenantId}:${email}`;

/** Uniform 6-digit code: rejection sampling avoids the modulo bias of a plain `% 1e6`. */
export function generateCode(): string {
  const buf = new Uint32Array(1);
  const ceiling = Math.floor(0x1_0000_0000 / 1_000_000) * 1_000_000;
  do crypto.getRandomValues(buf);
  while (buf[0]! >= ceiling);
  return String(buf[0]! % 1_000_000).padStart(6, "0");
}

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Compare, count and burn in one atomic step: a guess is only compared while the code exists, so however many
 * requests race, at most MAX_WRONG_ATTEMPTS guesses per code are ever evaluated. Lua's `==` on the two hex HMACs is
 * not constant-time, which is fine: the stored HMAC is keyed with our secret and never leaves Redis.
 * KEYS[1] the code's hash, ARGV[1] HMAC of the guess, ARGV[2] wrong attempts allowed → {outcome, attempts left}.
 */
const CONSUME_SCRIPT = `
local stored = redis.call('HGET', KEYS[1], 'hash')
if not stored then return {'absent', 0} end
if stored == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return {'accepted', 0}
end
local left = tonumber(ARGV[2]) - redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if left > 0 then return {'wrong', left} end
redis.call('DEL', KEYS[1])
return {'burned', 0}
`;

/** `absent`: no code to compare with (never requested, expired, used or burned before this guess). */
export type CodeOutcome = "accepted" | "wrong" | "burned" | "absent";

export interface CodeCheck {
  outcome: CodeOutcome;
  /** Wrong guesses the code still allows; only meaningful for `wrong`. */
  attemptsLeft: number;
}

export class LoginCodes {
  private readonly redis: Redis;
  private readonly secret: string;
  constructor(redis: Redis, secret: string) {
    this.redis = redis;
    this.secret = secret;
  }

  private hash(tenantId: string, email: string, code: string) {
    return hmacHex(this.secret, `login-code\n${tenantId}\n${email}\n${code}`);
  }

  /**
   * Stores a fresh code (replacing any earlier one) unless the resend cooldown is running;
   * then it answers how many seconds to wait instead.
   */
  async issue(tenantId: string, email: string, cooldownSeconds: number): Promise<{ code: string } | { retryAfter: number }> {
    if (cooldownSeconds > 0) {
      const started = await this.redis.set(cooldownKey(tenantId, email), 1, { nx: true, ex: cooldownSeconds });
      if (started === null) {
        const ttl = await this.redis.ttl(cooldownKey(tenantId, email));
        return { retryAfter: Math.max(1, ttl) };
      }
    }
    const code = generateCode();
    const key = codeKey(tenantId, email);
    const tx = this.redis.multi();
    tx.del(key);
    tx.hset(key, { hash: await this.hash(tenantId, email, code), attempts: 0 });
    tx.expire(key, CODE_TTL_SECONDS);
    await tx.exec();
    return { code };
  }

  /** Forgets a code that could not be delivered, so the user may ask again at once. */
  async revoke(tenantId: string, email: string): Promise<void> {
    await this.redis.del(codeKey(tenantId, email), cooldownKey(tenantId, email));
  }

  /** Accepted exactly once for the right code; each wrong guess counts towards burning the code. */
  async consume(tenantId: string, email: string, code: string): Promise<CodeCheck> {
    const [outcome, attemptsLeft] = await this.redis.eval<[string, string], [CodeOutcome, number]>(
      CONSUME_SCRIPT,
      [codeKey(tenantId, email)],
      [await this.hash(tenantId, email, code), String(MAX_WRONG_ATTEMPTS)],
    );
    return { outcome, attemptsLeft };
  }
}
