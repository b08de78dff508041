// Tenant settings through the admin API: reading, partial changes, resets, validation, concurrent admins, who may
// use the routes, and the effect of each setting on chat models, budgets, OCR and browser origins.
import { describe, expect, it } from "vitest";
import { call, fixturePdf, json, search, upload, waitForIngestion } from "../support/api.ts";
import { ChatClient, upgradeRequest } from "../support/chat.ts";
import { sql } from "../support/db.ts";
import { createOrg } from "../support/org.ts";
import { forgetUsageBuckets } from "../support/usage-buckets.ts";

const settingsOf = (tenant: string, token: string) => call("/v1/admin/settings", { tenant, token });
const patch = (tenant: string, token: string, body: unknown) => call("/v1/admin/settings", { method: "PATCH", tenant, token, body });

describe("reading and changing settings", () => {
  it("shows the deployment's defaults for a tenant that set nothing, with the models it may choose from", async () => {
    const org = await createOrg();
    const res = await settingsOf(org.tenant, org.owner.token);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({
      settings: {
        name: `Org ${org.tenant}`,
        signup_policy: "open",
        allowed_domains: [],
        chat_models: ["gpt-4o-mini", "gpt-4o"],
        default_model: "gpt-4o-mini",
        daily_token_budget_per_user: 500_000,
        daily_token_budget_per_tenant: 20_000_000,
        ocr_enabled: true,
        ocr_max_pages_per_document: 100,
        allowed_origins: [],
      },
      customised: [],
      deployment: {
        chat_models: ["gpt-4o-mini", "gpt-4o"],
        default_model: "gpt-4o-mini",
        ocr_available: true,
        daily_token_budget_per_user: 500_000,
        daily_token_budget_per_tenant: 20_000_000,
        ocr_max_pages_per_document: 100,
      },
    });
  });

  it("changes only the keys sent, renames the tenant, and resets a key with null", async () => {
    const org = await createOrg();
    const changed = await json(
      await patch(org.tenant, org.owner.token, {
        name: "Initech",
        signup_policy: "domains",
        allowed_domains: ["Initech.example", "initech.example"],
      }),
    );
    expect(changed.settings).toMatchObject({
      name: "Initech",
      signup_policy: "domains",
      allowed_domains: ["initech.example"],
      chat_models: ["gpt-4o-mini", "gpt-4o"],
    });
    expect(changed.customised.sort()).toEqual(["allowed_domains", "signup_policy"]);

    await patch(org.tenant, org.owner.token, { chat_models: ["gpt-4o"] });
    const after = await json(await settingsOf(org.tenant, org.owner.token));
    expect(after.settings).toMatchObject({ name: "Initech", signup_policy: "domains", chat_models: ["gpt-4o"], default_model: "gpt-4o" });

    const reset = await json(await patch(org.tenant, org.owner.token, { signup_policy: null, allowed_domains: null, chat_models: null }));
    expect(reset.settings).toMatchObject({ name: "Initech", signup_policy: "open", allowed_domains: [], chat_models: ["gpt-4o-mini", "gpt-4o"] });
    expect(reset.customised).toEqual([]);
    const [row] = await sql().query("select name, settings from tenants where id = $1", [org.tenant]);
    expect(row).toEqual({ name: "Initech", settings: {} });
  });

  it("lands every one of several admins' concurrent changes of different keys", async () => {
    const org = await createOrg();
    const admin = await org.user("admin");
    const changes = [
      [org.owner.token, { allowed_domains: ["a.example"] }],
      [admin.token, { allowed_origins: ["https://a.example"] }],
      [org.owner.token, { daily_token_budget_per_user: 1_000 }],
      [admin.token, { daily_token_budget_per_tenant: 5_000 }],
      [org.owner.token, { ocr_max_pages_per_document: 7 }],
      [admin.token, { ocr_enabled: false }],
      [org.owner.token, { default_model: "gpt-4o" }],
      [admin.token, { name: "Parallel" }],
    ] as const;
    const answers = await Promise.all(changes.map(([token, body]) => patch(org.tenant, token, body)));
    expect(answers.map((r) => r.status)).toEqual(changes.map(() => 200));
    expect((await json(await settingsOf(org.tenant, admin.token))).settings).toMatchObject({
      name: "Parallel",
      allowed_domains: ["a.example"],
      allowed_origins: ["https://a.example"],
      daily_token_budget_per_user: 1_000,
      daily_token_budget_per_tenant: 5_000,
      ocr_max_pages_per_document: 7,
      ocr_enabled: false,
      default_model: "gpt-4o",
    });
    // Each change is in the audit log, with what it replaced.
    const log = await json(await call("/v1/admin/audit-log?action=settings.update&limit=100", { tenant: org.tenant, token: org.owner.token }));
    expect(log.entries).toHaveLength(changes.length);
    expect(log.entries.find((e: any) => e.details.ocr_max_pages_per_document)?.details).toEqual({ ocr_max_pages_per_document: { from: 100, to: 7 } });
  });

  it.each([
    [{ chat_models: ["gpt-4o", "gpt-9", "llama"] }, /chat_models: unknown model\(s\) gpt-9, llama/],
    [{ chat_models: [] }, /chat_models/],
    [{ default_model: "gpt-9" }, /default_model: 'gpt-9' is not one of chat_models/],
    [{ chat_models: ["gpt-4o"], default_model: "gpt-4o-mini" }, /default_model/],
    [{ signup_policy: "domains" }, /allowed_domains: the 'domains' sign-up policy needs at least one/],
    [{ signup_policy: "everyone" }, /signup_policy/],
    [{ allowed_domains: ["not a domain"] }, /allowed_domains\.0: must be a domain name/],
    [{ allowed_domains: Array.from({ length: 101 }, (_, i) => `d${i}.example`) }, /allowed_domains/],
    [{ allowed_origins: ["https://app.example/path"] }, /allowed_origins\.0: must be an origin/],
    [{ daily_token_budget_per_user: 500_001 }, /daily_token_budget_per_user: must be 1-500000/],
    [{ daily_token_budget_per_tenant: 0 }, /daily_token_budget_per_tenant: must be 1-20000000/],
    [{ daily_token_budget_per_user: -1 }, /daily_token_budget_per_user/],
    [{ ocr_max_pages_per_document: 101 }, /ocr_max_pages_per_document: at most 100/],
    [{ ocr_enabled: "yes" }, /ocr_enabled/],
    [{ name: "  " }, /name/],
    [{ name: null }, /name/],
    [{ colour: "blue" }, /colour/],
  ])("refuses %j with 400 validation_failed naming the field", async (body, message) => {
    const org = await createOrg();
    const res = await patch(org.tenant, org.owner.token, body);
    expect(res.status).toBe(400);
    const error = (await json(res)).error;
    expect(error.code).toBe("validation_failed");
    expect(error.message).toMatch(message);
    expect((await json(await settingsOf(org.tenant, org.owner.token))).customised).toEqual([]);
  });

  it("refuses a chat_models change that leaves the stored default_model out", async () => {
    const org = await createOrg({ default_model: "gpt-4o-mini" });
    const res = await patch(org.tenant, org.owner.token, { chat_models: ["gpt-4o"] });
    expect(res.status).toBe(400);
    expect((await json(res)).error.message).toMatch(/default_model: 'gpt-4o-mini' is not one of chat_models \(gpt-4o\)/);
  });
});

