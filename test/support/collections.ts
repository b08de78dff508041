// Collections for the tests: created and shared through the admin API as an admin would, documents ingested into them.
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { call, json, upload, waitForIngestion } from "./api.ts";
import { makeTextPdf } from "./pdf-factory.ts";

export interface CollectionJson {
  id: string;
  name: string;
  description: string;
  visibility: "tenant" | "members";
  access: "read" | "write";
  document_count: number;
  member_count: number;
  created_at: string;
  updated_at: string;
}

/** POST /v1/admin/collections as `adminToken`; fails unless 201. */
export async function createCollection(
  tenant: string,
  adminToken: string,
  body: { name?: string; description?: string; visibility?: "tenant" | "members" } = {},
): Promise<CollectionJson> {
  const res = await call("/v1/admin/collections", {
    tenant,
    token: adminToken,
    body: { name: `collection ${crypto.randomUUID().slice(0, 8)}`, visibility: "tenant", ...body },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return json<CollectionJson>(res);
}

/** PUT /v1/admin/collections/{id}/members/{user_id}; returns the status. */
export async function share(tenant: string, adminToken: string, collectionId: string, userId: string, access: "read" | "write"): Promise<number> {
  return (await call(`/v1/admin/collections/${collectionId}/members/${userId}`, { method: "PUT", tenant, token: adminToken, body: { access } }))
    .status;
}

/** Uploads a one-page PDF of `text` into the collection and waits until it is ready; returns the document. */
export async function ingestInto(token: string, tenant: string, collectionId: string, text: string, filename = "shared.pdf") {
  const res = await upload(token, makeTextPdf([text]), filename, { tenant, collectionId });
  expect(res.status, await res.clone().text()).toBe(202);
  const { doc } = await waitForIngestion(token, (await json(res)).id, { tenant });
  expect(doc.status).toBe("ready");
  return doc as { id: string; collection_id: string; filename: string };
}

/** The R2 keys under `prefix`, every page of the listing. */
export async function objectKeysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.DOCUMENTS.list({ prefix, cursor });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys;
}
