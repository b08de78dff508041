// PATCH /v1/admin/settings — changes some of the tenant's settings; null resets a key to the deployment's default.
import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { audit } from "../../../audit/log.ts";
import { forgetTenant } from "../../../auth/principal.ts";
import type { Config } from "../../../config.ts";
import type { AppEnv } from "../../../env.ts";
import { ApiError } from "../../../lib/errors.ts";
import { forgetListedOrigins } from "../../../lib/origins.ts";
import { requireUser } from "../../../middleware/auth.ts";
import { apiRateLimit } from "../../../middleware/rate-limit.ts";
import { requireAdmin } from "../../../middleware/roles.ts";
import { requireTenant } from "../../../middleware/tenant.ts";
import { changeTenantSettings, readTenantState } from "../../../tenants/repository.ts";
import { effectiveSettings, type TenantSettings } from "../../../tenants/settings.ts";
import { type StoredTenantSettings, StoredTenantSettingsSchema } from "../../../tenants/settings-schema.ts";
import { adminErrors, bearerSecurity } from "../../schemas.ts";
import { SettingsDocumentSchema, settingsDocument } from "./schema.ts";

type Stored = typeof StoredTenantSettingsSchema.shape;
const nullable = Object.fromEntries(Object.entries(StoredTenantSettingsSchema.shape).map(([key, schema]) => [key, schema.nullable()])) as {
  [K in keyof Stored]: z.ZodNullable<Stored[K]>;
};

const SettingsPatchSchema = z
  .object({ name: z.string().trim().min(1).max(100).optional().openapi({ description: "The tenant's display name" }), ...nullable })
  .strict()
  .openapi("TenantSettingsPatch");

export const route = createRoute({
  method: "patch",
  path: "/v1/admin/settings",
  operationId: "updateTenantSettings",
  tags: ["Admin: settings"],
  summary: "Change the tenant's settings",
  description: `Only the keys sent change; \`null\` resets a key to the deployment's default. Limits:
- \`chat_models\`: 1-20 of the deployment's CHAT_MODELS (an unknown model is refused, named); \`default_model\` must be one of the
  tenant's chat_models.
- \`signup_policy\`: \`open\` (anyone may sign up), \`domains\` (new users only from \`allowed_domains\`, exact domains: a subdomain must be
  listed itself; needs at least one domain), \`invite\` (nobody new; invited users only). Existing users can always log in unless disabled.
- \`allowed_domains\`: at most 100; \`allowed_origins\`: at most 50 origins (scheme and host), allowed by CORS and the chat WebSocket
  for this tenant, on top of the deployment's CORS_ORIGINS.
- \`daily_token_budget_per_user\` / \`_per_tenant\`: tokens per rolling 24 hours, at most the deployment's limit (which is also the
  default); 0 (unlimited) only when the deployment's limit is unlimited.
- \`ocr_enabled\`: cannot be turned on when the deployment's OCR is off; \`ocr_max_pages_per_document\`: at most the deployment's limit.
- \`name\`: 1-100 characters.

Changes take effect within 30 s everywhere (at once in the isolate that made them). Two admins changing different keys at once
both land. Written to the audit log as \`settings.update\` with each changed key's \`from\` and \`to\`.`,
  security: bearerSecurity,
  middleware: [requireTenant, requireUser, requireAdmin, apiRateLimit] as const,
  request: { body: { required: true, content: { "application/json": { schema: SettingsPatchSchema } } } },
  responses: {
    200: { description: "The settings after the change", content: { "application/json": { schema: SettingsDocumentSchema } } },
    ...adminErrors,
  },
});

const invalid = (message: string) => new ApiError(400, "validation_failed", message);

/** A budget or page limit a tenant may choose: the deployment's value is its ceiling (0 there: no ceiling). */
function checkCeiling(key: string, value: number | undefined, ceiling: number, unit: string): void {
  if (value === undefined || ceiling === 0) return;
  if (value === 0 || value > ceiling) throw invalid(`${key}: must be 1-${ceiling} ${unit} (the deployment's limit)`);
}

/** What the tenant would run with must be coherent; each refusal names its key. */
function validate(config: Config, set: StoredTenantSettings, merged: StoredTenantSettings): void {
  const unknown = set.chat_models?.filter((m) => !config.CHAT_MODELS.includes(m)) ?? [];
  if (unknown.length) throw invalid(`chat_models: unknown model(s) ${unknown.join(", ")}; this deployment offers ${config.CHAT_MODELS.join(", ")}`);
  const effective = effectiveSettings(config, { name: "", settings: merged });
  if (merged.default_model !== undefined && !effective.chat_models.includes(merged.default_model))
    throw invalid(`default_model: '${merged.default_model}' is not one of chat_models (${effective.chat_models.join(", ")})`);
  if (effective.signup_policy === "domains" && effective.allowed_domains.length === 0)
    throw invalid("allowed_domains: the 'domains' sign-up policy needs at least one allowed domain");
  if (set.ocr_enabled && config.OCR_MODEL === "off") throw invalid("ocr_enabled: OCR is off in this deployment (OCR_MODEL=off)");
  checkCeiling("daily_token_budget_per_user", set.daily_token_budget_per_user, config.DAILY_TOKEN_BUDGET_PER_USER, "tokens");
  checkCeiling("daily_token_budget_per_tenant", set.daily_token_budget_per_tenant, config.DAILY_TOKEN_BUDGET_PER_TENANT, "tokens");
  if ((set.ocr_max_pages_per_document ?? 0) > config.OCR_MAX_PAGES_PER_DOCUMENT)
    throw invalid(`ocr_max_pages_per_document: at most ${config.OCR_MAX_PAGES_PER_DOCUMENT} (the deployment's limit)`);
}

/** The keys whose effective value changed, with both values: what the audit log records. */
function differences(before: TenantSettings, after: TenantSettings): Record<string, { from: unknown; to: unknown }> {
  const keys = Object.keys(after) as Array<keyof TenantSettings>;
  const changed = keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  return Object.fromEntries(changed.map((k) => [k, { from: before[k], to: after[k] }]));
}

const unique = <T>(value: T): T => (Array.isArray(value) ? ([...new Set(value)] as T) : value);

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { config, services, tenant } = c.var;
  const { name, ...keys } = c.req.valid("json");
  const set: Record<string, unknown> = {};
  const reset: string[] = [];
  for (const [key, value] of Object.entries(keys)) {
    if (value === null) reset.push(key);
    else if (value !== undefined) set[key] = unique(value);
  }
  const current = (await readTenantState(services.db, tenant.id)) ?? tenant;
  const merged: StoredTenantSettings = { ...current.settings, ...set };
  for (const key of reset) delete merged[key as keyof StoredTenantSettings];
  validate(config, set as StoredTenantSettings, merged);

  const changed = await changeTenantSettings(services.db, tenant.id, { name, set: set as StoredTenantSettings, reset });
  if (!changed) throw new ApiError(404, "tenant_not_found", `Tenant '${tenant.id}' does not exist or is disabled`);
  forgetTenant(tenant.id);
  if ("allowed_origins" in keys) forgetListedOrigins();
  await audit(c, {
    action: "settings.update",
    targetType: "tenant",
    targetId: tenant.id,
    details: differences(effectiveSettings(config, changed.before), effectiveSettings(config, changed.after)),
  });
  return c.json(settingsDocument(c, changed.after), 200);
};
