import { ApiError } from "../lib/errors.ts";

/** The 401 every bearer credential (access token or API key) is refused with. */
export const unauthorized = (message: string) => new ApiError(401, "unauthorized", message, { "WWW-Authenticate": 'Bearer realm="docuchat"' });
