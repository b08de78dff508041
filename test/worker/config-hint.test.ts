// A Worker started without the local stack (plain `wrangler dev`: wrangler.toml [vars] only, no secrets) must say
// in one line what is missing and how to get a working local setup, in the answer and once in the terminal.

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index.ts";
import { expectErrorShape, fetchWithEnv, json } from "../support/api.ts";

/** What plain `wrangler dev` hands the Worker: the production [vars] of wrangler.toml and none of the secrets. */
const PLAIN_WRANGLER_DEV = {
  ENVIRONMENT: "production",
  MAIL_PROVIDER: "resend",
  DEV_RETURN_LOGIN_CODE: undefined,
  NEON_LOCAL_PROXY: undefined,
  DATABASE_URL: undefined,
  UPSTASH_REDIS_REST_TOKEN: undefined,
  JWT_SECRET: undefined,
  OPENAI_API_KEY: undefined,
  RESEND_API_KEY: undefined,
};

async function healthz(workerEnv: object): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch!(new Request("http://docuchat.test/healthz") as never, workerEnv as never, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

afterEach(() => vi.restoreAllMocks());

describe("configuration hint", () => {
  it("names the missing secrets and points to npm run dev and .dev.vars.example", async () => {
    const res = await fetchWithEnv("/healthz", PLAIN_WRANGLER_DEV);
    expect(res.status).toBe(500);
    const body = await json(res);
    expectErrorShape(body, "misconfigured");
    for (const name of ["DATABASE_URL", "UPSTASH_REDIS_REST_TOKEN", "JWT_SECRET", "OPENAI_API_KEY"])
      expect(body.error.message).toContain(`${name} is required but not set`);
    expect(body.error.message).toContain("run `npm run dev`");
    expect(body.error.message).toContain("copy .dev.vars.example to .dev.vars");
    expect(body.error.message).not.toContain("\n");
  });

  it("gives no local-stack hint when every variable is set but one is wrong", async () => {
    const body = await json(await fetchWithEnv("/healthz", { CHAT_TIMEOUT_MS: "fast" }));
    expectErrorShape(body, "misconfigured");
    expect(body.error.message).toContain("CHAT_TIMEOUT_MS is not a valid number");
    expect(body.error.message).not.toContain("npm run dev");
  });

  it("prints the problem to the terminal once per isolate, not once per request", async () => {
    const errors = vi.spyOn(console, "error");
    const isolateEnv = { ...env, ...PLAIN_WRANGLER_DEV };
    for (let i = 0; i < 3; i++) expect((await healthz(isolateEnv)).status).toBe(500);
    const plainLines = errors.mock.calls.filter(([line]) => String(line).startsWith("Invalid configuration: "));
    expect(plainLines).toHaveLength(1);
    expect(String(plainLines[0]![0])).toContain("npm run dev");
  });
});
