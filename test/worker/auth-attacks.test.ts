// Attacks on login: concurrent code guessing, tokens that outlive their user, tokens with forged claims.
import { env } from "cloudflare:workers";
import { Redis } from "@upstash/redis/cloudflare";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { LoginCodes, MAX_WRONG_ATTEMPTS } from "../../src/auth/login-codes.ts";
import { call, expectErrorShape, fetchWithEnv, json, login, requestCode, uniqueEmail, uniqueIp, upload } from "../support/api.ts";
import { upgradeRequest } from "../support/chat.ts";
import { sql } from "../support/db.ts";

const wrongCodeFor = (code: string, n = 1) => String((Number(code) + n) % 1_000_000).padStart(6, "0");

/** The guesses of one burst: 49 distinct wrong ones with the right code at #49 (index 48), as an attacker enumerating codes. */
function burstOf(code: string, size: number, rightAt: number): string[] {
  return Array.from({ length: size }, (_, i) => (i === rightAt ? code : wrongCodeFor(code, i + 1)));
}

/**
 * How the API answered one guess: accepted (200); compared with the code and rejected (the answer says how many
 * attempts are left), or rejected as the guess that burned the code; or refused without comparing (no code any more).
 */
async function verdict(res: Response): Promise<"accepted" | "wrong" | "burned" | "not evaluated"> {
  if (res.status === 200) return "accepted";
  const body = await json(res);
  expect(res.status).toBe(401);
  expectErrorShape(body, "invalid_code");
  if (/attempts? left/.test(body.error.message)) return "wrong";
  return /burned/.test(body.error.message) ? "burned" : "not evaluated";
}

function tally(verdicts: string[]) {
  const n = (v: string) => verdicts.filter((x) => x === v).length;
  return { accepted: n("accepted"), wrong: n("wrong"), burned: n("burned"), evaluated: verdicts.length - n("not evaluated") };
}

describe("login code guessing under concurrency", () => {
  // With the auth rate limits raised, only the code's own burn stands between an attacker and the account.
  const raisedLimits = { RATE_LIMIT_AUTH_PER_EMAIL: "1000/10m", RATE_LIMIT_AUTH_PER_IP: "1000/10m" };

  it("evaluates at most 5 of 50 concurrent guesses and never accepts the right one at #49 (5 rounds, raised limits)", async () => {
    const rounds = [];
    for (let round = 0; round < 5; round++) {
      const email = uniqueEmail("burst");
      const code = await requestCode(email);
      const ip = uniqueIp();
      const responses = await Promise.all(
        burstOf(code, 50, 48).map((guess) =>
          fetchWithEnv("/v1/auth/verify-code", raisedLimits, {
            method: "POST",
            headers: { "X-Tenant-ID": "acme", "CF-Connecting-IP": ip, "Content-Type": "application/json" },
            body: JSON.stringify({ email, code: guess }),
          }),
        ),
      );
      rounds.push(tally(await Promise.all(responses.map(verdict))));
    }
    for (const round of rounds) {
      expect(round.evaluated).toBeLessThanOrEqual(MAX_WRONG_ATTEMPTS);
      // Arrival order is not send order: the right code wins only if it was compared before the fifth wrong guess.
      expect(round).toEqual(
        round.accepted
          ? { accepted: 1, wrong: round.evaluated - 1, burned: 0, evaluated: round.evaluated }
          : { accepted: 0, wrong: MAX_WRONG_ATTEMPTS - 1, burned: 1, evaluated: MAX_WRONG_ATTEMPTS },
      );
    }
    // Sent last but one of 50, the right code is compared far less often than once a round (the old code: every round).
    expect(rounds.filter((r) => r.accepted).length).toBeLessThanOrEqual(2);
  }, 60_000);

  it("with the default limits, 8 wrong guesses and the right one fired together evaluate at most 5 (15 rounds)", async () => {
    for (let round = 0; round < 15; round++) {
      const email = uniqueEmail("nine");
      const code = await requestCode(email);
      const verdicts = await Promise.all(
        burstOf(code, 9, 8).map(async (guess) => verdict(await call("/v1/auth/verify-code", { body: { email, code: guess } }))),
      );
      const { accepted, burned, evaluated } = tally(verdicts);
      expect(evaluated).toBeLessThanOrEqual(MAX_WRONG_ATTEMPTS);
      // The right code may only win if it was compared before a fifth wrong guess burned the code.
      expect({ accepted, burned }).toEqual(accepted ? { accepted: 1, burned: 0 } : { accepted: 0, burned: 1 });
    }
  }, 60_000);

  it("LoginCodes.consume: 50 concurrent calls against the real Redis compare at most 5 guesses", async () => {
    const redis = new Redis({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN });
    const codes = new LoginCodes(redis, env.JWT_SECRET);
    for (let round = 0; round < 5; round++) {
      const email = uniqueEmail("unit");
      const issued = await codes.issue("acme", email, 0);
      if (!("code" in issued)) throw new Error("no code issued");
      const checks = await Promise.all(burstOf(issued.code, 50, 48).map((guess) => codes.consume("acme", email, guess)));
      const outcomes = checks.map((c) => c.outcome);
      const n = (o: string) => outcomes.filter((x) => x === o).length;
      expect(n("accepted") + n("wrong") + n("burned")).toBeLessThanOrEqual(MAX_WRONG_ATTEMPTS);
      const left = checks
        .filter((c) => c.outcome === "wrong")
        .map((c) => c.attemptsLeft)
        .sort();
      if (n("accepted")) {
        // Compared before the burn (arrival order is not send order): the wrong ones before it counted down.
        expect({ accepted: n("accepted"), burned: n("burned") }).toEqual({ accepted: 1, burned: 0 });
        expect(left).toEqual([4, 3, 2, 1].slice(0, left.length).sort());
      } else {
        expect({ wrong: n("wrong"), burned: n("burned"), absent: n("absent") }).toEqual({ wrong: 4, burned: 1, absent: 45 });
        expect(left).toEqual([1, 2, 3, 4]);
      }
      // Nothing is left behind in Redis.
      expect(await redis.exists(`login:code:acme:${email}`)).toBe(0);
    }
  });

  it("still accepts the right code fired together with 4 wrong ones (control: the burn is not too eager)", async () => {
    const email = uniqueEmail();
    const code = await requestCode(email);
    const verdicts = await Promise.all(
      [...burstOf(code, 4, -1), code].map(async (guess) => verdict(await call("/v1/auth/verify-code", { body: { email, code: guess } }))),
    );
    // Wrong guesses compared after the right one find no code any more.
    expect(tally(verdicts)).toMatchObject({ accepted: 1, burned: 0 });
  });
});