describe("who may read and change settings", () => {
  it.each(["owner", "admin"] as const)("an %s may read and change them", async (role) => {
    const org = await createOrg();
    const { token } = role === "owner" ? org.owner : await org.user(role);
    expect((await settingsOf(org.tenant, token)).status).toBe(200);
    expect((await patch(org.tenant, token, { signup_policy: "invite" })).status).toBe(200);
  });

  it("a member gets 403 forbidden and changes nothing", async () => {
    const org = await createOrg();
    const member = await org.user("member");
    for (const res of [await settingsOf(org.tenant, member.token), await patch(org.tenant, member.token, { signup_policy: "invite" })]) {
      expect(res.status).toBe(403);
      expect((await json(res)).error.code).toBe("forbidden");
    }
    expect((await json(await settingsOf(org.tenant, org.owner.token))).settings.signup_policy).toBe("open");
  });

  it("an owner of another tenant cannot reach them (tenant_mismatch), and without a token nobody can", async () => {
    const org = await createOrg();
    const other = await createOrg();
    const res = await patch(org.tenant, other.owner.token, { signup_policy: "invite" });
    expect(res.status).toBe(403);
    expect((await json(res)).error.code).toBe("tenant_mismatch");
    expect((await call("/v1/admin/settings", { tenant: org.tenant })).status).toBe(401);
    expect((await json(await settingsOf(org.tenant, org.owner.token))).settings.signup_policy).toBe("open");
  });
});

