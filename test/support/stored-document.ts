// A document as an upload stores it (its R2 object and its queued row), without its queue message: for the tests
// that deliver the ingestion messages themselves.
import { env } from "cloudflare:workers";
import { objectKey } from "../../src/documents/repository.ts";
import { sql } from "./db.ts";

export async function storedDocument(owner: { user: { id: string } }, bytes: Uint8Array, filename: string) {
  const id = crypto.randomUUID();
  const key = objectKey({ tenantId: "acme", userId: owner.user.id }, id);
  await env.DOCUMENTS.put(key, bytes);
  const sha = [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
  await sql().query("insert into documents (id, tenant_id, user_id, filename, size_bytes, sha256, r2_key) values ($1, 'acme', $2, $3, $4, $5, $6)", [
    id,
    owner.user.id,
    filename,
    bytes.length,
    sha,
    key,
  ]);
  return { id, key };
}
