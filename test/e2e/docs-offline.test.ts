// The API reference (/docs: Swagger UI, /redoc: ReDoc) in headless Chromium with every request to another origin
// refused, as on a machine with no internet: both pages must list the operations from the Worker's own assets
// (public/docs-assets/), and neither may try to reach another origin — but for ReDoc's "API docs by Redocly" badge,
// whose image ReDoc always asks cdn.redoc.ly for and hides when it does not load (redoc.standalone.js, no option).
import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, test } from "vitest";
import { launchChromium } from "./chromium.ts";

const REDOC_BADGE = "https://cdn.redoc.ly/redoc/logo-mini.svg";
const OPERATIONS = ["Upload a PDF", "List your documents", "Exchange a login code for an access token", "Chat over a WebSocket"];

describe("API reference offline", () => {
  const apiUrl = inject("apiUrl");
  const origin = new URL(apiUrl).origin;
  let browser: Browser;
  let context: BrowserContext;
  /** Requests to anywhere but the Worker, refused; and what the page logged as errors. */
  const refused: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: "en-US" });
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith("data:") || url.startsWith("blob:") || new URL(url).origin === origin) return route.continue();
      refused.push(url);
      return route.abort("internetdisconnected");
    });
  });

  beforeEach(() => {
    refused.length = 0;
    consoleErrors.length = 0;
  });

  afterAll(async () => {
    await browser?.close();
  });

  // Where each renderer shows an operation's summary: Swagger UI in its row, ReDoc as the heading of its section.
  for (const [path, renderer, summarySelector, expectedRefused] of [
    ["/docs", "Swagger UI", ".opblock-summary-description", []],
    ["/redoc", "ReDoc", "h2", [REDOC_BADGE]],
  ] as const)
    test(`${path} (${renderer}) lists the operations with the network off`, async () => {
      const page = await context.newPage();
      page.on("console", (msg) => {
        if (msg.type() === "error") consoleErrors.push(msg.text());
      });
      page.on("pageerror", (err) => consoleErrors.push(`uncaught: ${err.message}`));
      const started = Date.now();
      await page.goto(`${apiUrl}${path}`);
      for (const summary of OPERATIONS)
        await page
          .locator(summarySelector, { hasText: new RegExp(`^${summary}\\s*$`) })
          .first()
          .waitFor({ state: "visible", timeout: 20_000 });
      console.log(`${path}: ${OPERATIONS.length} operations visible after ${Date.now() - started} ms`);
      expect(refused, "requests to other origins").toEqual(expectedRefused);
      // Chromium logs each refused request as a failed resource load, and nothing else may fail.
      expect(consoleErrors, "console errors").toEqual(expectedRefused.map(() => "Failed to load resource: net::ERR_INTERNET_DISCONNECTED"));
      await page.close();
    });
});