describe("the settings take effect", () => {
  it("chat answers with the tenant's default model and refuses a model it did not allow, listing its own", async () => {
    const org = await createOrg({ chat_models: ["gpt-4o"] });
    const chat = await ChatClient.open({ token: org.owner.token, tenant: org.tenant });
    const refused = await chat.ask("Which models?", { model: "gpt-4o-mini" });
    expect(refused.error).toMatchObject({ code: "model_not_allowed", message: "Model 'gpt-4o-mini' is not available; use one of: gpt-4o" });
    const answered = await chat.ask("Which model answers by default?");
    expect(answered.done?.status).toBe("complete");
    chat.close();
    const [message] = await sql().query("select model from messages where id = $1", [answered.done!.message_id]);
    expect(message).toEqual({ model: "gpt-4o" });
  });

  it("enforces the tenant's own daily budgets, per tenant and per user, and reports them", async () => {
    const org = await createOrg({ daily_token_budget_per_tenant: 1_000, daily_token_budget_per_user: 800 });
    const colleague = await org.user("member");
    const usage = await json(await call("/v1/usage", { tenant: org.tenant, token: colleague.token }));
    expect(usage.daily_budget.user.limit).toBe(800);
    expect(await search(colleague.token, { query: "anything" }, org.tenant)).toEqual([]);

    // The owner spends 900 tokens: their own budget (800) is spent, and the colleague's tenant budget nearly so.
    await sql().query("insert into usage_events (tenant_id, user_id, kind, model, embedding_tokens) values ($1, $2, 'embedding', 'test', 900)", [
      org.tenant,
      org.owner.user.id,
    ]);
    await forgetUsageBuckets(org.tenant);
    const owners = await call("/v1/search", { tenant: org.tenant, token: org.owner.token, body: { query: "anything" } });
    expect(owners.status).toBe(429);
    expect((await json(owners)).error).toMatchObject({ code: "quota_exceeded", message: expect.stringMatching(/900 of 800 tokens/) });
    expect(await search(colleague.token, { query: "anything" }, org.tenant)).toEqual([]);

    await sql().query("insert into usage_events (tenant_id, user_id, kind, model, embedding_tokens) values ($1, $2, 'embedding', 'test', 100)", [
      org.tenant,
      org.owner.user.id,
    ]);
    await forgetUsageBuckets(org.tenant);
    const colleagues = await call("/v1/search", { tenant: org.tenant, token: colleague.token, body: { query: "anything" } });
    expect(colleagues.status).toBe(429);
    expect((await json(colleagues)).error.message).toMatch(/organisation's daily token budget/);

    // Another tenant runs with the deployment's budgets.
    const other = await createOrg();
    expect(await search(other.owner.token, { query: "anything" }, other.tenant)).toEqual([]);
  });

  it("with OCR off for the tenant a scan is not OCRed: ocr_off warnings, and it fails as no_text", async () => {
    const org = await createOrg({ ocr_enabled: false });
    const created = await json(await upload(org.owner.token, fixturePdf("en-1.scan.pdf"), "scan.pdf", { tenant: org.tenant }));
    const { doc } = await waitForIngestion(org.owner.token, created.id, { tenant: org.tenant });
    expect(doc).toMatchObject({ status: "failed", error: { code: "no_text" }, ocr_pages: 0 });
    expect(doc.warnings).toEqual([expect.objectContaining({ page: 1, code: "ocr_off" })]);
  });

  it("applies the tenant's OCR page limit", async () => {
    const org = await createOrg({ ocr_max_pages_per_document: 0 });
    const created = await json(await upload(org.owner.token, fixturePdf("fa-mixed.pdf"), "mixed.pdf", { tenant: org.tenant }));
    const { doc } = await waitForIngestion(org.owner.token, created.id, { tenant: org.tenant });
    expect(doc).toMatchObject({ status: "ready", ocr_pages: 0 });
    expect(doc.warnings).toEqual([expect.objectContaining({ page: 2, code: "ocr_limit" })]);
  });
});

describe("allowed browser origins", () => {
  const ORIGIN = `https://portal-${crypto.randomUUID().slice(0, 8)}.example`;
  const preflight = (origin: string) =>
    call("/v1/me", {
      method: "OPTIONS",
      tenant: null,
      headers: { Origin: origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization,x-tenant-id" },
    });

  it("are allowed by CORS for their own tenant only; a preflight is allowed when any tenant lists the origin", async () => {
    const org = await createOrg();
    const other = await createOrg();
    expect((await preflight(ORIGIN)).headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect((await patch(org.tenant, org.owner.token, { allowed_origins: [ORIGIN] })).status).toBe(200);

    expect((await preflight(ORIGIN)).headers.get("Access-Control-Allow-Origin")).toBe(ORIGIN);
    const own = await call("/v1/me", { tenant: org.tenant, token: org.owner.token, headers: { Origin: ORIGIN } });
    expect(own.headers.get("Access-Control-Allow-Origin")).toBe(ORIGIN);
    const foreign = await call("/v1/me", { tenant: other.tenant, token: other.owner.token, headers: { Origin: ORIGIN } });
    expect(foreign.status).toBe(200);
    expect(foreign.headers.get("Access-Control-Allow-Origin")).toBeNull();
    // The deployment's CORS_ORIGINS still hold everywhere.
    const deployment = await call("/v1/me", { tenant: other.tenant, token: other.owner.token, headers: { Origin: "https://app.example.com" } });
    expect(deployment.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example.com");
  });

  it("are allowed by the chat WebSocket for their own tenant only", async () => {
    const org = await createOrg({ allowed_origins: [ORIGIN] });
    const other = await createOrg();
    const chat = await ChatClient.open({ token: org.owner.token, tenant: org.tenant, origin: ORIGIN });
    await chat.ping();
    chat.close();
    const refused = await upgradeRequest({ token: other.owner.token, tenant: other.tenant, origin: ORIGIN });
    expect(refused.status).toBe(403);
    expect((await json(refused)).error.code).toBe("origin_not_allowed");
  });
});
