// The demo page (public/app/) in headless Chromium against the whole local stack: login with the dev code, upload
// with progress, ingestion to ready, a streamed English answer with citations that open the PDF, a Persian question
// laid out right to left, the sessions sidebar, usage, deletion and log-out. Any browser console error fails it.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, type CDPSession, chromium, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";

const FIXTURES = join(import.meta.dirname, "../../../shared/fixtures/pdf");
const RESULTS = join(import.meta.dirname, "../../test-results");
const EN_PDF = "first-latex-doc-en.pdf";
const FA_PDF = "lshort-fa.pdf";
const CHIP = (file: string) => new RegExp(`^\\[\\d+\\] ${file.replace(/\./g, "\\.")} p\\. \\d+(–\\d+)?$`);

/** vitest's expect.poll, with room for a browser (its default gives up after 1 s). */
const poll = <T>(fn: () => T | Promise<T>, timeout = 10_000) => expect.poll(fn, { timeout, interval: 50 });
const visible = (l: Locator, timeout = 10_000) => l.waitFor({ state: "visible", timeout });
const hidden = (l: Locator, timeout = 10_000) => l.waitFor({ state: "hidden", timeout });
const text = (l: Locator) => l.textContent().then((t) => (t ?? "").replace(/\s+/g, " ").trim());

interface Frame {
  type: string;
  [k: string]: unknown;
}

