// The database could not be reached or did not answer within DB_TIMEOUT_MS. Trying again later may work, so
// the API answers 503 database_unavailable and the ingestion queue retries the message.
export class DatabaseUnavailableError extends Error {
  override name = "DatabaseUnavailableError";
}

/**
 * The DatabaseUnavailableError behind `err`: the driver wraps what its fetch threw in a NeonDbError
 * (`sourceError`), and drizzle wraps that in a DrizzleQueryError (`cause`).
 */
export function databaseUnavailableIn(err: unknown): DatabaseUnavailableError | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; depth++) {
    if (e instanceof DatabaseUnavailableError) return e;
    e = (e as { sourceError?: unknown }).sourceError ?? e.cause;
  }
  return undefined;
}

/** The Postgres error code (SQLSTATE) behind `err`, through the same wrappers; e.g. "23505" unique, "23503" foreign key. */
export function postgresErrorCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { sourceError?: unknown }).sourceError ?? e.cause;
  }
  return undefined;
}
