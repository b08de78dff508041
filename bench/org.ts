// npm run bench:org — what the organisation features cost on the local stack. Search over the same Persian manual
// (lshort-fa.pdf) reached four ways — the reference is the narrowest scope, `file_ids` naming the member's private
// copy; then the member's default scope (private documents, a tenant-wide collection holding a second copy, and 50
// members-only collections they are listed in), `collection_ids`, an admin and an API key — with whether each
// returns the reference's pages and texts; GET /v1/files with an access token beside an API key; and erasing a user
// with 5 documents. Sequential requests (PGlite answers one query at a time), medians. Prints one JSON line.
import { readFileSync } from "node:fs";
import { DEMO_OWNER_EMAIL } from "../dev/local-api.ts";
import { PROJECT_ROOT } from "../scripts/lib/db.ts";
import { loginAs, median, round, withLocalApi } from "./lib.ts";

const ROUNDS = Number(process.env.ORG_ROUNDS ?? 40);
const MEMBER_COLLECTIONS = 50;
const QUERIES = ["فرمول ریاضی", "جدول و شکل", "فهرست مطالب", "نصب توزیع تک", "bibliography مراجع"];
const ERASED_DOCUMENTS = ["fa-1.chromium.pdf", "fa-1.libreoffice.pdf", "fa-1.pango.pdf", "fa-1.xelatex.pdf", "en-1.chromium.pdf"];

type Hit = { page_start: number; text: string };

const result = await withLocalApi(async (api) => {
  const call = async (token: string, path: string, init: { method?: string; body?: unknown; form?: FormData } = {}) => {
    const headers: Record<string, string> = { "X-Tenant-ID": "demo", Authorization: `Bearer ${token}` };
    if (init.body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(`${api.url}${path}`, {
      method: init.method ?? (init.body !== undefined || init.form ? "POST" : "GET"),
      headers,
      body: init.form ?? (init.body !== undefined ? JSON.stringify(init.body) : undefined),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path} answered ${res.status}: ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const upload = async (token: string, name: string, collectionId?: string) => {
    const form = new FormData();
    if (collectionId) form.append("collection_id", collectionId);
    form.append("file", new File([readFileSync(`${PROJECT_ROOT}test/fixtures/pdf/${name}`)], name));
    const { id } = await call(token, "/v1/files", { form });
    for (let status = ""; status !== "ready"; ) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await call(token, `/v1/files/${id}`)).status;
      if (status === "failed") throw new Error(`${name} failed to ingest`);
    }
    return id as string;
  };

  const owner = await loginAs(api.url, DEMO_OWNER_EMAIL);
  const memberEmail = "member@example.com";
  const member = await loginAs(api.url, memberEmail);
  const memberId = (await call(member, "/v1/me")).id as string;
  const handbook = (await call(owner, "/v1/admin/collections", { body: { name: "Handbook", visibility: "tenant" } })).id as string;
  for (let i = 0; i < MEMBER_COLLECTIONS; i++) {
    const { id } = await call(owner, "/v1/admin/collections", { body: { name: `Team ${i}`, visibility: "members" } });
    await call(owner, `/v1/admin/collections/${id}/members/${memberId}`, { method: "PUT", body: { access: "read" } });
  }
  const privateCopy = await upload(member, "lshort-fa.pdf");
  await upload(owner, "lshort-fa.pdf", handbook);
  const { key } = await call(owner, "/v1/admin/api-keys", { body: { name: "bench", scope: "read" } });

  const search = async (token: string, scope: Record<string, unknown>, query: string, topK: number): Promise<Hit[]> =>
    (await call(token, "/v1/search", { body: { query, top_k: topK, ...scope } })).results;
  const searchAs = async (token: string, scope: Record<string, unknown>) => {
    const ms: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const started = performance.now();
      await search(token, scope, QUERIES[i % QUERIES.length]!, 5);
      ms.push(performance.now() - started);
    }
    // Top 10, so that a scope holding both copies still shows each of the reference's 5 pages.
    return { ms: median(ms), first: await search(token, scope, QUERIES[0]!, 10) };
  };
  const reference = await searchAs(member, { file_ids: [privateCopy] });
  const scenarios = {
    member_default_scope: await searchAs(member, {}),
    member_collection_ids: await searchAs(member, { collection_ids: [handbook] }),
    admin_default_scope: await searchAs(owner, {}),
    api_key_default_scope: await searchAs(key, {}),
  };
  // The share of the reference's top 5 (page and text) among a scenario's top 10: every scope reads the same manual.
  const referenceTop = reference.first.slice(0, 5).map((h) => `${h.page_start}:${h.text}`);
  const overlap = (hits: Hit[]) => referenceTop.filter((p) => hits.some((h) => `${h.page_start}:${h.text}` === p)).length / referenceTop.length;

  const listMs = async (token: string) => {
    const ms: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const started = performance.now();
      await call(token, "/v1/files?limit=20");
      ms.push(performance.now() - started);
    }
    return median(ms);
  };
  const jwtList = await listMs(member);
  const keyList = await listMs(key);

  const erased = await loginAs(api.url, "erased@example.com");
  const erasedId = (await call(erased, "/v1/me")).id as string;
  for (const name of ERASED_DOCUMENTS) await upload(erased, name);
  const erasing = performance.now();
  await call(owner, `/v1/admin/users/${erasedId}`, { method: "DELETE" });
  const erasureMs = performance.now() - erasing;

  return {
    rounds: ROUNDS,
    member_collections: MEMBER_COLLECTIONS + 1,
    search: {
      reference_file_ids_p50_ms: round(reference.ms, 1),
      ...Object.fromEntries(
        Object.entries(scenarios).map(([name, s]) => [
          name,
          { p50_ms: round(s.ms, 1), ratio_to_reference: round(s.ms / reference.ms, 2), reference_top5_found: round(overlap(s.first), 2) },
        ]),
      ),
    },
    list_files: { access_token_p50_ms: round(jwtList, 1), api_key_p50_ms: round(keyList, 1), ratio: round(keyList / jwtList, 2) },
    erasure: { documents: ERASED_DOCUMENTS.length, ms: round(erasureMs, 0) },
  };
});

console.log(JSON.stringify(result));
