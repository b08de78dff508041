// A tenant's own settings, as its admins store them. Every key is optional: an unset key takes the deployment's
// default (src/config.ts), so a tenant created before settings existed behaves exactly as before.
import { z } from "zod";

const domain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "must be a domain name such as example.com");

const origin = z
  .string()
  .trim()
  .regex(/^https?:\/\/[^/\s]+$/, "must be an origin such as https://app.example.com (scheme and host, no path)");

export const StoredTenantSettingsSchema = z
  .object({
    signup_policy: z.enum(["open", "domains", "invite"]),
    allowed_domains: z.array(domain).max(100),
    chat_models: z.array(z.string().min(1).max(100)).min(1).max(20),
    default_model: z.string().min(1).max(100),
    daily_token_budget_per_user: z.number().int().min(0),
    daily_token_budget_per_tenant: z.number().int().min(0),
    ocr_enabled: z.boolean(),
    ocr_max_pages_per_document: z.number().int().min(0).max(500),
    allowed_origins: z.array(origin).max(50),
  })
  .partial()
  .strict();

export type StoredTenantSettings = z.infer<typeof StoredTenantSettingsSchema>;
