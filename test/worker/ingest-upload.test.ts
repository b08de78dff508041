// The upload path's own failures and inputs: no R2 object outlives a failed insert, and a file name cannot
// disguise itself with bidi controls.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, json, login, upload, waitForIngestion } from "../support/api.ts";
import { sql } from "../support/db.ts";
import { makeTextPdf } from "../support/pdf-factory.ts";

const objectsOf = async (userId: string) => (await env.DOCUMENTS.list({ prefix: `tenants/acme/users/${userId}/` })).objects;

describe("upload", () => {
  it("leaves no R2 object behind when the document row cannot be inserted", async () => {
    const { token, user } = await login();
    // A request first, so the isolate's principal cache knows the user; then the user is removed, as an admin
    // would, between the authentication of the upload and its insert: the row's foreign key fails.
    expect((await call("/v1/me", { token })).status).toBe(200);
    await sql().query("delete from users where tenant_id = 'acme' and id = $1", [user.id]);

    const res = await upload(token, makeTextPdf(["The user of this upload no longer exists."]), "orphan.pdf");
    expect(res.status).not.toBe(202);
    expect(await objectsOf(user.id)).toEqual([]);
  });

  it("strips bidi controls from file names, so a name cannot display as another extension", async () => {
    const { token } = await login();
    // U+202E reverses what follows: "invoice\u202Egpj.pdf" displays as "invoicefdp.jpg".
    const spoofed = await json(await upload(token, makeTextPdf(["An invoice."]), "invoice\u202Egpj.pdf"));
    expect(spoofed.filename).toBe("invoicegpj.pdf");
    const every = await json(
      await upload(token, makeTextPdf(["Every control."]), "a\u061Cb\u200Ec\u200Fd\u202Ae\u202Bf\u202Cg\u202Dh\u2066i\u2067j\u2068k\u2069.pdf"),
    );
    expect(every.filename).toBe("abcdefghijk.pdf");
    expect((await waitForIngestion(token, every.id)).doc.filename).toBe("abcdefghijk.pdf");
  });

  it("keeps the ZWNJ of a Persian file name", async () => {
    const { token } = await login();
    const name = "گزارش\u200Cهای سالانه.pdf";
    const doc = await json(await upload(token, makeTextPdf(["A yearly report."]), name));
    expect(doc.filename).toBe(name);
    const download = await call(`/v1/files/${doc.id}/download`, { token });
    expect(download.headers.get("Content-Disposition")).toContain(encodeURIComponent(name));
  });
});
