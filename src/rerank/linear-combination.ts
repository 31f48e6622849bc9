/**
 * A weighted sum of normalized vector and full-text relevance, as LanceDB's LinearCombinationReranker
 * (with the fix of lancedb/lancedb#3437, which made both parts "higher is better"):
 *
 *   vectorSim = 1 − minmax(_distance)        over the vector results (closest → 1, farthest → 0)
 *   ftsSim    = minmax(_score)               over the full-text results (best → 1, worst → 0)
 *   _relevance_score = weight · vectorSim + (1 − weight) · ftsSim
 *
 * A row found by only one search gets 1 − fill for the missing part (fill = 1, the default, makes it
 * 0: a full penalty). Min-max is taken within each list, so the figures are relative to this query's
 * candidates; when all values of a list are equal every row of it gets 1. Any distance metric works
 * (L2, cosine, dot as LanceDB reports them: lower is closer).
 */
import { createError } from "../errors.js";
import { checkReturnScore, finish, mergeResults, minMaxNormalize, scoreOf } from "./merge.js";
import type { RerankedRow, Reranker, RerankInputRow, ReturnScore, RowId } from "./types.js";

const orZero = (v: number | undefined): number => (v === undefined || Number.isNaN(v) ? 0 : v);

export interface LinearCombinationOptions {
  /** Weight of the vector similarity, 0..1 (default 0.7); full text gets 1 − weight. */
  weight?: number;
  /** Penalty for a missing part: it counts as 1 − fill. 0..1, default 1. */
  fill?: number;
  returnScore?: ReturnScore;
}

export class LinearCombinationReranker implements Reranker {
  readonly weight: number;
  readonly fill: number;
  readonly returnScore: ReturnScore;

  constructor(options: LinearCombinationOptions | number = {}) {
    const o = typeof options === "number" ? { weight: options } : (options ?? {});
    const weight = o.weight ?? 0.7;
    const fill = o.fill ?? 1;
    if (typeof weight !== "number" || !(weight >= 0 && weight <= 1)) throw createError("INVALID_ARGUMENT", `weight must be in 0..1, got ${String(weight)}.`);
    if (typeof fill !== "number" || !(fill >= 0 && fill <= 1)) throw createError("INVALID_ARGUMENT", `fill must be in 0..1, got ${String(fill)}.`);
    this.weight = weight;
    this.fill = fill;
    this.returnScore = checkReturnScore(o.returnScore ?? "relevance");
  }

  static async create(options: LinearCombinationOptions | number = {}): Promise<LinearCombinationReranker> {
    return new LinearCombinationReranker(options);
  }

  /** Row id → similarity in 0..1 (NaN when the row's value was missing). */
  private static similarities(rows: readonly RerankInputRow[], column: "_distance" | "_score"): Map<RowId, number> {
    const norm = minMaxNormalize(rows.map((r) => scoreOf(r, column)), column === "_distance" ? 0 : 1);
    const out = new Map<RowId, number>();
    rows.forEach((r, i) => {
      const id = r._rowid!;
      if (!out.has(id)) out.set(id, column === "_distance" ? 1 - norm[i]! : norm[i]!);
    });
    return out;
  }

  async rerankHybrid(_query: string, vectorResults: readonly RerankInputRow[], ftsResults: readonly RerankInputRow[]): Promise<RerankedRow[]> {
    const merged = mergeResults(vectorResults, ftsResults);
    const vec = LinearCombinationReranker.similarities(vectorResults, "_distance");
    const fts = LinearCombinationReranker.similarities(ftsResults, "_score");
    const missing = 1 - this.fill;
    const part = (m: Map<RowId, number>, id: RowId): number => {
      const v = m.get(id);
      return v === undefined || Number.isNaN(v) ? missing : v;
    };
    const relevance = merged.map((r) => this.weight * part(vec, r._rowid!) + (1 - this.weight) * part(fts, r._rowid!));
    return finish(merged, relevance, this.returnScore);
  }

  /** Vector results alone: relevance = 1 − minmax(_distance). */
  async rerankVector(_query: string, vectorResults: readonly RerankInputRow[]): Promise<RerankedRow[]> {
    const merged = mergeResults(vectorResults, []);
    const vec = LinearCombinationReranker.similarities(vectorResults, "_distance");
    return finish(merged, merged.map((r) => orZero(vec.get(r._rowid!))), this.returnScore);
  }

  /** Full-text results alone: relevance = minmax(_score). */
  async rerankFts(_query: string, ftsResults: readonly RerankInputRow[]): Promise<RerankedRow[]> {
    const merged = mergeResults([], ftsResults);
    const fts = LinearCombinationReranker.similarities(ftsResults, "_score");
    return finish(merged, merged.map((r) => orZero(fts.get(r._rowid!))), this.returnScore);
  }
}
