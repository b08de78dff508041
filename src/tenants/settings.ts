// The settings a tenant runs with: what its admins stored (settings-schema.ts), over the deployment's defaults.
// The deployment bounds every choice: models outside CHAT_MODELS are dropped, OCR is off when OCR_MODEL is "off",
// and budgets and the OCR page limit can be tightened by a tenant but never raised past the deployment's values.
import { activeTenant } from "../auth/principal.ts";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import type { Tenant } from "../env.ts";

export interface TenantSettings {
  name: string;
  signup_policy: "open" | "domains" | "invite";
  allowed_domains: string[];
  chat_models: string[];
  default_model: string;
  /** Tokens per rolling 24 hours; 0 is unlimited. */
  daily_token_budget_per_user: number;
  daily_token_budget_per_tenant: number;
  ocr_enabled: boolean;
  ocr_max_pages_per_document: number;
  allowed_origins: string[];
}

/** A tenant's limit under the deployment's ceiling (0 = unlimited on either side). */
function capped(stored: number | undefined, ceiling: number): number {
  if (stored === undefined) return ceiling;
  if (ceiling === 0) return stored;
  return stored === 0 ? ceiling : Math.min(stored, ceiling);
}

export function effectiveSettings(config: Config, tenant: Pick<Tenant, "name" | "settings">): TenantSettings {
  const stored = tenant.settings;
  const kept = stored.chat_models?.filter((m) => config.CHAT_MODELS.includes(m)) ?? [];
  const chatModels = kept.length ? kept : config.CHAT_MODELS;
  const defaultModel = [stored.default_model, config.CHAT_DEFAULT_MODEL].find((m) => m !== undefined && chatModels.includes(m)) ?? chatModels[0]!;
  return {
    name: tenant.name,
    signup_policy: stored.signup_policy ?? "open",
    allowed_domains: stored.allowed_domains ?? [],
    chat_models: chatModels,
    default_model: defaultModel,
    daily_token_budget_per_user: capped(stored.daily_token_budget_per_user, config.DAILY_TOKEN_BUDGET_PER_USER),
    daily_token_budget_per_tenant: capped(stored.daily_token_budget_per_tenant, config.DAILY_TOKEN_BUDGET_PER_TENANT),
    ocr_enabled: config.OCR_MODEL !== "off" && (stored.ocr_enabled ?? true),
    ocr_max_pages_per_document: Math.min(stored.ocr_max_pages_per_document ?? config.OCR_MAX_PAGES_PER_DOCUMENT, config.OCR_MAX_PAGES_PER_DOCUMENT),
    allowed_origins: stored.allowed_origins ?? [],
  };
}

/**
 * The settings of the tenant `id`, read through the tenant cache (src/auth/principal.ts). A tenant disabled or
 * deleted meanwhile runs with the deployment's defaults: whatever asked is refused elsewhere.
 */
export async function tenantSettings(db: Db, config: Config, id: string): Promise<TenantSettings> {
  return effectiveSettings(config, (await activeTenant(db, id)) ?? { name: id, settings: {} });
}

/** The domain part of an email, as the allowed_domains list holds it. */
const domainOf = (email: string) => email.slice(email.lastIndexOf("@") + 1).toLowerCase();

/**
 * Whether the sign-up policy lets a new email (one with no user in the tenant) join. `domains` admits an exact
 * domain only: a subdomain must be listed itself, so an allowed "example.com" never admits "mail.example.com".
 */
export function admitsNewUser(settings: Pick<TenantSettings, "signup_policy" | "allowed_domains">, email: string): boolean {
  if (settings.signup_policy === "open") return true;
  if (settings.signup_policy === "domains") return settings.allowed_domains.includes(domainOf(email));
  return false;
}
