// The right to erasure: DELETE /v1/admin/users/{id} leaves no row naming the user and none of their stored PDFs,
// keeps what the organisation owns (collection documents, usage totals, the audit trail without the email), and a
// delete that failed part way is finished by sending it again.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { call, expectErrorShape, fetchWithEnv, json, search, uniqueEmail, uniqueIp, upload, waitForIngestion } from "../support/api.ts";
import { createKey } from "../support/api-keys.ts";
import { ChatClient } from "../support/chat.ts";
import { createCollection, ingestInto, share } from "../support/collections.ts";
import { sql } from "../support/db.ts";
import { createOrg, type LoggedIn } from "../support/org.ts";
import { makeTextPdf } from "../support/pdf-factory.ts";

type Org = Awaited<ReturnType<typeof createOrg>>;

const erase = (tenant: string, token: string, id: string) => call(`/v1/admin/users/${id}`, { method: "DELETE", tenant, token });

/** Every table of the schema with the number of its rows whose text contains `needle`, where there are any. */
async function rowsContaining(needle: string): Promise<Record<string, number>> {
  const tables = (await sql().query(
    "select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'",
  )) as Array<{
    table_name: string;
  }>;
  const found: Record<string, number> = {};
  for (const { table_name } of tables) {
    const [row] = (await sql().query(`select count(*)::int as n from "${table_name}" t where t::text ilike $1`, [`%${needle}%`])) as [{ n: number }];
    if (row.n > 0) found[table_name] = row.n;
  }
  return found;
}

async function tenantUsage(tenant: string, token: string) {
  const res = await call("/v1/admin/usage", { tenant, token });
  expect(res.status).toBe(200);
  return json(res);
}

/** A user with something of everything: private and collection documents, a chat, a membership, audit entries, an API key. */
async function userWithHistory(org: Org) {
  const victim = await org.user("admin");
  const collection = await createCollection(org.tenant, org.owner.token, { visibility: "tenant" });
  expect(await share(org.tenant, org.owner.token, collection.id, victim.user.id, "write")).toBeLessThan(300);

  const privateId = (
    await json(await upload(victim.token, makeTextPdf(["Private notes about the Okavango delta survey."]), "mine.pdf", { tenant: org.tenant }))
  ).id;
  expect((await waitForIngestion(victim.token, privateId, { tenant: org.tenant })).doc.status).toBe("ready");
  const shared = await ingestInto(victim.token, org.tenant, collection.id, "The shared handbook explains the vanadium procurement rules.");

  const chat = await ChatClient.open({ tenant: org.tenant, token: victim.token });
  expect((await chat.ask("What does the survey say about the Okavango delta?")).done).not.toBeNull();

  expect((await call("/v1/admin/users", { tenant: org.tenant, token: victim.token, body: { email: uniqueEmail(), role: "member" } })).status).toBe(
    201,
  );
  const key = await createKey(org.tenant, victim.token);

  const [privateRow] = (await sql().query("select r2_key from documents where id = $1", [privateId])) as [{ r2_key: string }];
  const [sharedRow] = (await sql().query("select r2_key from documents where id = $1", [shared.id])) as [{ r2_key: string }];
  return { victim, chat, collection, privateKey: privateRow.r2_key, shared, sharedKey: sharedRow.r2_key, apiKey: key };
}

describe("erasing a user with a history", () => {
  let org: Org;
  let bystander: LoggedIn;
  let h: Awaited<ReturnType<typeof userWithHistory>>;
  let usageBefore: any;

  beforeAll(async () => {
    org = await createOrg();
    bystander = await org.user("member");
    h = await userWithHistory(org);
    usageBefore = await tenantUsage(org.tenant, org.owner.token);
    expect(usageBefore.by_user.some((u: any) => u.id === h.victim.user.id && u.total_tokens > 0)).toBe(true);
    expect(await env.DOCUMENTS.head(h.privateKey)).not.toBeNull();
    const res = await erase(org.tenant, org.owner.token, h.victim.user.id);
    expect(res.status, await res.clone().text()).toBe(204);
  }, 120_000);

  it("leaves no row anywhere with their email", async () => {
    expect(await rowsContaining(h.victim.email)).toEqual({});
  });

  it("leaves their id only in the audit log, where the entries they made keep it without their email", async () => {
    const id = h.victim.user.id;
    expect(Object.keys(await rowsContaining(id))).toEqual(["audit_log"]);
    const made = (await sql().query("select action, actor_email from audit_log where tenant_id = $1 and actor_user_id = $2", [
      org.tenant,
      id,
    ])) as Array<{
      action: string;
      actor_email: string | null;
    }>;
    expect(made.map((e) => e.action)).toContain("user.invite");
    expect(made.every((e) => e.actor_email === null)).toBe(true);
    const [deletion] = (await sql().query(
      "select actor_user_id, details from audit_log where tenant_id = $1 and action = 'user.delete' and target_id = $2",
      [org.tenant, id],
    )) as [{ actor_user_id: string; details: unknown }];
    expect(deletion).toEqual({ actor_user_id: org.owner.user.id, details: { role: "admin" } });
  });

  it("deletes the stored PDF of their private document, and keeps the collection's", async () => {
    expect(await env.DOCUMENTS.head(h.privateKey)).toBeNull();
    expect(await env.DOCUMENTS.head(h.sharedKey)).not.toBeNull();
  });

  it("keeps their collection document, with its chunks, for the organisation, with no uploader", async () => {
    const [doc] = (await sql().query(
      "select user_id, (select count(*)::int from chunks c where c.document_id = d.id) as chunks from documents d where id = $1",
      [h.shared.id],
    )) as [{ user_id: string | null; chunks: number }];
    expect(doc).toMatchObject({ user_id: null });
    expect(doc.chunks).toBeGreaterThan(0);
    expect((await search(bystander.token, { query: "vanadium procurement rules" }, org.tenant))[0]?.file_id).toBe(h.shared.id);
    const listed = await json(await call("/v1/admin/documents?limit=100", { tenant: org.tenant, token: org.owner.token }));
    expect(listed.documents.find((d: any) => d.id === h.shared.id)).toMatchObject({ uploader: null, collection_id: h.collection.id });
  });

  it("keeps the organisation's usage totals, their share under an erased user", async () => {
    const after = await tenantUsage(org.tenant, org.owner.token);
    // The bystander's searches since count too.
    const bystanderTokens = (report: any) => report.by_user.find((u: any) => u.id === bystander.user.id)?.total_tokens ?? 0;
    expect(after.totals.total_tokens - bystanderTokens(after)).toBe(usageBefore.totals.total_tokens - bystanderTokens(usageBefore));
    const mine = usageBefore.by_user.find((u: any) => u.id === h.victim.user.id);
    expect(after.by_user.find((u: any) => u.id === null)).toEqual({ ...mine, id: null, email: null, kind: null });
  });

  it("keeps the API key they created, with no creator", async () => {
    const [key] = (await sql().query("select created_by, revoked_at from api_keys where id = $1", [h.apiKey.id])) as [{ created_by: string | null }];
    expect(key).toEqual({ created_by: null, revoked_at: null });
  });

  it("their token gets 401, and their open chat socket is closed with 4003 at their next message", async () => {
    const res = await call("/v1/me", { tenant: org.tenant, token: h.victim.token });
    expect(res.status).toBe(401);
    h.chat.message("Anyone there?");
    expect((await h.chat.next("error")).code).toBe("unauthorized");
    expect((await h.chat.waitClosed()).code).toBe(4003);
  });

  it("a second delete answers 404 user_not_found", async () => {
    const res = await erase(org.tenant, org.owner.token, h.victim.user.id);
    expect(res.status).toBe(404);
    expectErrorShape(await json(res), "user_not_found");
  });
});

