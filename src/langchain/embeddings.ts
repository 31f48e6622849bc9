/**
 * A Quiver embedding function (src/embeddings: transformers.js, OpenAI-compatible, your own) as
 * LangChain `Embeddings`, so one model serves both a Quiver table's `search(text)` and a LangChain
 * chain.
 */
import { Embeddings, type EmbeddingsParams } from "@langchain/core/embeddings";
import type { EmbeddingFunction } from "../embeddings/types.js";

export class QuiverEmbeddings extends Embeddings {
  constructor(readonly fn: EmbeddingFunction, params: EmbeddingsParams = {}) {
    super(params);
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    const vectors = await this.caller.call(() => this.fn.computeSourceEmbeddings(texts));
    return vectors.map((v) => Array.from(v));
  }

  async embedQuery(text: string): Promise<number[]> {
    return Array.from(await this.caller.call(() => this.fn.computeQueryEmbeddings(text)));
  }
}
