// API keys, the security properties: scopes, collection restrictions, revocation and expiry, tenants, the admin
// routes (refused to keys and members), rate limits of their own, and secrets that are never stored or shown.
import { beforeAll, describe, expect, it } from "vitest";
import { call, earlyInRateWindow, json, login, search, upload, waitForIngestion } from "../support/api.ts";
import { type CreatedKey, createKey, insertCollection, revokeKey } from "../support/api-keys.ts";
import { ChatClient } from "../support/chat.ts";
import { sql } from "../support/db.ts";
import { createOrg, type LoggedIn } from "../support/org.ts";
import { makeTextPdf } from "../support/pdf-factory.ts";

const FACTS = {
  alpha: "The Quillon reservoir holds eleven million litres of water.",
  beta: "The Quillon observatory telescope has a mirror of four metres.",
  private: "The Quillon bakery opens at six in the morning.",
};

let tenant: string;
let owner: LoggedIn;
let member: LoggedIn;
let alpha: string;
let beta: string;
const docs = {} as Record<keyof typeof FACTS, string>;

async function ownerDocument(name: keyof typeof FACTS, collectionId: string | null) {
  const pdf = makeTextPdf([FACTS[name]]);
  const res = collectionId
    ? await upload(owner.token, pdf, `${name}.pdf`, { tenant: tenant, collectionId: collectionId })
    : await upload(owner.token, pdf, `${name}.pdf`, { tenant });
  expect(res.status).toBe(202);
  const { id } = await json(res);
  expect((await waitForIngestion(owner.token, id, { tenant })).doc.status).toBe("ready");
  docs[name] = id;
}

beforeAll(async () => {
  const org = await createOrg();
  ({ tenant, owner } = org);
  member = await org.user("member");
  alpha = await insertCollection(tenant, "alpha");
  beta = await insertCollection(tenant, "beta");
  await Promise.all([ownerDocument("alpha", alpha), ownerDocument("beta", beta), ownerDocument("private", null)]);
});

const errorCode = async (res: Response) => (await json(res)).error.code;

describe("a read-only key", () => {
  let reader: CreatedKey;
  beforeAll(async () => {
    reader = await createKey(tenant, owner.token, { scope: "read" });
  });

  it("reads the tenant's collections", async () => {
    expect((await call(`/v1/files/${docs.alpha}`, { tenant, token: reader.key })).status).toBe(200);
  });

  it.each([
    ["upload", () => upload(reader.key, makeTextPdf(["anything"]), "x.pdf", { tenant })],
    ["delete", () => call(`/v1/files/${docs.alpha}`, { method: "DELETE", tenant, token: reader.key })],
    ["retry", () => call(`/v1/files/${docs.alpha}/retry`, { method: "POST", tenant, token: reader.key })],
  ])("is refused %s with 403 insufficient_scope", async (_label, send) => {
    const res = await send();
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe("insufficient_scope");
    expect((await call(`/v1/files/${docs.alpha}`, { tenant, token: owner.token })).status).toBe(200);
  });
});

