// Starts the local stack once for the workerd tests (in memory, free ports) and hands its bindings to them.
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { startOpenAIStandIn } from "../dev/openai/server.ts";
import { startStack } from "../dev/stack.ts";
import { createTenant } from "../scripts/lib/db.ts";
import { startWebhookReceiver } from "./support/webhook-receiver.ts";

/** Tenants the tests rely on. */
export const TEST_TENANTS = [
  { id: "acme", name: "Acme", status: "active" },
  { id: "globex", name: "Globex", status: "active" },
  { id: "frozen", name: "Frozen Ltd", status: "disabled" },
] as const;

const FIXTURES = new URL("./fixtures/pdf/", import.meta.url);
const SOURCES = new URL("./fixtures/source/", import.meta.url);

export default async function setup(project: TestProject) {
  project.provide(
    "fixturePdfs",
    Object.fromEntries(readdirSync(FIXTURES).map((name) => [name, readFileSync(new URL(name, FIXTURES)).toString("base64")])),
  );
  project.provide("fixtureSources", Object.fromEntries(readdirSync(SOURCES).map((name) => [name, readFileSync(new URL(name, SOURCES), "utf8")])));
  const stack = await startStack({ env: { REDIS_URL: process.env.REDIS_URL } });
  // A second OpenAI stand-in whose OCR has no tesseract, as a deployment whose OCR backend is missing.
  const withoutOcr = await startOpenAIStandIn({ ocr: { tesseract: "/nonexistent/tesseract" } });
  const webhookReceiver = await startWebhookReceiver();
  for (const t of TEST_TENANTS) await createTenant(stack.postgresUrl, t.id, t.name, t.status);
  project.provide("workerBindings", {
    ...stack.bindings,
    JWT_SECRET: randomBytes(32).toString("base64url"),
    CORS_ORIGINS: "https://app.example.com",
    LOGIN_CODE_RESEND_SECONDS: "2",
    RATE_LIMIT_AUTH_PER_EMAIL: "10/10m",
    RATE_LIMIT_AUTH_PER_IP: "30/10m",
    RATE_LIMIT_API_PER_USER: "300/1m",
    // Short waits, so retries to the end run within a test: 4 attempts in about 3 s.
    WEBHOOK_RETRY_DELAYS: "1s,1s,1s",
  });
  project.provide("webhookReceiverUrl", webhookReceiver.url);
  project.provide("openaiWithoutOcrUrl", withoutOcr.url);
  return async () => {
    await webhookReceiver.close();
    await withoutOcr.close();
    await stack.close();
  };
}
