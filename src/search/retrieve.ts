// Retrieval as POST /v1/search and the chat both do it: embed the query (its tokens are metered), then hybrid search.
import type OpenAI from "openai";
import { embedTexts } from "../ai/embeddings.ts";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { usageInsert } from "../usage/record.ts";
import { hybridSearch, type SearchHit, type SearchScope } from "./hybrid.ts";

/** `text` is already normalised (normalizeQuery). */
export async function retrieve(config: Config, db: Db, openai: OpenAI, scope: SearchScope, text: string, topK: number): Promise<SearchHit[]> {
  const { vectors, tokens } = await embedTexts(openai, config.EMBEDDING_MODEL, [text]);
  await usageInsert(db, {
    tenantId: scope.reader.tenantId,
    userId: scope.reader.id,
    kind: "embedding",
    model: config.EMBEDDING_MODEL,
    embeddingTokens: tokens,
  });
  return hybridSearch(db, scope, { text, vector: vectors[0]!, topK, exactScanMaxChunks: config.SEARCH_EXACT_SCAN_MAX_CHUNKS });
}
