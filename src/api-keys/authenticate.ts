// API keys: `Authorization: Bearer dc_live_…`. (Issue 11 §5: implemented by the API-keys work.)
import type { Context } from "hono";
import type { AppEnv, AuthUser } from "../env.ts";
import { ApiError } from "../lib/errors.ts";

export const API_KEY_PREFIX = "dc_live_";

export async function authenticateApiKey(_c: Context<AppEnv>, _token: string): Promise<AuthUser> {
  throw new ApiError(401, "unauthorized", "The API key is invalid, expired or revoked");
}
