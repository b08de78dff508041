// The settings document both settings routes answer with: what the tenant runs with, which keys its admins set,
// and what the deployment offers (so a UI can show the models to choose from and what "reset" returns to).
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv, Tenant } from "../../../env.ts";
import { effectiveSettings } from "../../../tenants/settings.ts";
import { StoredTenantSettingsSchema } from "../../../tenants/settings-schema.ts";

const Budget = z.number().int().min(0).openapi({ description: "Tokens per rolling 24 hours; 0 = unlimited" });

export const SettingsSchema = z
  .object({
    name: z.string(),
    signup_policy: z.enum(["open", "domains", "invite"]),
    allowed_domains: z.array(z.string()),
    chat_models: z.array(z.string()),
    default_model: z.string(),
    daily_token_budget_per_user: Budget,
    daily_token_budget_per_tenant: Budget,
    ocr_enabled: z.boolean(),
    ocr_max_pages_per_document: z.number().int(),
    allowed_origins: z.array(z.string()),
  })
  .openapi("TenantSettings");

export const SettingsDocumentSchema = z
  .object({
    settings: SettingsSchema,
    customised: z
      .array(z.enum(Object.keys(StoredTenantSettingsSchema.shape) as [string, ...string[]]))
      .openapi({ description: "The keys the tenant set; every other key is the deployment's default" }),
    deployment: z
      .object({
        chat_models: z.array(z.string()).openapi({ description: "CHAT_MODELS: the models chat_models may choose from" }),
        default_model: z.string(),
        ocr_available: z.boolean().openapi({ description: "false when the deployment's OCR is off: ocr_enabled cannot be turned on" }),
        daily_token_budget_per_user: Budget,
        daily_token_budget_per_tenant: Budget,
        ocr_max_pages_per_document: z.number().int(),
      })
      .openapi({ description: "The deployment's defaults, which are also the ceilings of the budgets and the OCR page limit" }),
  })
  .openapi("TenantSettingsDocument");

export function settingsDocument(c: Context<AppEnv>, tenant: Pick<Tenant, "name" | "settings">): z.infer<typeof SettingsDocumentSchema> {
  const { config } = c.var;
  return {
    settings: effectiveSettings(config, tenant),
    customised: Object.keys(tenant.settings),
    deployment: {
      chat_models: config.CHAT_MODELS,
      default_model: config.CHAT_DEFAULT_MODEL,
      ocr_available: config.OCR_MODEL !== "off",
      daily_token_budget_per_user: config.DAILY_TOKEN_BUDGET_PER_USER,
      daily_token_budget_per_tenant: config.DAILY_TOKEN_BUDGET_PER_TENANT,
      ocr_max_pages_per_document: config.OCR_MAX_PAGES_PER_DOCUMENT,
    },
  };
}
