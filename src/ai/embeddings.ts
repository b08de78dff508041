// Embeddings in batches, 1536 dimensions, with the tokens they cost.
import type OpenAI from "openai";
import { EMBEDDING_DIMENSIONS } from "../db/schema.ts";

/** Inputs per request: well under the API's 2048, and small enough to keep one request's payload modest. */
const BATCH_SIZE = 96;

export interface Embedded {
  vectors: number[][];
  tokens: number;
}

export async function embedTexts(openai: OpenAI, model: string, texts: string[]): Promise<Embedded> {
  const vectors: number[][] = [];
  let tokens = 0;
  for (let i = 0; i < texts.length; i += BATCH_SIZE) {
    const res = await openai.embeddings.create({ model, input: texts.slice(i, i + BATCH_SIZE), dimensions: EMBEDDING_DIMENSIONS });
    // The API may answer out of order; `index` says which input each vector belongs to.
    for (const item of [...res.data].sort((a, b) => a.index - b.index)) vectors.push(item.embedding);
    tokens += res.usage.prompt_tokens;
  }
  return { vectors, tokens };
}
