/**
 * Rerankers that score each (query, document text) pair with a model: the shape of a cross-encoder.
 * `PairScoreReranker` does the merging, batching, checking and sorting; the model is a `PairScorer`.
 * The transformers.js `CrossEncoderReranker` plugs a text-classification pipeline in here, and so can
 * any remote reranking API.
 *
 *   const r = new PairScoreReranker({ column: "text", scorer: async (q, docs) => myModel.score(q, docs) });
 */
import { createError } from "../errors.js";
import { checkReturnScore, finish, mergeResults } from "./merge.js";
import type { RerankedRow, Reranker, RerankInputRow, ReturnScore } from "./types.js";

/** Relevance of each document to the query, higher is better; `documents.length` numbers. */
export type PairScorer = (query: string, documents: readonly string[]) => Promise<ArrayLike<number>>;

export interface PairScoreRerankerOptions {
  scorer: PairScorer;
  /** The column holding each row's text (default "text"); every row must have it. */
  column?: string;
  /** Documents per scorer call (default 32): bounds the model's batch memory. */
  batchSize?: number;
  returnScore?: ReturnScore;
}

export class PairScoreReranker implements Reranker {
  readonly column: string;
  readonly batchSize: number;
  readonly returnScore: ReturnScore;
  private readonly scorer: PairScorer;

  constructor(options: PairScoreRerankerOptions) {
    if (!options || typeof options.scorer !== "function") throw createError("INVALID_ARGUMENT", "PairScoreReranker needs a scorer function (query, documents) => scores.");
    this.scorer = options.scorer;
    this.column = options.column ?? "text";
    this.batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw createError("INVALID_ARGUMENT", `batchSize must be an integer >= 1, got ${String(options.batchSize)}.`);
    this.returnScore = checkReturnScore(options.returnScore ?? "relevance");
  }

  private async rank(query: string, rows: readonly RerankInputRow[]): Promise<RerankedRow[]> {
    const texts = rows.map((r, i) => {
      const v = r[this.column];
      if (typeof v !== "string") {
        throw createError("INVALID_ARGUMENT", `Reranking reads column "${this.column}", which result ${i} ${v === undefined ? "does not have (select it)" : "holds as " + typeof v}.`, { column: this.column, row: i });
      }
      return v;
    });
    const scores = new Float64Array(texts.length);
    for (let at = 0; at < texts.length; at += this.batchSize) {
      const batch = texts.slice(at, at + this.batchSize);
      const got = await this.scorer(query, batch);
      if (!got || got.length !== batch.length) throw createError("INVALID_ARGUMENT", `The reranker's scorer returned ${got?.length ?? "no"} scores for ${batch.length} documents.`);
      for (let i = 0; i < batch.length; i++) {
        const s = Number(got[i]);
        if (!Number.isFinite(s)) throw createError("INVALID_ARGUMENT", `The reranker's scorer returned ${String(got[i])} for document ${at + i}.`);
        scores[at + i] = s;
      }
    }
    return finish(rows, scores, this.returnScore);
  }

  async rerankHybrid(query: string, vectorResults: readonly RerankInputRow[], ftsResults: readonly RerankInputRow[]): Promise<RerankedRow[]> {
    return this.rank(query, mergeResults(vectorResults, ftsResults));
  }

  async rerankVector(query: string, vectorResults: readonly RerankInputRow[]): Promise<RerankedRow[]> {
    return this.rank(query, mergeResults(vectorResults, []));
  }

  async rerankFts(query: string, ftsResults: readonly RerankInputRow[]): Promise<RerankedRow[]> {
    return this.rank(query, mergeResults([], ftsResults));
  }
}
