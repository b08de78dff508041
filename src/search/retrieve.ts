// Retrieval as POST /v1/search and the chat both do it: embed the query (its tokens are metered), hybrid search,
// then, when asked, the rerank of the fused candidates.
import type OpenAI from "openai";
import { embedTexts } from "../ai/embeddings.ts";
import type { Config } from "../config.ts";
import type { UsageStores } from "../usage/quota.ts";
import { recordUsageWith, type UsageEvent } from "../usage/record.ts";
import { hybridSearch, type SearchQuery, type SearchScope, type Statement } from "./hybrid.ts";
import { type RankedHit, rerank } from "./rerank.ts";

export interface RetrieveOptions {
  topK: number;
  mode?: SearchQuery["mode"];
  /** Rerank the fused top RERANK_CANDIDATES (RERANK_MODEL must not be off) and keep the best topK of them. */
  rerank?: boolean;
  signal?: AbortSignal;
  /** Usage already spent on this query (the chat's rewrite of it), written with the embedding's. */
  usage?: UsageEvent[];
  /** Writes that belong with this search (the chat's question), in its transaction; they are written however it ends. */
  writes?: Statement[];
  /**
   * Takes the rerank's usage instead of inserting it after the search: for the chat, which writes it with the
   * answer's, so nothing is written between the search and the model call. The caller must write it however it ends.
   */
  recordRerank?: (event: UsageEvent) => void;
}

/**
 * `text` is already normalised (normalizeQuery). The query's usage and `writes` go to the database in the search's
 * own transaction: one round trip for all of it. When the embedding or the search fails they are written without
 * it, in two transactions (one failing cannot take the other with it), before the failure is passed on.
 */
export async function retrieve(
  config: Config,
  stores: UsageStores,
  openai: OpenAI,
  scope: SearchScope,
  text: string,
  options: RetrieveOptions,
): Promise<RankedHit[]> {
  const who = { tenantId: scope.reader.tenantId, userId: scope.reader.id };
  const usage = [...(options.usage ?? [])];
  const writes = options.writes ?? [];
  const topK = options.rerank ? Math.max(config.RERANK_CANDIDATES, options.topK) : options.topK;
  let hits: RankedHit[];
  try {
    const { vectors, tokens } = await embedTexts(openai, config.EMBEDDING_MODEL, [text]);
    usage.push({ ...who, kind: "embedding", model: config.EMBEDDING_MODEL, embeddingTokens: tokens });
    const query = {
      text,
      vector: vectors[0]!,
      topK,
      mode: options.mode,
      exactScanMaxChunks: config.SEARCH_EXACT_SCAN_MAX_CHUNKS,
      efSearch: config.SEARCH_HNSW_EF_SEARCH,
    };
    hits = await recordUsageWith(stores, usage, (inserts) => hybridSearch(stores.db, scope, query, [...inserts, ...writes]));
  } catch (err) {
    await writeAlone(stores, usage, writes);
    throw err;
  }
  return options.rerank ? rerank(config, stores, openai, who, text, hits, options.topK, options.signal, options.recordRerank) : hits;
}

/** Each in its own transaction; a failure is logged, as the search's own failure is what the caller reports. */
async function writeAlone(stores: UsageStores, usage: UsageEvent[], writes: Statement[]) {
  const inTransaction = (statements: Statement[]) => (statements.length ? stores.db.$client.transaction(statements) : Promise.resolve([]));
  const results = await Promise.allSettled([recordUsageWith(stores, usage, inTransaction), inTransaction(writes)]);
  for (const r of results)
    if (r.status === "rejected")
      console.error(JSON.stringify({ level: "error", msg: "writes of a failed search not stored", error: String(r.reason) }));
}
