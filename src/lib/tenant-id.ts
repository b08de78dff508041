/** Tenant ids are short slugs, so they are safe in headers, Redis keys and R2 object keys. */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
