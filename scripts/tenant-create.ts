// npm run tenant:create -- <id> [name] [--owner <email>] — against DATABASE_URL or the running local stack.
// Creates the tenant if it is missing; --owner makes that email its owner (the first admin, who invites the rest).
import { parseArgs } from "node:util";
import { createTenant, ensureOwner, resolveDatabaseUrl } from "./lib/db.ts";

const USAGE = "Usage: npm run tenant:create -- <id> [name] [--owner <email>]";

function parse() {
  try {
    return parseArgs({ allowPositionals: true, options: { owner: { type: "string" } } });
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    process.exit(2);
  }
}
const args = parse();
const [id, ...nameParts] = args.positionals;
if (!id) {
  console.error(USAGE);
  process.exit(2);
}
try {
  const url = resolveDatabaseUrl();
  const tenant = await createTenant(url, id, nameParts.join(" ") || id);
  console.log(
    tenant.created ? `Created tenant '${tenant.id}' (${tenant.name})` : `Tenant '${tenant.id}' already exists (${tenant.name}, ${tenant.status})`,
  );
  if (args.values.owner) {
    const owner = await ensureOwner(url, tenant.id, args.values.owner);
    const was = owner.previousRole ? `was ${owner.previousRole}, ${owner.previousStatus}` : "new user";
    console.log(`'${owner.email}' is an active owner of '${tenant.id}' (${was}); they log in with their email`);
  }
} catch (err) {
  console.error(`tenant:create failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
