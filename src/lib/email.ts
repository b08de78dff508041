/** Emails identify a user case-insensitively within a tenant. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
