// The secret half of an API key: "dc_live_" + 43 base62 characters (256 bits of randomness), of which only the
// SHA-256 is stored. Base62 keeps the key one "word", so a double click selects all of it.
export const API_KEY_PREFIX = "dc_live_";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_BYTES = 32;
/** ceil(256 / log2(62)): every 32-byte value fits, so the length never reveals anything. */
const BODY_LENGTH = 43;
/** What is shown to recognise a key: the tag and the first 8 random characters. */
const SHOWN_LENGTH = API_KEY_PREFIX.length + 8;

const WELL_FORMED = new RegExp(`^${API_KEY_PREFIX}[0-9A-Za-z]{${BODY_LENGTH}}$`);

function base62(bytes: Uint8Array): string {
  let n = bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  let out = "";
  for (let i = 0; i < BODY_LENGTH; i++) {
    out = ALPHABET[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out;
}

export function generateApiKey(): { secret: string; prefix: string } {
  const secret = API_KEY_PREFIX + base62(crypto.getRandomValues(new Uint8Array(RANDOM_BYTES)));
  return { secret, prefix: secret.slice(0, SHOWN_LENGTH) };
}

/** Anything else cannot be a key we issued: refused without a database round trip. */
export const isWellFormedApiKey = (token: string) => WELL_FORMED.test(token);

/** Hex SHA-256. The secret carries 256 bits of randomness, so a fast unsalted hash is enough (no password stretching). */
export async function hashApiKey(secret: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
