// End-to-end: the local stack and `wrangler dev` exactly as `npm run dev` runs them (in memory, free ports).
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startLocalApi } from "../../dev/local-api.ts";

declare module "vitest" {
  export interface ProvidedContext {
    apiUrl: string;
    /** The OpenAI stand-in, for fault injection (POST /__faults). */
    openaiUrl: string;
    /** The stack's database, for what only an operator does (creating a tenant and its first owner). */
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const stateDir = mkdtempSync(join(tmpdir(), "docuchat-e2e-"));
  const api = await startLocalApi({
    stateDir,
    env: { REDIS_URL: process.env.REDIS_URL },
    vars: { JWT_SECRET: randomBytes(32).toString("base64url") },
    inheritOutput: process.env.DOCUCHAT_VERBOSE === "1",
  });
  project.provide("apiUrl", api.url);
  project.provide("openaiUrl", api.stack.openaiUrl);
  project.provide("postgresUrl", api.stack.postgresUrl);
  return async () => {
    await api.stop();
    rmSync(stateDir, { recursive: true, force: true });
  };
}
