// Bad uploads are refused with a clear code; bad PDFs end as `failed` with a machine-readable error_code.

import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectErrorShape, fixturePdf, json, login, uniqueIp, upload, waitForIngestion } from "../support/api.ts";
import { makeBlankPagesPdf, makeEncryptedPdf, makeImageOnlyPdf, makeTextPdf, truncate } from "../support/pdf-factory.ts";

describe("upload refusals", () => {
  it("refuses content that is not a PDF, whatever its name and type (415)", async () => {
    const { token } = await login();
    const res = await upload(token, "<html>definitely not a pdf</html>", "report.pdf");
    expect(res.status).toBe(415);
    expectErrorShape(await json(res), "unsupported_media_type");
  });

  it("refuses an empty file (400 empty_file)", async () => {
    const { token } = await login();
    const res = await upload(token, new Uint8Array(0), "empty.pdf");
    expect(res.status).toBe(400);
    expectErrorShape(await json(res), "empty_file");
  });

  it("refuses a request without the file field (400 naming 'file')", async () => {
    const { token } = await login();
    const res = await upload(token, fixturePdf("first-latex-doc-en.pdf"), "x.pdf", { field: "document" });
    expect(res.status).toBe(400);
    const body = await json(res);
    expectErrorShape(body, "validation_failed");
    expect(body.error.message).toContain("file");
  });

  it("refuses a 'file' field that is text, not a file (400 file_required)", async () => {
    const { token } = await login();
    const form = new FormData();
    form.append("file", "%PDF-1.4 pretending");
    const res = await call("/v1/files", { token, body: form });
    expect(res.status).toBe(400);
    expectErrorShape(await json(res), "file_required");
  });

  it("refuses a JSON body (415)", async () => {
    const { token } = await login();
    const res = await call("/v1/files", { token, body: { file: "JVBERi0=" } });
    expect(res.status).toBe(415);
  });

  it("refuses a file over 25 MiB with 413, streaming, without storing anything", async () => {
    const { token } = await login();
    const big = new Uint8Array(25 * 1024 * 1024 + 1);
    big.set(new TextEncoder().encode("%PDF-1.7\n"));
    const res = await upload(token, big, "huge.pdf");
    expect(res.status).toBe(413);
    expectErrorShape(await json(res), "file_too_large");
    expect((await json(await call("/v1/files", { token }))).files).toEqual([]);
  });

  it("stops reading an endless streamed body at the limit (413)", async () => {
    const { token } = await login();
    const stream = new ReadableStream({
      pull(controller) {
        controller.enqueue(new Uint8Array(1024 * 1024)); // would go on forever
      },
    });
    const res = await exports.default.fetch(
      new Request("http://docuchat.test/v1/files", {
        method: "POST",
        headers: {
          "X-Tenant-ID": "acme",
          Authorization: `Bearer ${token}`,
          "CF-Connecting-IP": uniqueIp(),
          "Content-Type": "multipart/form-data; boundary=x",
        },
        body: stream,
        duplex: "half",
      } as RequestInit),
    );
    expect(res.status).toBe(413);
  });
});

describe("PDFs that cannot be ingested", () => {
  it.each([
    ["an encrypted PDF", () => makeEncryptedPdf(), "encrypted"],
    ["a truncated PDF", () => truncate(fixturePdf("first-latex-doc-en.pdf"), 4000), "invalid_pdf"],
    ["garbage after the PDF header", () => new TextEncoder().encode(`%PDF-1.4\n${"garbage ".repeat(200)}${crypto.randomUUID()}`), "invalid_pdf"],
    ["a PDF of 501 pages", () => makeBlankPagesPdf(501), "too_many_pages"],
    ["an image-only PDF", () => makeImageOnlyPdf(), "no_text"],
  ])("ends %s as failed with error_code %s", async (_label, make, code) => {
    const { token } = await login();
    const res = await upload(token, make(), "bad.pdf");
    expect(res.status).toBe(202);
    const { doc } = await waitForIngestion(token, (await json(res)).id);
    expect(doc.status).toBe("failed");
    expect(doc.error.code).toBe(code);
    expect(doc.error.message.length).toBeGreaterThan(10);
    expect(doc.chunk_count ?? 0).toBe(0);
  });

  it("accepts exactly 500 pages", async () => {
    const { token } = await login();
    const { doc } = await waitForIngestion(token, (await json(await upload(token, makeBlankPagesPdf(500), "500.pdf"))).id);
    expect(doc).toMatchObject({ status: "ready", page_count: 500 });
  });

  it("does not let a failed document break the others", async () => {
    const { token } = await login();
    const bad = await json(await upload(token, makeEncryptedPdf(), "locked.pdf"));
    const good = await json(await upload(token, makeTextPdf(["Solar panels convert sunlight into electricity."]), "good.pdf"));
    expect((await waitForIngestion(token, bad.id)).doc.status).toBe("failed");
    expect((await waitForIngestion(token, good.id)).doc.status).toBe("ready");
  });
});

describe("request validation", () => {
  it.each([
    [{ query: "" }, "empty query"],
    [{ query: "x", top_k: 0 }, "top_k 0"],
    [{ query: "x", top_k: 51 }, "top_k 51"],
    [{ query: "x", file_ids: ["not-a-uuid"] }, "bad file id"],
    [{ query: "x".repeat(2001) }, "query too long"],
  ])("search refuses %j (%s) with 400", async (body, _label) => {
    const { token } = await login();
    const res = await call("/v1/search", { token, body });
    expect(res.status).toBe(400);
    expectErrorShape(await json(res), "validation_failed");
  });

  it("refuses a forged cursor and a malformed id", async () => {
    const { token } = await login();
    expectErrorShape(await json(await call("/v1/files?cursor=bogus", { token })), "invalid_cursor");
    expect((await call("/v1/files/not-a-uuid", { token })).status).toBe(400);
    expect((await call(`/v1/files/${crypto.randomUUID()}`, { token })).status).toBe(404);
  });
});
