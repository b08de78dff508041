// The demo page (public/app/) in headless Chromium against the whole local stack: login with the dev code (and a
// 429), upload with its progress bar, ingestion to ready (and to failed), a streamed English answer with citations
// that show their page's text and open the PDF at their page, a Persian question laid out right to left, usage, the
// sessions sidebar, download, deletion and log-out; then the admin view: an owner invites a user, creates a collection,
// gives them access, changes a setting, creates and revokes an API key and downloads usage, and the member finds the
// collection beside their own documents and limits a chat to it. Any browser console error that a step did not
// provoke on purpose fails the test.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, CDPSession, Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, test } from "vitest";
import { createTenant, ensureOwner } from "../../scripts/lib/db.ts";
import { launchChromium } from "./chromium.ts";

const FIXTURES = join(import.meta.dirname, "../fixtures/pdf");
const RESULTS = join(import.meta.dirname, "../../test-results");
const EN_PDF = "first-latex-doc-en.pdf";
const FA_PDF = "lshort-fa.pdf";
/** A citation chip's text: "[n] filename p. X" or "[n] filename p. X–Y". */
const CHIP = (file: string) => new RegExp(`^\\[\\d+\\] ${file.replace(/\./g, "\\.")} p\\. \\d+(–\\d+)?$`);

/** vitest's expect.poll with room for a browser (its default gives up after 1 s). */
const poll = <T>(fn: () => T | Promise<T>, timeout = 10_000) => expect.poll(fn, { timeout, interval: 50 });
const visible = (l: Locator, timeout = 10_000) => l.waitFor({ state: "visible", timeout });
const hidden = (l: Locator, timeout = 10_000) => l.waitFor({ state: "hidden", timeout });
const text = (l: Locator) => l.textContent().then((t) => (t ?? "").replace(/\s+/g, " ").trim());
const direction = (l: Locator) => l.evaluate((el) => getComputedStyle(el).direction);

interface Frame {
  type: string;
  [k: string]: unknown;
}

type UploadFile = string | { name: string; mimeType: string; buffer: Buffer };

