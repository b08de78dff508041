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
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function constantTimeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  return x.length === y.length && crypto.subtle.timingSafeEqual(x, y);
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

  /** True exactly once for the right code; wrong guesses count towards burning the code. */
  async consume(tenantId: string, email: string, code: string): Promise<boolean> {
    const key = codeKey(tenantId, email);
    const stored = await this.redis.hget<string>(key, "hash");
    if (!stored) return false;
    if (constantTimeEqual(stored, await this.hash(tenantId, email, code))) {
      // Delete only if it is still this code: of two concurrent correct attempts, one wins.
      const deleted = await this.redis.eval<[string], number>(
        "if redis.call('HGET', KEYS[1], 'hash') == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
        [key],
        [stored],
      );
      return deleted === 1;
    }
    const attempts = await this.redis.hincrby(key, "attempts", 1);
    if (attempts >= MAX_WRONG_ATTEMPTS) await this.redis.del(key);
    return false;
  }
}