describe("a token that outlives its user", () => {
  /** A logged-in user removed from the database before their token is ever used (the principal cache is cold). */
  async function deletedUser() {
    const { token, user } = await login();
    await sql().query("delete from users where id = $1", [user.id]);
    return token;
  }

  async function expectUserGone(res: Response) {
    expect(res.status).toBe(401);
    const body = await json(res);
    expectErrorShape(body, "unauthorized");
    expect(body.error.message).toBe("The user behind this token no longer exists");
  }

  it.each([
    ["GET /v1/me", (token: string) => call("/v1/me", { token })],
    ["GET /v1/files", (token: string) => call("/v1/files", { token })],
    ["POST /v1/files", (token: string) => upload(token, "%PDF-1.4\n%%EOF\n", "gone.pdf")],
    ["POST /v1/search", (token: string) => call("/v1/search", { token, body: { query: "anything" } })],
    ["GET /v1/usage", (token: string) => call("/v1/usage", { token })],
    ["GET /v1/chat/sessions", (token: string) => call("/v1/chat/sessions", { token })],
    ["GET /ws/chat (upgrade)", (token: string) => upgradeRequest({ token })],
  ])("answers 401 on %s", async (_route, send) => {
    await expectUserGone(await send(await deletedUser()));
  });
});

describe("tokens with forged claims", () => {
  const secret = new TextEncoder().encode(env.JWT_SECRET);
  const sign = (claims: { sub: string; tid?: unknown; email?: unknown }) =>
    new SignJWT({ tid: claims.tid ?? "acme", email: claims.email ?? "mallory@example.com" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(claims.sub)
      .setIssuer("docuchat")
      .setAudience("docuchat-api")
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(secret);

  it.each([
    ["a sub that is not a uuid", { sub: "admin" }],
    ["a sub shaped like SQL", { sub: "' or '1'='1" }],
    ["a sub of 36 dashes", { sub: "-".repeat(36) }],
    ["a tid that is not a tenant id", { sub: crypto.randomUUID(), tid: "../acme" }],
    ["a tid that is not a string", { sub: crypto.randomUUID(), tid: 7 }],
    ["an email that is not a string", { sub: crypto.randomUUID(), email: ["a@example.com"] }],
  ])("refuses %s with 401 unauthorized", async (_label, claims) => {
    for (const path of ["/v1/me", "/v1/files"]) {
      const res = await call(path, { token: await sign(claims) });
      expect(res.status).toBe(401);
      expectErrorShape(await json(res), "unauthorized");
    }
  });

  it("refuses it on the chat socket upgrade too", async () => {
    const res = await upgradeRequest({ token: await sign({ sub: "admin" }) });
    expect(res.status).toBe(401);
  });
});