describe("demo page in Chromium", () => {
  const apiUrl = inject("apiUrl");
  // Cancel and error frames need a slow or failing model: the OpenAI stand-in's fault injection.
  const openaiUrl = inject("openaiUrl");
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let cdp: CDPSession | undefined;
  const consoleErrors: string[] = [];
  /** Console errors a step provokes on purpose (Chrome logs every 4xx response): each must appear exactly once. */
  const expectedErrors: RegExp[] = [];
  /** Frames the page received on its chat sockets, in order, and the sockets' URLs. */
  const frames: Frame[] = [];
  /** Frames the page sent on its chat sockets. */
  const sentFrames: Frame[] = [];
  const socketUrls: string[] = [];
  const timings: Record<string, number> = {};
  let mark = Date.now();
  const lap = (name: string) => {
    timings[name] = Date.now() - mark;
    mark = Date.now();
  };

  beforeAll(async () => {
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: "en-US" });
    page = await context.newPage();
    page.on("console", (msg) => {
      if (msg.type() === "error") consoleErrors.push(`${msg.text()} (${msg.location().url})`);
    });
    page.on("pageerror", (err) => consoleErrors.push(`uncaught: ${err.message}`));
    page.on("websocket", (ws) => {
      socketUrls.push(ws.url());
      ws.on("framereceived", (f) => {
        if (typeof f.payload === "string") frames.push(JSON.parse(f.payload) as Frame);
      });
      ws.on("framesent", (f) => {
        if (typeof f.payload === "string") sentFrames.push(JSON.parse(f.payload) as Frame);
      });
    });
  });

  beforeEach(() => {
    consoleErrors.length = 0;
    expectedErrors.length = 0;
    mark = Date.now();
  });

  afterEach(() => {
    const unexpected = consoleErrors.filter((e) => !expectedErrors.some((re) => re.test(e)));
    expect(unexpected, "browser console errors").toEqual([]);
    for (const re of expectedErrors)
      expect(
        consoleErrors.filter((e) => re.test(e)),
        `console errors matching ${re}`,
      ).toHaveLength(1);
  });

  afterAll(async () => {
    console.log(`browser e2e step timings (ms): ${JSON.stringify(timings)}`);
    await browser?.close();
  });

  /** Slows uploads down to 256 KiB/s (the emulation lasts as long as its CDP session). */
  async function throttle(on: boolean) {
    if (on) {
      cdp = await context.newCDPSession(page);
      await cdp.send("Network.enable");
      await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 5, downloadThroughput: -1, uploadThroughput: 256 * 1024 });
    } else {
      await cdp?.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      await cdp?.detach();
      cdp = undefined;
    }
  }

  /** The OpenAI stand-in's fault rules: a slow, failing or scripted model for the questions holding `match`. */
  const faults = () => `${new URL(openaiUrl!).origin}/__faults`;
  const fault = async (spec: Record<string, unknown>) => {
    const res = await fetch(faults(), { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(spec) });
    expect(res.status).toBe(201);
  };

  const docRow = (name: string) => page.locator(".doc", { has: page.locator(".doc-name", { hasText: name }) });

  /** Uploads a file through the file input, waits until its row says `final`; returns every status the row showed. */
  async function upload(file: UploadFile, final: "ready" | "failed", timeout: number, { throttled = false } = {}): Promise<string[]> {
    const name = typeof file === "string" ? file : file.name;
    // Record each status the row passes through (queued → processing → ready), however briefly it shows, and each
    // line of the upload's own progress.
    await page.evaluate((n) => {
      const w = window as unknown as { statuses: string[]; uploadLines: string[]; observers?: MutationObserver[] };
      for (const o of w.observers ?? []) o.disconnect();
      w.statuses = [];
      w.uploadLines = [];
      const list = document.getElementById("doc-list")!;
      const uploads = document.getElementById("uploads")!;
      const rows = new MutationObserver(() => {
        for (const row of list.querySelectorAll<HTMLElement>(".doc")) {
          if (row.querySelector(".doc-name")?.textContent !== n) continue;
          const status = row.querySelector(".badge")?.textContent ?? "";
          if (w.statuses.at(-1) !== status) w.statuses.push(status);
        }
      });
      const progress = new MutationObserver(() => {
        const line = uploads.querySelector(".upload-text")?.textContent;
        const bar = uploads.querySelector("progress");
        const entry = `${line} | ${bar ? bar.position.toFixed(2) : "-"}`;
        if (line && w.uploadLines.at(-1) !== entry) w.uploadLines.push(entry);
      });
      const options = { subtree: true, childList: true, characterData: true, attributes: true };
      rows.observe(list, options);
      progress.observe(uploads, options);
      w.observers = [rows, progress];
    }, name);
    if (throttled) await throttle(true);
    const uploadResponse = page.waitForResponse((r) => r.url().endsWith("/v1/files") && r.request().method() === "POST");
    await page.setInputFiles("#file-input", typeof file === "string" ? join(FIXTURES, file) : file);
    expect((await uploadResponse).status()).toBe(202);
    if (throttled) {
      await throttle(false);
      // Slowed down, the upload's progress bar went through intermediate values before the server answered.
      const lines = await page.evaluate(() => (window as unknown as { uploadLines: string[] }).uploadLines);
      expect(lines.filter((l) => /^Uploading… [1-9]\d? % of [\d.]+ KB \| 0\.\d\d$/.test(l)).length, lines.join("\n")).toBeGreaterThan(0);
    }
    const row = docRow(name);
    await poll(() => text(row.locator(".badge")), timeout).toBe(final);
    expect(await row.locator(".doc-progress").isHidden()).toBe(true);
    expect(await page.locator("#uploads .upload").count()).toBe(0);
    return page.evaluate(() => (window as unknown as { statuses: string[] }).statuses);
  }

  /** Logs in through the form with the development code (forgetting a session an earlier, failed test left). */
  async function signIn(address: string, tenant = "demo") {
    await page.goto(`${apiUrl}/app/`);
    if (await page.evaluate(() => sessionStorage.getItem("docuchat.token"))) {
      await page.evaluate(() => sessionStorage.clear());
      await page.reload();
    }
    await page.fill("#tenant", tenant);
    await page.fill("#email", address);
    await page.click("#send-code");
    await visible(page.locator("#dev-code"));
    await page.click("#verify");
    await poll(() => text(page.locator("#user-email"))).toBe(address);
  }

  /** Sends a question with Enter and waits until its answer is finished. */
  async function ask(question: string) {
    const before = await page.locator(".msg-assistant").count();
    const framesBefore = frames.length;
    // Cancel replaces Send while the answer streams (briefly: the stand-in answers in about 100 ms).
    await page.evaluate(() => {
      const w = window as unknown as { cancelShown: boolean };
      w.cancelShown = false;
      const cancel = document.getElementById("cancel")!;
      new MutationObserver(() => (w.cancelShown ||= !cancel.hidden)).observe(cancel, { attributes: true });
    });
    await page.fill("#question", question);
    await page.press("#question", "Enter");
    expect(await text(page.locator(".msg-user").last())).toBe(question);
    const answer = page.locator(".msg-assistant").nth(before);
    await poll(() => text(answer.locator(".msg-meta")), 30_000).toMatch(/tokens$/);
    expect(await answer.locator(".msg-body").getAttribute("class")).not.toMatch(/streaming/);
    await visible(page.locator("#send"));
    expect(await page.evaluate(() => (window as unknown as { cancelShown: boolean }).cancelShown)).toBe(true);
    expect(await page.inputValue("#question")).toBe("");
    return { answer, frames: frames.slice(framesBefore) };
  }

  test("login, upload, streamed answers with citations in English and Persian, sessions, delete, log out", async () => {
    const email = `browser-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;

    // --- Login with the development code, shown and filled in.
    await page.goto(`${apiUrl}/app/`);
    await visible(page.locator("#login-title"));
    expect(await text(page.locator("#login-title"))).toBe("Sign in");
    expect(await page.inputValue("#tenant")).toBe("demo");
    await page.fill("#email", email);
    await page.click("#send-code");
    await visible(page.locator("#dev-code"));
    const devCode = await text(page.locator("#dev-code-value"));
    expect(devCode).toMatch(/^\d{6}$/);
    expect(await page.inputValue("#code")).toBe(devCode);
    // Asking again at once: 429 resend_cooldown, shown with its wait, the button counting down, the code kept.
    expectedErrors.push(/status of 429/);
    await page.click("#resend");
    await poll(() => text(page.locator("#login-error"))).toMatch(/ask again in \d+ s/);
    expect(await page.locator("#resend").isDisabled()).toBe(true);
    expect(await text(page.locator("#resend"))).toMatch(/^Send a new code \(\d+ s\)$/);
    expect(await page.inputValue("#code")).toBe(devCode);
    await page.click("#verify");
    await poll(() => text(page.locator("#user-email"))).toBe(email);
    expect(await page.evaluate(() => sessionStorage.getItem("docuchat.token"))).toMatch(/^ey/);
    await visible(page.locator("#docs-empty"));
    await visible(page.locator("#sessions-empty"));
    lap("login");

    // --- The English PDF: upload progress, then ingestion progress to ready.
    const statuses = await upload(EN_PDF, "ready", 30_000, { throttled: true });
    expect(statuses[0]).toBe("queued");
    expect(statuses.at(-1)).toBe("ready");
    const enRow = docRow(EN_PDF);
    expect(await text(enRow.locator(".doc-meta"))).toMatch(/^328 KB · 9 pages · \d+ chunks · just now$/);
    lap("upload_en_to_ready");

    // --- An English question: the socket opens, then citations, streamed deltas, done.
    const en = await ask("How do I start a new section?");
    expect(en.frames[0]!.type).toBe("session");
    const types = en.frames.map((f) => f.type).filter((t) => t !== "session" && t !== "pong");
    expect(types[0]).toBe("citations");
    expect(types.filter((t) => t === "delta").length).toBeGreaterThan(1);
    expect(types.at(-1)).toBe("done");
    // What was streamed is what is shown (the [n] markers keep their text inside their buttons).
    const deltas = en.frames
      .filter((f) => f.type === "delta")
      .map((f) => f.content as string)
      .join("");
    const enText = await text(en.answer.locator(".msg-body"));
    expect(enText.length).toBeGreaterThan(20);
    expect(enText).toBe(deltas.replace(/\s+/g, " ").trim());
    const chips = en.answer.locator(".chip");
    expect(await chips.count()).toBe((en.frames[1]!.citations as unknown[]).length);
    const chipText = await text(chips.first());
    expect(chipText).toMatch(CHIP(EN_PDF));
    expect(await direction(page.locator(".msg-user").first())).toBe("ltr");
    expect(await direction(en.answer)).toBe("ltr");
    lap("ask_en");

    // --- A citation chip shows its page's text (GET /v1/files/{id}/pages) and how it was read, under the answer;
    // from there the PDF (downloaded with the token) opens in a new tab at that page.
    const chipPage = Number(/p\. (\d+)/.exec(chipText)![1]);
    const [pagesResponse] = await Promise.all([
      page.waitForResponse((r) => new RegExp(`/v1/files/[0-9a-f-]+/pages\\?from=${chipPage}&to=\\d+$`).test(r.url())),
      chips.first().click(),
    ]);
    expect(pagesResponse.status()).toBe(200);
    const preview = en.answer.locator(".cite-preview");
    await poll(() => preview.locator(".cite-page-text").count()).toBeGreaterThan(0);
    expect(await text(preview.locator(".cite-page-text").first())).toMatch(/[A-Za-z]{3}/);
    expect(await text(preview.locator(".cite-source").first())).toBe("text layer");
    expect(await chips.first().getAttribute("aria-expanded")).toBe("true");
    const [popup, download] = await Promise.all([
      context.waitForEvent("page"),
      page.waitForResponse((r) => /\/v1\/files\/[0-9a-f-]+\/download$/.test(r.url())),
      preview.locator(".cite-open").click(),
    ]);
    expect(download.status()).toBe(200);
    expect(download.headers()["content-type"]).toBe("application/pdf");
    await popup.waitForURL((u) => u.protocol === "blob:", { timeout: 10_000 });
    expect(popup.url()).toMatch(new RegExp(`^blob:${apiUrl.replace(/\./g, "\\.")}/[0-9a-f-]+#page=${chipPage}$`));
    await popup.close();
    // The [n] markers in the answer are buttons too (the stand-in is deterministic: its answer cites sources).
    const marker = en.answer.locator(".cite-ref").first();
    expect(await marker.count()).toBe(1);
    const n = Number((await text(marker)).replace(/\D/g, ""));
    const cited = (en.frames[1]!.citations as { n: number; page_start: number }[]).find((c) => c.n === n)!;
    await marker.click();
    await poll(() => preview.getAttribute("data-n")).toBe(String(n));
    const [popup2] = await Promise.all([context.waitForEvent("page"), preview.locator(".cite-open").click()]);
    await popup2.waitForURL((u) => u.protocol === "blob:", { timeout: 10_000 });
    expect(popup2.url()).toMatch(new RegExp(`#page=${cited.page_start}$`));
    await popup2.close();
    lap("open_citations");

    // --- The Persian manual (147 pages), and a file that starts like a PDF but is not one: failed, with its reason.
    expect((await upload(FA_PDF, "ready", 60_000)).at(-1)).toBe("ready");
    const faRow = docRow(FA_PDF);
    expect(await text(faRow.locator(".doc-meta"))).toContain("147 pages");
    const broken = { name: "broken.pdf", mimeType: "application/pdf", buffer: Buffer.from("%PDF-1.4\nnot really a PDF\n") };
    expect((await upload(broken, "failed", 30_000)).at(-1)).toBe("failed");
    const brokenRow = docRow("broken.pdf");
    expect(await text(brokenRow.locator(".doc-error"))).toMatch(/could not be read as a PDF.*\(invalid_pdf\)$/);
    expect(await brokenRow.locator(".doc-pick").isDisabled()).toBe(true);
    expect(await faRow.locator(".doc-pick").isDisabled()).toBe(false);
    expect(await page.locator(".doc .doc-name").allTextContents()).toEqual(["broken.pdf", FA_PDF, EN_PDF]); // newest first
    lap("upload_fa_and_broken");

    // --- A Persian question: the question and its answer are laid out right to left.
    const fa = await ask("چگونه در لاتک یک بخش جدید شروع کنم؟");
    const faUser = page.locator(".msg-user").last();
    expect(await direction(faUser)).toBe("rtl");
    expect(await faUser.getAttribute("lang")).toBe("fa");
    expect(await text(fa.answer.locator(".msg-body"))).toMatch(/[\u0600-\u06ff]{3}/);
    expect(await direction(fa.answer)).toBe("rtl");
    expect((await fa.answer.locator(".chip").allTextContents()).some((t) => CHIP(FA_PDF).test(t.replace(/\s+/g, " ").trim()))).toBe(true);
    lap("ask_fa");

    // --- Usage: tokens in the last 24 h against the daily budget.
    await poll(() => text(page.locator("#usage-text"))).toMatch(/^[1-9][\d.]*K? \/ 500K$/);

    // --- Sessions: the chat is listed under its first question; reopening it restores the history and reconnects.
    const session = page.locator(".session", { hasText: "How do I start a new section?" });
    await poll(() => session.count()).toBe(1);
    expect(await session.getAttribute("class")).toMatch(/active/);
    await page.click("#new-chat");
    expect(await page.locator("#messages .msg").count()).toBe(0);
    await visible(page.locator("#empty-chat"));
    const sessionId = (await session.getAttribute("data-id"))!;
    const socketsBefore = socketUrls.length;
    await session.locator(".session-open").click();
    await poll(() => page.locator("#messages .msg").count()).toBe(4);
    expect(await text(page.locator(".msg-user").first())).toBe("How do I start a new section?");
    expect(await text(page.locator(".msg-assistant").first().locator(".msg-body"))).toBe(enText);
    expect(await text(page.locator(".msg-assistant").first().locator(".chip").first())).toBe(chipText);
    expect(await direction(page.locator(".msg-assistant").last())).toBe("rtl");
    await poll(() => socketUrls.slice(socketsBefore).some((u) => u.endsWith(`session_id=${sessionId}`))).toBe(true);
    lap("reopen_session");

    // --- The screenshot: three documents, both answers with their sources.
    mkdirSync(RESULTS, { recursive: true });
    await page.locator(".toast-close").evaluateAll((buttons) => {
      for (const b of buttons) (b as HTMLButtonElement).click();
    });
    await page.evaluate(() => document.fonts.ready);
    await page.screenshot({ path: join(RESULTS, "demo.png"), fullPage: true });

    // --- Download saves the original under its name; Delete asks first, then removes the row.
    const [saved] = await Promise.all([page.waitForEvent("download"), enRow.locator('[data-action="download"]').click()]);
    expect(saved.suggestedFilename()).toBe(EN_PDF);
    await enRow.locator('[data-action="delete"]').click();
    await visible(page.locator("#confirm-dialog"));
    expect(await text(page.locator("#confirm-text"))).toContain(EN_PDF);
    await page.click("#confirm-ok");
    await poll(() => enRow.count()).toBe(0);
    expect(await page.locator(".doc .doc-name").allTextContents()).toEqual(["broken.pdf", FA_PDF]);

    // --- Log out: back to the login form, token gone.
    await page.click("#logout");
    await visible(page.locator("#login-view"));
    await hidden(page.locator("#app-view"));
    expect(await page.evaluate(() => sessionStorage.getItem("docuchat.token"))).toBeNull();
    lap("download_delete_logout");
  });

  test("cancel, an error frame with retry, deleting a chat", async () => {
    await signIn(`browser-faults-${Date.now()}@example.com`);
    await upload(EN_PDF, "ready", 30_000);

    // A slow model: the sources are in, the answer waits; Cancel stops it and the message says so.
    const slow = `slow-${Date.now()}`;
    await fault({ match: slow, endpoint: "chat", delay_ms: 5000 });
    await page.fill("#question", `${slow} how do I start a new section?`);
    await page.press("#question", "Enter");
    const cancelled = page.locator(".msg-assistant").last();
    await poll(() => cancelled.locator(".chip").count()).toBeGreaterThan(0);
    await visible(page.locator("#cancel"));
    await page.click("#cancel");
    await poll(() => text(cancelled.locator(".msg-meta"))).toMatch(/^Cancelled/);
    await visible(page.locator("#send"));
    expect(frames.filter((f) => f.type === "done").at(-1)!.status).toBe("cancelled");

    // A failing model: the error frame is shown with Retry, which asks again and gets an answer.
    const failing = `fail-${Date.now()}`;
    await fault({ match: failing, endpoint: "chat", status: 500, times: 5 });
    const question = `${failing} how do I start a new section?`;
    await page.fill("#question", question);
    await page.press("#question", "Enter");
    const failed = page.locator(".msg-assistant").last();
    await visible(failed.locator(".msg-error"), 20_000);
    expect(await text(failed.locator(".msg-error span"))).toBe("Error: The model failed (500) upstream_error");
    expect(await text(failed.locator(".msg-error button"))).toBe("Retry");
    await fetch(faults(), { method: "DELETE" });
    await failed.locator(".msg-error button").click();
    await poll(() => page.locator(".msg-assistant").count()).toBe(3);
    const retried = page.locator(".msg-assistant").last();
    await poll(() => text(retried.locator(".msg-meta")), 30_000).toMatch(/tokens$/);
    expect(await text(page.locator(".msg-user").last())).toBe(question);
    expect((await text(retried.locator(".msg-body"))).length).toBeGreaterThan(20);

    // Deleting the open chat empties the view and the sidebar.
    await poll(() => page.locator(".session").count()).toBe(1);
    await page.locator(".session.active .session-delete").click();
    await visible(page.locator("#confirm-dialog"));
    await page.click("#confirm-ok");
    await poll(() => page.locator(".session").count()).toBe(0);
    expect(await page.locator("#messages .msg").count()).toBe(0);
    await visible(page.locator("#sessions-empty"));
    await page.click("#logout");
    await visible(page.locator("#login-view"));
    lap("faults_test");
  });

  test("answers are Markdown: lists and code as HTML, a script payload inert, each paragraph in its own direction", async () => {
    await signIn(`browser-markdown-${Date.now()}@example.com`);
    await upload("en-1.chromium.pdf", "ready", 30_000);
    // A scripted model answer (the stand-in streams it about a word per delta): what a real model writes, plus what
    // a hostile document could make it repeat. [9] cites a source that was never sent.
    const mark = `md${Date.now()}`;
    const reply = [
      "To open the garden, follow these steps [1]:",
      "",
      "1. Unlock the **gate**.",
      "2. Check the `greenhouse` heaters [2].",
      "",
      "- Members over 65 pay *half price* [9].",
      "",
      "```sh",
      "echo '<b>not bold</b>' [1]",
      "```",
      "",
      '<img src="x" onerror="window.xss = 1"><script>window.xss = 2</script>',
      "[a trap](javascript:window.xss=3) and [the rules](https://example.com/rules)",
      "",
      "ساعت کار باغ از شش و نیم صبح است [1].",
    ].join("\n");
    await fault({ match: mark, endpoint: "chat", reply });
    const { answer, frames: answerFrames } = await ask(`${mark} When does the garden open?`);
    const body = answer.locator(".msg-body");
    const sent = (answerFrames.find((f) => f.type === "citations")!.citations as unknown[]).length;
    expect(sent).toBeGreaterThanOrEqual(2);

    // Lists, emphasis and code are elements, not asterisks and backticks.
    expect(await body.locator("ol > li").allTextContents()).toEqual(["Unlock the gate.", "Check the greenhouse heaters [2]."]);
    expect(await text(body.locator("ol strong"))).toBe("gate");
    expect(await text(body.locator("ol code"))).toBe("greenhouse");
    expect(await text(body.locator("ul > li"))).toBe("Members over 65 pay half price.");
    expect(await text(body.locator("ul em"))).toBe("half price");
    const code = body.locator("pre > code");
    expect(await code.textContent()).toBe("echo '<b>not bold</b>' [1]\n");
    expect(await code.locator("b").count()).toBe(0);
    expect(await direction(body.locator("pre"))).toBe("ltr");

    // The payload is shown as the text it is: no image requested, no script run, no javascript: link.
    expect(await body.locator("img, script, [onerror]").count()).toBe(0);
    expect(await text(body)).toContain('<img src="x" onerror="window.xss = 1"><script>window.xss = 2</script>');
    expect(await page.evaluate(() => (window as unknown as { xss?: number }).xss)).toBeUndefined();
    const links = body.locator("a");
    expect(await links.count()).toBe(2);
    expect(await links.first().getAttribute("href")).toBeNull();
    expect(await text(links.first())).toBe("a trap");
    await links.first().click();
    expect(await page.evaluate(() => (window as unknown as { xss?: number }).xss)).toBeUndefined();
    const rules = links.last();
    expect(await rules.getAttribute("href")).toBe("https://example.com/rules");
    expect(await rules.getAttribute("target")).toBe("_blank");
    expect(await rules.getAttribute("rel")).toBe("noopener noreferrer");

    // Each paragraph in its own direction: the English ones left to right, the Persian one right to left.
    const paragraphs = body.locator("p");
    expect(await direction(paragraphs.first())).toBe("ltr");
    const persian = paragraphs.last();
    expect(await text(persian)).toBe("ساعت کار باغ از شش و نیم صبح است [1].");
    expect(await direction(persian)).toBe("rtl");
    expect(await persian.getAttribute("lang")).toBe("fa");

    // The markers of sent citations are buttons (not inside code); [9] was dropped on the server.
    expect(await body.locator(".cite-ref").allTextContents()).toEqual(["[1]", "[2]", "[1]"]);
    expect(await text(body)).not.toContain("[9]");
    await persian.locator(".cite-ref").click();
    await poll(() => answer.locator(".cite-preview").getAttribute("data-n")).toBe("1");
    await page.click("#logout");
    await visible(page.locator("#login-view"));
    lap("markdown_answer");
  });

  test("admin view: invite, collection and its members, settings, API key, usage; the member sees the collection", async () => {
    // An organisation and its first owner, as an operator creates them (npm run tenant:create -- <id> --owner <email>).
    const tenant = `e2e-org-${Date.now().toString(36)}`;
    const ownerEmail = `owner-${Date.now()}@example.com`;
    const memberEmail = `member-${Date.now()}@example.com`;
    const postgresUrl = inject("postgresUrl");
    await createTenant(postgresUrl, tenant, "E2E Org");
    await ensureOwner(postgresUrl, tenant, ownerEmail);
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: apiUrl });

    await signIn(ownerEmail, tenant);
    const toggle = page.locator("#admin-toggle");
    await visible(toggle);
    await toggle.click();
    await visible(page.locator("#admin-view"));
    expect(await page.locator("#app-view").isHidden()).toBe(true);
    expect(await page.locator("#admin-tab-users").getAttribute("aria-selected")).toBe("true");
    const users = page.locator("#admin-panel-users");
    const userRow = (email: string) => users.locator("tbody tr", { hasText: email });
    await poll(() => text(userRow(ownerEmail).locator("td").first())).toBe(`${ownerEmail}you`);
    lap("admin_open");

    // --- Invite a member: listed as invited, with the role chosen.
    await page.fill("#invite-form input[type=email]", memberEmail);
    await page.click("#invite-form button[type=submit]");
    await poll(() => userRow(memberEmail).count()).toBe(1);
    expect(await text(userRow(memberEmail).locator(".badge"))).toBe("invited");
    expect(await userRow(memberEmail).locator(".role-select").inputValue()).toBe("member");
    // Searching by email narrows the list.
    await page.fill("#admin-panel-users input[type=search]", "member-");
    await poll(() => users.locator("tbody tr").count()).toBe(1);
    await page.fill("#admin-panel-users input[type=search]", "");
    await poll(() => users.locator("tbody tr").count()).toBe(2);

    // --- A members-only collection, and the member given write access to it.
    await page.click("#admin-tab-collections");
    await page.fill("#collection-form input >> nth=0", "Handbook");
    await page.selectOption("#collection-form select", "members");
    await page.click("#collection-form button[type=submit]");
    const collectionRow = page.locator("#admin-panel-collections tbody tr", { hasText: "Handbook" });
    await poll(() => collectionRow.count()).toBe(1);
    expect(await collectionRow.locator(".visibility-select").inputValue()).toBe("members");
    await collectionRow.locator('[data-action="members"]').click();
    const members = page.locator("#admin-panel-collections .members-row");
    await visible(members.locator(".member-user"));
    await members.locator(".member-user").selectOption({ label: memberEmail });
    await members.locator(".member-access").selectOption("write");
    await members.locator(".member-form button[type=submit]").click();
    await poll(() => text(members.locator(".members li").first())).toBe(`${memberEmail}can add documentsRemove`);
    mkdirSync(RESULTS, { recursive: true });
    await page.locator(".toast-close").evaluateAll((buttons) => {
      for (const b of buttons) (b as HTMLButtonElement).click();
    });
    await page.screenshot({ path: join(RESULTS, "admin-collections.png"), fullPage: true });
    lap("admin_invite_and_collection");

    // --- Settings: only invited people may join from now on; saved, and read back.
    await page.click("#admin-tab-settings");
    const policy = page.getByLabel("Sign-up policy");
    await visible(policy);
    expect(await policy.inputValue()).toBe("open");
    await policy.selectOption("invite");
    await page.click("#settings-form button[type=submit]");
    await poll(() => text(page.locator("#settings-form .row.end .muted"))).toBe("Set here: signup_policy");
    expect(await page.getByLabel("Sign-up policy").inputValue()).toBe("invite");

    // --- An API key: its secret shown once, copied with the button; then revoked.
    await page.click("#admin-tab-api-keys");
    await page.fill("#api-key-form input >> nth=0", "ingestion server");
    await page.click("#api-key-form button[type=submit]");
    const secret = page.locator("#admin-panel-api-keys .secret-value");
    await visible(secret);
    const key = await text(secret);
    expect(key).toMatch(/^dc_live_\S{20,}$/);
    await page.click("#admin-panel-api-keys .secret-copy");
    await poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(key);
    const keyRow = page.locator("#admin-panel-api-keys tbody tr", { hasText: "ingestion server" });
    expect(key.startsWith((await text(keyRow.locator("code"))).replace("…", ""))).toBe(true);
    await keyRow.locator('[data-action="revoke"]').click();
    await page.click("#confirm-ok");
    await poll(() => text(keyRow.locator(".badge"))).toBe("revoked");

    // --- Usage over the last 30 days, and its CSV.
    await page.click("#admin-tab-usage");
    await visible(page.locator("#admin-panel-usage .usage-totals"));
    const [csv] = await Promise.all([page.waitForEvent("download"), page.click("#usage-csv")]);
    expect(csv.suggestedFilename()).toMatch(/^usage-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv$/);

    // --- A webhook endpoint: its signing secret shown once; disabled (so nothing is sent), its empty log, deleted.
    await page.click("#admin-tab-webhooks");
    await page.getByLabel("HTTPS URL").fill("https://example.com/hooks/docuchat");
    await page.click("#webhook-form button[type=submit]");
    await poll(() => text(page.locator("#admin-panel-webhooks .secret-value"))).toMatch(/^whsec_\S+$/);
    const hookRow = page.locator("#admin-panel-webhooks tbody tr", { hasText: "https://example.com/hooks/docuchat" });
    expect(await text(hookRow.locator("td").nth(1))).toBe("document.ready, document.failed, document.deleted");
    const enabled = hookRow.locator("input[type=checkbox]");
    await enabled.uncheck();
    await poll(() => page.locator("#admin-panel-webhooks tbody tr input[type=checkbox]").isChecked()).toBe(false);
    await hookRow.locator("button", { hasText: "Deliveries" }).click();
    await poll(() => text(page.locator("#admin-panel-webhooks .members-row"))).toBe("Nothing delivered yet.");
    await hookRow.locator("button", { hasText: "Delete" }).click();
    await page.click("#confirm-ok");
    await visible(page.locator("#admin-panel-webhooks .empty"));
    lap("admin_settings_keys_usage_webhooks");

    // --- Back in the workspace, the owner uploads a PDF into the collection.
    await toggle.click();
    await visible(page.locator("#app-view"));
    await visible(page.locator("#doc-controls"));
    await page.selectOption("#upload-target", { label: "Handbook" });
    await upload(EN_PDF, "ready", 30_000);
    expect(await text(docRow(EN_PDF).locator(".doc-meta"))).toMatch(/^In “Handbook” · 328 KB · 9 pages/);
    await page.click("#logout");
    await visible(page.locator("#login-view"));
    lap("admin_upload_to_collection");

    // --- The member: no admin view; the collection beside their (no) own documents; a chat limited to it.
    await signIn(memberEmail, tenant);
    await visible(page.locator("#doc-controls"));
    expect(await toggle.isHidden()).toBe(true);
    const row = docRow(EN_PDF);
    await poll(() => row.count()).toBe(1);
    expect(await text(row.locator(".doc-meta"))).toMatch(/^In “Handbook” · /);
    await page.selectOption("#doc-filter", "private");
    await poll(() => row.count()).toBe(0);
    await visible(page.locator("#docs-empty"));
    await page.selectOption("#doc-filter", { label: "Handbook" });
    await poll(() => row.count()).toBe(1);
    await page.selectOption("#chat-collection", { label: "Handbook" });
    const collectionId = await page.inputValue("#chat-collection");
    const sentBefore = sentFrames.length;
    const answer = await ask("How do I start a new section?");
    expect(sentFrames.slice(sentBefore).find((f) => f.type === "message")).toMatchObject({ collection_ids: [collectionId] });
    await page.screenshot({ path: join(RESULTS, "member-collection.png"), fullPage: true });
    const chip = await text(answer.answer.locator(".chip").first());
    expect(chip).toMatch(new RegExp(`^\\[\\d+\\] ${EN_PDF.replace(/\./g, "\\.")} p\\. \\d+(–\\d+)? · Handbook$`));
    await page.click("#logout");
    await visible(page.locator("#login-view"));
    lap("member_sees_collection");
  });
});
