/**
 * Reciprocal Rank Fusion (Cormack, Clarke & Büttcher, SIGIR 2009): each list a row appears in adds
 * 1 / (k + rank). Only positions count, so distances and BM25 scores need no normalization.
 *
 * rank is 0 for the first result, as in LanceDB's TypeScript SDK (its Rust RRFReranker); LanceDB's
 * Python hybrid path counts from 1. With k = 60 a row first in both lists scores 2/60.
 */
import { createError } from "../errors.js";
import { checkReturnScore, finish, mergeResults, rankedIds } from "./merge.js";
import type { RerankedRow, Reranker, RerankInputRow, ReturnScore, RowId } from "./types.js";

export class RRFReranker implements Reranker {
  readonly k: number;
  readonly returnScore: ReturnScore;

  /**
   * @param k smoothing constant (> 0, default 60). Smaller k rewards the top of each list more;
   *          larger k flattens the curve so agreement between the lists matters more than position.
   */
  constructor(k = 60, returnScore: ReturnScore = "relevance") {
    if (typeof k !== "number" || !Number.isFinite(k) || k <= 0) throw createError("INVALID_ARGUMENT", `RRF k must be a finite number > 0, got ${String(k)}.`);
    this.k = k;
    this.returnScore = checkReturnScore(returnScore);
  }

  /** LanceDB's factory: `await RRFReranker.create()`. */
  static async create(k = 60, returnScore: ReturnScore = "relevance"): Promise<RRFReranker> {
    return new RRFReranker(k, returnScore);
  }

  private add(scores: Map<RowId, number>, ids: readonly RowId[]): void {
    ids.forEach((id, rank) => scores.set(id, (scores.get(id) ?? 0) + 1 / (this.k + rank)));
  }

  async rerankHybrid(_query: string, vectorResults: readonly RerankInputRow[], ftsResults: readonly RerankInputRow[]): Promise<RerankedRow[]> {
    const scores = new Map<RowId, number>();
    this.add(scores, rankedIds(vectorResults, "vector"));
    this.add(scores, rankedIds(ftsResults, "full-text"));
    const merged = mergeResults(vectorResults, ftsResults);
    return finish(merged, merged.map((r) => scores.get(r._rowid!)!), this.returnScore);
  }

  async rerankVector(_query: string, vectorResults: readonly RerankInputRow[]): Promise<RerankedRow[]> {
    return this.rerankHybrid(_query, vectorResults, []);
  }

  async rerankFts(_query: string, ftsResults: readonly RerankInputRow[]): Promise<RerankedRow[]> {
    return this.rerankHybrid(_query, [], ftsResults);
  }
}
