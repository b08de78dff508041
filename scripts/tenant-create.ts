// npm run tenant:create -- <id> [name] — against DATABASE_URL or the running local stack.
import { createTenant, resolveDatabaseUrl } from "./lib/db.ts";

const [id, ...nameParts] = process.argv.slice(2);
if (!id) {
  console.error("Usage: npm run tenant:create -- <id> [name]");
  process.exit(2);
}
try {
  const tenant = await createTenant(resolveDatabaseUrl(), id, nameParts.join(" ") || id);
  console.log(
    tenant.created ? `Created tenant '${tenant.id}' (${tenant.name})` : `Tenant '${tenant.id}' already exists (${tenant.name}, ${tenant.status})`,
  );
} catch (err) {
  console.error(`tenant:create failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
