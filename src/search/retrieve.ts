// Retrieval as POST /v1/search and the chat both do it: embed the query (its tokens are metered), hybrid search,
// then, when asked, the rerank of the fused candidates.
import type OpenAI from "openai";
import { embedTexts } from "../ai/embeddings.ts";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { usageInsert } from "../usage/record.ts";
import { hybridSearch, type SearchQuery, type SearchScope } from "./hybrid.ts";
import { type RankedHit, rerank } from "./rerank.ts";

export interface RetrieveOptions {
  topK: number;
  mode?: SearchQuery["mode"];
  /** Rerank the fused top RERANK_CANDIDATES (RERANK_MODEL must not be off) and keep the best topK of them. */
  rerank?: boolean;
  signal?: AbortSignal;
}

/** `text` is already normalised (normalizeQuery). */
export async function retrieve(
  config: Config,
  db: Db,
  openai: OpenAI,
  scope: SearchScope,
  text: string,
  options: RetrieveOptions,
): Promise<RankedHit[]> {
  const who = { tenantId: scope.reader.tenantId, userId: scope.reader.id };
  const { vectors, tokens } = await embedTexts(openai, config.EMBEDDING_MODEL, [text]);
  await usageInsert(db, { ...who, kind: "embedding", model: config.EMBEDDING_MODEL, embeddingTokens: tokens });
  const topK = options.rerank ? Math.max(config.RERANK_CANDIDATES, options.topK) : options.topK;
  const hits = await hybridSearch(db, scope, {
    text,
    vector: vectors[0]!,
    topK,
    mode: options.mode,
    exactScanMaxChunks: config.SEARCH_EXACT_SCAN_MAX_CHUNKS,
  });
  return options.rerank ? rerank(config, db, openai, who, text, hits, options.topK, options.signal) : hits;
}