describe("a key restricted to one collection", () => {
  let restricted: CreatedKey;
  beforeAll(async () => {
    restricted = await createKey(tenant, owner.token, { scope: "write", collection_ids: [alpha] });
  });

  it("lists only that collection's documents", async () => {
    const files = (await json(await call("/v1/files", { tenant, token: restricted.key }))).files;
    expect(files.map((f: { id: string }) => f.id)).toEqual([docs.alpha]);
  });

  it("gets 404 file_not_found for any other document, its creator's private ones included", async () => {
    for (const id of [docs.beta, docs.private]) {
      const res = await call(`/v1/files/${id}`, { tenant, token: restricted.key });
      expect(res.status).toBe(404);
      expect(await errorCode(res)).toBe("file_not_found");
    }
  });

  it("finds only that collection's documents, even when asking for others", async () => {
    const hits = await search(restricted.key, { query: "Quillon reservoir observatory bakery" }, tenant);
    expect(new Set(hits.map((h) => h.file_id))).toEqual(new Set([docs.alpha]));
    expect(await search(restricted.key, { query: "Quillon observatory telescope", collection_ids: [beta] }, tenant)).toEqual([]);
    expect(await search(restricted.key, { query: "Quillon bakery", file_ids: [docs.private] }, tenant)).toEqual([]);
  });

  it("cites only that collection in chat", async () => {
    const chat = await ChatClient.open({ token: restricted.key, tenant });
    try {
      const answer = await chat.ask("What does Quillon have: a reservoir, an observatory or a bakery?");
      expect(answer.error).toBeNull();
      expect(new Set(answer.citations!.map((c) => c.file_id))).toEqual(new Set([docs.alpha]));
    } finally {
      chat.close();
    }
  });

  it("uploads into that collection only, and never privately", async () => {
    const pdf = () => makeTextPdf([`Quillon inventory ${crypto.randomUUID()}`]);
    const added = await upload(restricted.key, pdf(), "inventory.pdf", { tenant: tenant, collectionId: alpha });
    expect(added.status).toBe(202);
    expect((await waitForIngestion(restricted.key, (await json(added)).id, { tenant })).doc.status).toBe("ready");
    const elsewhere = await upload(restricted.key, pdf(), "inventory.pdf", { tenant: tenant, collectionId: beta });
    expect(elsewhere.status).toBe(404);
    expect(await errorCode(elsewhere)).toBe("collection_not_found");
    const privately = await upload(restricted.key, pdf(), "inventory.pdf", { tenant });
    expect(privately.status).toBe(403);
    expect(await errorCode(privately)).toBe("forbidden");
  });
});

describe("a revoked key", () => {
  it("is refused with 401 from its next request, and its open chat socket stops at its next message", async () => {
    const k = await createKey(tenant, owner.token, { scope: "read" });
    expect((await call("/v1/files", { tenant, token: k.key })).status).toBe(200);
    const chat = await ChatClient.open({ token: k.key, tenant });
    try {
      expect(await revokeKey(tenant, owner.token, k.id)).toBe(204);
      const res = await call("/v1/files", { tenant, token: k.key });
      expect(res.status).toBe(401);
      expect((await json(res)).error).toMatchObject({ code: "unauthorized", message: "The API key is invalid, expired or revoked" });
      chat.message("What does the Quillon reservoir hold?");
      expect(await chat.next("error")).toMatchObject({ code: "unauthorized" });
      expect((await chat.waitClosed()).code).toBe(4003);
    } finally {
      chat.close();
    }
  });

  it("cannot open a chat socket", async () => {
    const k = await createKey(tenant, owner.token, { scope: "read" });
    expect(await revokeKey(tenant, owner.token, k.id)).toBe(204);
    await expect(ChatClient.open({ token: k.key, tenant })).rejects.toThrow(/upgrade answered 401/);
  });
});

describe("an expired key", () => {
  it("works until expires_at, then is refused with the same 401", async () => {
    const k = await createKey(tenant, owner.token, { scope: "read", expires_at: new Date(Date.now() + 2_000).toISOString() });
    expect((await call("/v1/files", { tenant, token: k.key })).status).toBe(200);
    await new Promise((r) => setTimeout(r, Date.parse(k.expires_at!) - Date.now() + 50));
    const res = await call("/v1/files", { tenant, token: k.key });
    expect(res.status).toBe(401);
    expect((await json(res)).error.message).toBe("The API key is invalid, expired or revoked");
  });
});

