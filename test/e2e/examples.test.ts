// The examples in examples/ run as a reader would run them, against `wrangler dev` and the local stack: the curl
// walkthrough, the Node script and the browser page (in headless Chromium), the last two on the built client.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { serveExamples } from "../../examples/browser/serve.ts";
import { launchChromium } from "./chromium.ts";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "../..");
const PDF = "first-latex-doc-en.pdf";
const api = inject("apiUrl");
const env = { ...process.env, API: api, TENANT: "demo" };

describe("examples/", () => {
  beforeAll(() => {
    if (!existsSync(join(ROOT, "client/dist/index.js"))) throw new Error("client/dist is missing: run npm run client:build first");
  });

  it("curl-walkthrough.sh logs in, uploads, waits, searches and lists", async () => {
    const { stdout } = await run("bash", ["examples/curl-walkthrough.sh"], { cwd: ROOT, env, timeout: 90_000 });
    expect(stdout).toMatch(/^status=ready pages_done=(\d+)\/\1$/m);
    expect(stdout).toMatch(new RegExp(`^\\{"filename":"${PDF}","page_start":\\d+`, "m"));
    expect(stdout).toMatch(new RegExp(`"filename":"${PDF}","status":"ready","page_count":\\d+\\}$`, "m"));
  });

  it("curl-walkthrough.sh stops with the API's error", async () => {
    const failed = await run("bash", ["examples/curl-walkthrough.sh"], { cwd: ROOT, env: { ...env, TENANT: "no-such-tenant" } }).catch((e) => e);
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('"code":"tenant_not_found"');
  });

  it("node-client.ts streams a cited answer with the built client", async () => {
    const { stdout, stderr } = await run(process.execPath, ["examples/node-client.ts"], { cwd: ROOT, env, timeout: 90_000 });
    expect(stdout).toMatch(/^ready: first-latex-doc-en\.pdf, \d+ pages/m);
    expect(stdout).toMatch(/^search hit: first-latex-doc-en\.pdf p\. \d+-\d+/m);
    expect(stdout).toMatch(/^A: .*\[\d+\]/m);
    expect(stdout).toMatch(/^\(complete, \d+ tokens\)$/m);
    expect(stderr).toMatch(/^\[1\] first-latex-doc-en\.pdf p\. \d+-\d+$/m);
  });

  describe("browser/ in Chromium", () => {
    let browser: Browser;
    let server: Server;

    beforeAll(async () => {
      server = await serveExamples(0);
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
      await new Promise((resolve) => server?.close(resolve));
    });

    it("logs in, uploads with progress and streams an answer with citations", async () => {
      const page = await browser.newPage();
      const consoleErrors: string[] = [];
      page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
      page.on("pageerror", (e) => consoleErrors.push(e.message));
      const { port } = server.address() as { port: number };
      await page.goto(`http://127.0.0.1:${port}/examples/browser/?api=${encodeURIComponent(api)}&tenant=demo`);

      await page.fill("#email", `browser-example.${Date.now()}@example.com`);
      await page.click("#login button");
      await page.locator("#status", { hasText: /^Logged in; chat session [0-9a-f-]{36}$/ }).waitFor({ timeout: 10_000 });

      await page.setInputFiles("#file", join(ROOT, "test/fixtures/pdf", PDF));
      await page.click("#upload button");
      await page.locator("#status", { hasText: `${PDF} is ready` }).waitFor({ timeout: 60_000 });
      expect(await page.locator("#progress").evaluate((p: HTMLProgressElement) => p.value)).toBe(1);

      // Deltas arrive one by one: record the answer's length as it grows.
      await page.evaluate(() => {
        const lengths: number[] = [];
        (window as unknown as { lengths: number[] }).lengths = lengths;
        new MutationObserver(() => lengths.push(document.getElementById("answer")!.textContent!.length)).observe(document.getElementById("answer")!, {
          childList: true,
          characterData: true,
          subtree: true,
        });
      });
      await page.fill("#question", "How do I start a new section?");
      await page.click("#send");
      await page.locator("#status", { hasText: /^Answer complete \(\d+ tokens\)$/ }).waitFor({ timeout: 30_000 });

      expect(await page.textContent("#answer")).toMatch(/\[\d+\]/);
      const lengths = await page.evaluate(() => (window as unknown as { lengths: number[] }).lengths);
      expect(new Set(lengths).size).toBeGreaterThan(1);
      const citations = await page.locator("#citations li").allTextContents();
      expect(citations.length).toBeGreaterThan(0);
      for (const c of citations) expect(c).toMatch(/^first-latex-doc-en\.pdf p\. \d+–\d+$/);
      expect(consoleErrors).toEqual([]);
    });
  });
});