describe("demo page in Chromium", () => {
  const apiUrl = inject("apiUrl");
  const email = `browser-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let cdp: CDPSession | undefined;
  const consoleErrors: string[] = [];
  /** Console errors a step provokes on purpose (Chrome logs every 4xx response): each must show up exactly once. */
  const expectedErrors: RegExp[] = [];
  /** Frames the page received on its chat sockets, in order, and the sockets' URLs. */
  const frames: Frame[] = [];
  const socketUrls: string[] = [];
  const timings: Record<string, number> = {};
  let mark = Date.now();
  const lap = (name: string) => {
    timings[name] = Date.now() - mark;
    mark = Date.now();
  };

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"],
    });
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
    });
  });

  afterAll(async () => {
    console.log(`browser e2e timings (ms): ${JSON.stringify(timings)}`);
    await browser?.close();
  });

  /** Waits until the upload of `file` is a ready row in the list; returns every status the row showed. */
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

  type UploadFile = string | { name: string; mimeType: string; buffer: Buffer };

  /** Uploads `file` and waits until its row reaches `final`; returns every status the row showed. */
  async function upload(file: UploadFile, final: "ready" | "failed", timeout: number, throttled = false): Promise<string[]> {
    const name = typeof file === "string" ? file : file.name;
    if (throttled) await throttle(true);
    // Record each status the row passes through (queued → processing → ready), however briefly it shows.
    await page.evaluate((name) => {
      const seen: string[] = [];
      (window as unknown as Record<string, string[]>)[`statuses:${name}`] = seen;
      const list = document.getElementById("doc-list")!;
      const record = () => {
        for (const row of list.querySelectorAll<HTMLElement>(".doc")) {
          if (row.querySelector(".doc-name")?.textContent !== name) continue;
          const status = row.querySelector(".badge")?.textContent ?? "";
          if (seen.at(-1) !== status) seen.push(status);
        }
      };
      new MutationObserver(record).observe(list, { subtree: true, childList: true, characterData: true, attributes: true });
    }, name);
    // And what the upload's own progress line says while the bytes go up.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { uploadTexts: string[] }).uploadTexts = seen;
      const uploads = document.getElementById("uploads")!;
      new MutationObserver(() => {
        const line = uploads.querySelector(".upload-text")?.textContent;
        const bar = uploads.querySelector("progress");
        if (line && seen.at(-1) !== line) seen.push(`${line} | ${bar ? bar.position.toFixed(2) : "-"}`);
      }).observe(uploads, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    const uploadRequest = page.waitForResponse((r) => r.url().endsWith("/v1/files") && r.request().method() === "POST");
    await page.setInputFiles("#file-input", typeof file === "string" ? join(FIXTURES, file) : file);
    const response = await uploadRequest;
    expect(response.status()).toBe(202);
    if (throttled) {
      await throttle(false);
      // Slowed down, the progress bar went through intermediate values before the server answered.
      const lines = await page.evaluate(() => (window as unknown as { uploadTexts: string[] }).uploadTexts);
      const partial = lines.filter((l) => /^Uploading… ([1-9]\d?) % of [\d.]+ KB \| 0\.\d\d$/.test(l));
      expect(partial.length, lines.join("\n")).toBeGreaterThan(0);
    }
    const row = page.locator(".doc", { has: page.locator(".doc-name", { hasText: name }) });
    await poll(() => text(row.locator(".badge")), timeout).toBe(final);
    expect(await row.locator(".doc-progress").isHidden()).toBe(true);
    return page.evaluate((n) => (window as unknown as Record<string, string[]>)[`statuses:${n}`]!, name);
  }

  /** Sends a question with Enter and waits for its answer to be finished; returns the answer's locator. */
  async function ask(question: string) {
    const before = await page.locator(".msg-assistant").count();
    const framesBefore = frames.length;
    // The Cancel button replaces Send while the answer streams (briefly: the stand-in answers in ~100 ms).
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
    await poll(() => text(answer.locator(".msg-meta")), 30_000).toMatch(/tokens/);
    expect(await answer.locator(".msg-body").getAttribute("class")).not.toMatch(/streaming/);
    await visible(page.locator("#send"));
    expect(await page.evaluate(() => (window as unknown as { cancelShown: boolean }).cancelShown)).toBe(true);
    expect(await page.inputValue("#question")).toBe("");
    return { answer, frames: frames.slice(framesBefore) };
  }

  test("login, upload, chat with citations, Persian, sessions", async () => {
    // --- Login with the development code.
    await page.goto(`${apiUrl}/app/`);
    await visible(page.locator("#login-title"));
    expect(await text(page.locator("#login-title"))).toBe("Sign in");
    expect(await page.inputValue("#tenant")).toBe("demo");
    await page.fill("#email", email);
    await page.click("#send-code");
    await visible(page.locator("#dev-code"));
    const devCode = (await page.textContent("#dev-code-value"))!;
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
    lap("login");

    // --- Upload the English PDF: upload progress, then ingestion to ready.
    const statuses = await upload(EN_PDF, "ready", 30_000, true);
    expect(statuses.at(-1)).toBe("ready");
    expect(statuses[0]).toMatch(/^(queued|processing)$/);
    const enRow = page.locator(".doc", { has: page.locator(".doc-name", { hasText: EN_PDF }) });
    expect(await text(enRow.locator(".doc-meta"))).toContain("9 pages");
    expect(await text(enRow.locator(".doc-meta"))).toMatch(/\d+ chunks/);
    expect(await page.locator("#uploads .upload").count()).toBe(0);
    lap("upload_en_to_ready");

    // --- An English question: citations first, then streamed deltas, then done.
    const en = await ask("How do I start a new section?");
    // The socket opens with the first question: the session frame, then citations, deltas and done.
    expect(en.frames[0]!.type).toBe("session");
    const types = en.frames.map((f) => f.type).filter((t) => t !== "session" && t !== "pong");
    expect(types[0]).toBe("citations");
    expect(types.filter((t) => t === "delta").length).toBeGreaterThan(1);
    expect(types.at(-1)).toBe("done");
    const enText = (await en.answer.locator(".msg-body").textContent())!;
    expect(enText.length).toBeGreaterThan(20);
    const deltas = en.frames.filter((f) => f.type === "delta").map((f) => f.content as string).join("");
    // What was streamed is what is shown (the [n] markers stay as text in their buttons).
    expect(enText.replace(/\s+/g, " ").trim()).toBe(deltas.replace(/\s+/g, " ").trim());
    const chips = en.answer.locator(".chip");
    expect(await chips.count()).toBeGreaterThan(0);
    const chipText = (await chips.first().textContent())!.replace(/\s+/g, " ").trim();
    expect(chipText).toMatch(CHIP(EN_PDF));
    expect(await page.locator(".msg-user").first().evaluate((el) => getComputedStyle(el).direction)).toBe("ltr");
    expect(await en.answer.evaluate((el) => getComputedStyle(el).direction)).toBe("ltr");
    lap("ask_en");

    // --- A citation chip opens the PDF (fetched with the token) in a new tab at its page.
    const page1 = Number(/p\. (\d+)/.exec(chipText)![1]);
    const [popup, download] = await Promise.all([
      context.waitForEvent("page"),
      page.waitForResponse((r) => /\/v1\/files\/[0-9a-f-]+\/download$/.test(r.url())),
      chips.first().click(),
    ]);
    expect(download.status()).toBe(200);
    expect(download.headers()["content-type"]).toBe("application/pdf");
    await popup.waitForURL((u) => u.protocol === "blob:", { timeout: 10_000 });
    expect(popup.url()).toMatch(new RegExp(`^blob:${apiUrl.replace(/[.]/g, "\\.")}/[0-9a-f-]+#page=${page1}$`));
    await popup.close();
    // The [n] markers in the answer are buttons too (the PDF is cached: no second download).
    const marker = en.answer.locator(".cite-ref").first();
    if ((await marker.count()) > 0) {
      const n = Number((await marker.textContent())!.replace(/\D/g, ""));
      const cited = (en.frames.find((f) => f.type === "citations")!.citations as { n: number; page_start: number }[]).find((c) => c.n === n)!;
      const [popup2] = await Promise.all([context.waitForEvent("page"), marker.click()]);
      await popup2.waitForURL((u) => u.protocol === "blob:", { timeout: 10_000 });
      expect(popup2.url()).toMatch(new RegExp(`#page=${cited.page_start}$`));
      await popup2.close();
    }
    lap("open_citations");

    // --- The Persian manual, then a Persian question: right to left.
    const faStatuses = await upload(FA_PDF, "ready", 60_000);
    expect(faStatuses.at(-1)).toBe("ready");
    const faRow = page.locator(".doc", { has: page.locator(".doc-name", { hasText: FA_PDF }) });
    expect(await text(faRow.locator(".doc-meta"))).toContain("147 pages");
    // A file that starts like a PDF but is not one: accepted, then failed with its reason in the list.
    const broken = await upload({ name: "broken.pdf", mimeType: "application/pdf", buffer: Buffer.from("%PDF-1.4\nnot really a PDF\n") }, "failed", 30_000);
    expect(broken.at(-1)).toBe("failed");
    const brokenRow = page.locator(".doc", { has: page.locator(".doc-name", { hasText: "broken.pdf" }) });
    expect(await text(brokenRow.locator(".doc-error"))).toMatch(/could not be read as a PDF.*\(invalid_pdf\)$/);
    expect(await brokenRow.locator(".doc-pick").isDisabled()).toBe(true);
    expect(await faRow.locator(".doc-pick").isDisabled()).toBe(false);
    // Newest first.
    expect(await page.locator(".doc .doc-name").allTextContents()).toEqual(["broken.pdf", FA_PDF, EN_PDF]);
    lap("upload_fa_and_broken");

    const fa = await ask("چگونه در لاتک یک بخش جدید شروع کنم؟");
    const faUser = page.locator(".msg-user").last();
    expect(await faUser.evaluate((el) => getComputedStyle(el).direction)).toBe("rtl");
    expect(await faUser.getAttribute("lang")).toBe("fa");
    const faText = (await fa.answer.locator(".msg-body").textContent())!;
    expect(faText).toMatch(/[\u0600-\u06ff]{3}/);
    expect(await fa.answer.evaluate((el) => getComputedStyle(el).direction)).toBe("rtl");
    const faChips = (await fa.answer.locator(".chip").allTextContents()).map((t) => t.replace(/\s+/g, " ").trim());
    expect(faChips.some((t) => CHIP(FA_PDF).test(t))).toBe(true);
    lap("ask_fa");

    // --- Usage: tokens in the last 24 h against the daily budget.
    await poll(() => text(page.locator("#usage-text"))).toMatch(/^\d+(\.\d)?K? \/ 500K$/);
    expect(await page.textContent("#usage-text")).not.toMatch(/^0 \//);

    // --- Sessions: the chat is listed under its first question; reopening it restores the history.
    const session = page.locator(".session", { hasText: "How do I start a new section?" });
    await poll(() => session.count()).toBe(1);
    await poll(() => session.getAttribute("class")).toMatch(/active/);
    await page.click("#new-chat");
    expect(await page.locator("#messages .msg").count()).toBe(0);
    await visible(page.locator("#empty-chat"));
    const sessionId = (await session.getAttribute("data-id"))!;
    const socketsBefore = socketUrls.length;
    await session.locator(".session-open").click();
    await poll(() => page.locator("#messages .msg").count()).toBe(4);
    expect(await text(page.locator(".msg-user").first())).toBe("How do I start a new section?");
    expect(await text(page.locator(".msg-assistant").first().locator(".chip").first())).toMatch(CHIP(EN_PDF));
    expect(await page.locator(".msg-assistant").last().evaluate((el) => getComputedStyle(el).direction)).toBe("rtl");
    await poll(() => socketUrls.slice(socketsBefore).some((u) => u.includes(`session_id=${sessionId}`))).toBe(true);
    lap("reopen_session");

    // --- The screenshot: both documents ready, both answers with their sources.
    mkdirSync(RESULTS, { recursive: true });
    await page.locator(".toast-close").evaluateAll((buttons) => buttons.forEach((b) => (b as HTMLButtonElement).click()));
    await page.evaluate(() => document.fonts.ready);
    await page.screenshot({ path: join(RESULTS, "demo.png"), fullPage: true });

    // --- Delete a document through the confirm dialog.
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
    lap("delete_and_logout");

    const unexpected = consoleErrors.filter((e) => !expectedErrors.some((re) => re.test(e)));
    expect(unexpected).toEqual([]);
    for (const re of expectedErrors) expect(consoleErrors.filter((e) => re.test(e))).toHaveLength(1);
  });
});
