// npm run db:migrate — applies migrations/ to DATABASE_URL (e.g. Neon) or to the running local stack.
import { migrateDatabase, resolveDatabaseUrl } from "./lib/db.ts";

try {
  const url = resolveDatabaseUrl();
  await migrateDatabase(url);
  console.log(`Migrations applied to ${new URL(url).host}`);
} catch (err) {
  console.error(`db:migrate failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