describe("keys that are not ours", () => {
  it.each([
    ["unknown", `dc_live_${"A".repeat(43)}`],
    ["malformed", "dc_live_short"],
  ])("an %s key is refused with the same 401", async (_label, token) => {
    const res = await call("/v1/files", { tenant, token });
    expect(res.status).toBe(401);
    expect((await json(res)).error).toMatchObject({ code: "unauthorized", message: "The API key is invalid, expired or revoked" });
  });

  it("a key of another tenant is refused with 403 tenant_mismatch", async () => {
    const other = await createOrg();
    const theirs = await createKey(other.tenant, other.owner.token, { scope: "write" });
    const res = await call("/v1/files", { tenant, token: theirs.key });
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe("tenant_mismatch");
  });

  it("an admin cannot see or revoke another tenant's key (404)", async () => {
    const other = await createOrg();
    const theirs = await createKey(other.tenant, other.owner.token, { scope: "write" });
    const listed = (await json(await call("/v1/admin/api-keys?limit=100", { tenant, token: owner.token }))).api_keys;
    expect(listed.map((k: CreatedKey) => k.id)).not.toContain(theirs.id);
    const res = await call(`/v1/admin/api-keys/${theirs.id}`, { method: "DELETE", tenant, token: owner.token });
    expect(res.status).toBe(404);
    expect((await call("/v1/files", { tenant: other.tenant, token: theirs.key })).status).toBe(200);
  });
});

describe("the admin routes", () => {
  const routes = (id: string) =>
    [
      ["POST", "/v1/admin/api-keys", { name: "k", scope: "read" }],
      ["GET", "/v1/admin/api-keys", undefined],
      ["DELETE", `/v1/admin/api-keys/${id}`, undefined],
    ] as const;

  it("are refused to members and to keys, even a read-write one, with 403 forbidden", async () => {
    const target = await createKey(tenant, owner.token, { scope: "read" });
    const writer = await createKey(tenant, owner.token, { scope: "write" });
    for (const token of [member.token, writer.key])
      for (const [method, path, body] of routes(target.id)) {
        const res = await call(path, { method, tenant, token, body });
        expect(res.status, `${method} ${path}`).toBe(403);
        expect(await errorCode(res)).toBe("forbidden");
      }
    expect((await call("/v1/files", { tenant, token: target.key })).status).toBe(200);
  });

  it("are open to admins and owners", async () => {
    const admin = await createOrg().then(async (org) => ({ org, admin: await org.user("admin") }));
    for (const token of [admin.admin.token, admin.org.owner.token]) {
      const made = await createKey(admin.org.tenant, token, { scope: "read" });
      expect((await call("/v1/admin/api-keys", { tenant: admin.org.tenant, token })).status).toBe(200);
      expect(await revokeKey(admin.org.tenant, token, made.id)).toBe(204);
    }
  });
});

describe("a key's identity", () => {
  it("has a rate limit of its own: its requests do not spend its creator's", async () => {
    await earlyInRateWindow();
    const org = await createOrg();
    const remaining = async (token: string) => Number((await call("/v1/files", { tenant: org.tenant, token })).headers.get("RateLimit-Remaining"));
    const before = await remaining(org.owner.token);
    const k = await createKey(org.tenant, org.owner.token, { scope: "read" });
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) seen.push(await remaining(k.key));
    expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => seen[0]! - i));
    expect(seen[0]).toBe(before);
    // The owner spent one request creating the key and one asking now.
    expect(await remaining(org.owner.token)).toBe(before - 2);
  });

  it("cannot be logged into by email", async () => {
    const k = await createKey(tenant, owner.token, { scope: "write" });
    const [{ email }] = (await sql().query("select u.email from api_keys k join users u on u.id = k.user_id where k.id = $1", [k.id])) as [
      { email: string },
    ];
    const jwt = await login(email, tenant).then(
      (session) => session.token,
      () => null,
    );
    if (jwt) expect((await call("/v1/files", { tenant, token: jwt })).status).toBe(401);
  });
});

describe("the secret", () => {
  it("is stored only as its SHA-256, and never in the audit log", async () => {
    const k = await createKey(tenant, owner.token, { scope: "read" });
    const [row] = (await sql().query("select * from api_keys where id = $1", [k.id])) as [{ hash: string }];
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(k.key)));
    expect(row.hash).toBe(Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""));
    const secretPart = k.key.slice(k.prefix.length);
    expect(JSON.stringify(row)).not.toContain(secretPart);
    const audits = await sql().query("select * from audit_log where tenant_id = $1", [tenant]);
    expect(audits.length).toBeGreaterThan(0);
    expect(JSON.stringify(audits)).not.toContain(secretPart);
  });
});
