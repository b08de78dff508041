// Which URLs a tenant may register as a webhook endpoint. The Worker POSTs to them, so an endpoint must not aim that
// POST at our own network (SSRF): in production only https, and never credentials, localhost or an IP literal of a
// private, loopback, link-local (cloud metadata) or multicast range. Development also allows http to the loopback
// host, where the local stack and the tests run their receivers. A public name that resolves to a private address
// cannot be caught here; a Worker's fetch goes out to the internet and cannot reach a private network anyway.
import type { Config } from "../config.ts";

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** The URL as stored (normalised by the URL parser), or throws with why it is refused. */
export function checkWebhookUrl(raw: string, environment: Config["ENVIRONMENT"]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookUrlError("must be an absolute https:// URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new WebhookUrlError("must be an https:// URL");
  if (url.username || url.password) throw new WebhookUrlError("must not contain credentials");
  const loopback = isLoopback(url.hostname);
  if (environment === "production") {
    if (url.protocol !== "https:") throw new WebhookUrlError("must be an https:// URL");
    if (loopback) throw new WebhookUrlError("must not point at localhost");
  } else if (url.protocol !== "https:" && !loopback) {
    throw new WebhookUrlError("must be an https:// URL (http only to localhost in development)");
  }
  if (!loopback && isPrivateAddress(url.hostname)) throw new WebhookUrlError("must not be a private, loopback or link-local IP address");
  return url.href;
}

export class WebhookUrlError extends Error {
  override name = "WebhookUrlError";
}

const isLoopback = (host: string) =>
  host === "localhost" || host.endsWith(".localhost") || ipv4(host)?.[0] === 127 || ipv6(host)?.every((g, i) => g === (i === 7 ? 1 : 0));

/** The URL parser has already turned every IPv4 spelling (octal, hex, one integer) into a.b.c.d. */
function ipv4(host: string): number[] | null {
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) ? host.split(".").map(Number) : null;
}

/** "[fe80::1]" → its eight 16-bit groups; the URL parser writes IPv6 hosts compressed, in hex, in brackets. */
function ipv6(host: string): number[] | null {
  if (!host.startsWith("[") || !host.endsWith("]")) return null;
  const [head = "", tail] = host.slice(1, -1).split("::");
  const part = (s: string) => (s ? s.split(":").map((g) => Number.parseInt(g, 16)) : []);
  const [left, right] = [part(head), part(tail ?? "")];
  return [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
}

function isPrivateV4([a = 0, b = 0, c = 0]: number[]): boolean {
  return (
    a === 0 || // "this network"
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b < 128) || // carrier-grade NAT
    (a === 169 && b === 254) || // link-local, where cloud metadata services answer
    (a === 172 && b >= 16 && b < 32) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0 && c === 0) ||
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    a >= 224 // multicast and reserved
  );
}

function isPrivateAddress(host: string): boolean {
  const v4 = ipv4(host);
  if (v4) return isPrivateV4(v4);
  const g = ipv6(host);
  if (!g) return false;
  const [g0 = 0] = g;
  const mappedV4 = g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;
  if (mappedV4) return isPrivateV4([g[6]! >> 8, g[6]! & 0xff, g[7]! >> 8]);
  return (
    g.slice(0, 7).every((x) => x === 0) || // :: and ::1
    (g0 & 0xfe00) === 0xfc00 || // unique local
    (g0 & 0xffc0) === 0xfe80 || // link-local
    (g0 & 0xff00) === 0xff00 // multicast
  );
}