it("a delete that failed part way (storage down) is finished by sending it again", async () => {
  const org = await createOrg();
  const victim = await org.user("member");
  const id = (
    await json(await upload(victim.token, makeTextPdf(["Minutes of the lighthouse keepers' meeting."]), "minutes.pdf", { tenant: org.tenant }))
  ).id;
  expect((await waitForIngestion(victim.token, id, { tenant: org.tenant })).doc.status).toBe("ready");
  const [{ r2_key }] = (await sql().query("select r2_key from documents where id = $1", [id])) as [{ r2_key: string }];

  const storageDown = {
    delete: async () => {
      throw new Error("R2 is unavailable");
    },
  };
  const failed = await fetchWithEnv(
    `/v1/admin/users/${victim.user.id}`,
    { DOCUMENTS: storageDown },
    { method: "DELETE", headers: { "X-Tenant-ID": org.tenant, Authorization: `Bearer ${org.owner.token}`, "CF-Connecting-IP": uniqueIp() } },
  );
  expect(failed.status).toBe(500);
  // Half done: the user can no longer act, and everything is still there to be found by the retry.
  expect((await call("/v1/me", { tenant: org.tenant, token: victim.token })).status).toBe(401);
  expect(await env.DOCUMENTS.head(r2_key)).not.toBeNull();

  expect((await erase(org.tenant, org.owner.token, victim.user.id)).status).toBe(204);
  expect(await env.DOCUMENTS.head(r2_key)).toBeNull();
  expect(await rowsContaining(victim.email)).toEqual({});
  expect(Object.keys(await rowsContaining(victim.user.id))).toEqual(["audit_log"]);
});

describe("owner rules", () => {
  it("an admin cannot delete an owner (403 forbidden)", async () => {
    const org = await createOrg();
    const admin = await org.user("admin");
    const res = await erase(org.tenant, admin.token, org.owner.user.id);
    expect(res.status).toBe(403);
    expectErrorShape(await json(res), "forbidden");
    expect((await call("/v1/me", { tenant: org.tenant, token: org.owner.token })).status).toBe(200);
  });

  it("the last active owner cannot be deleted (409 last_owner), not even by themselves", async () => {
    const org = await createOrg();
    const res = await erase(org.tenant, org.owner.token, org.owner.user.id);
    expect(res.status).toBe(409);
    expectErrorShape(await json(res), "last_owner");
    expect((await call("/v1/me", { tenant: org.tenant, token: org.owner.token })).status).toBe(200);
  });

  it("an owner may erase themselves while another owner remains, and their deletion's entry keeps no email", async () => {
    const org = await createOrg();
    await org.user("owner");
    expect((await erase(org.tenant, org.owner.token, org.owner.user.id)).status).toBe(204);
    const [entry] = (await sql().query("select actor_user_id, actor_email from audit_log where tenant_id = $1 and action = 'user.delete'", [
      org.tenant,
    ])) as [{ actor_user_id: string; actor_email: string | null }];
    expect(entry).toEqual({ actor_user_id: org.owner.user.id, actor_email: null });
    expect(await rowsContaining(org.owner.email)).toEqual({});
  });

  it("two owners deleting each other at the same moment leave one owner", async () => {
    const org = await createOrg();
    const second = await org.user("owner");
    const answers = await Promise.all([erase(org.tenant, org.owner.token, second.user.id), erase(org.tenant, second.token, org.owner.user.id)]);
    expect(answers.map((r) => r.status).sort()).toEqual([204, 409]);
    const owners = await sql().query("select id from users where tenant_id = $1 and role = 'owner' and status = 'active'", [org.tenant]);
    expect(owners).toHaveLength(1);
  });
});
