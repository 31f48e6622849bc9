/**
 * The reranker contract, after LanceDB's: a hybrid query hands the reranker the vector results and the
 * full-text results (each already ranked, best first); it returns one list, best first, each row with
 * a `_relevance_score` (higher is better). Vector-only and FTS-only reranking are optional methods.
 *
 * Rows are the query's result rows: the selected columns plus `_rowid` (the identity used to merge
 * the two lists; the hybrid query always asks for it), `_distance` on vector results (lower is better)
 * and `_score` on full-text results (BM25, higher is better). Pass them raw: rerankers that need
 * comparable scores normalize them themselves.
 *
 * A user-defined reranker is any object with these methods, e.g.
 *
 *   const byLength: Reranker = {
 *     async rerankHybrid(query, vec, fts) {
 *       return mergeResults(vec, fts).map((r) => ({ ...r, _relevance_score: -String(r.text).length }))
 *         .sort((a, b) => b._relevance_score - a._relevance_score);
 *     },
 *   };
 */
import type { Row } from "../data/rows.js";

export type RowId = number | bigint;

/** A result row handed to a reranker. */
export type RerankInputRow = Row & {
  readonly _rowid?: RowId;
  readonly _distance?: number;
  readonly _score?: number;
};

/** A reranked row: the input row's columns plus `_relevance_score`. */
export type RerankedRow = Row & { _relevance_score: number };

/**
 * `"relevance"` (default, as LanceDB): output rows keep their columns and `_relevance_score` and drop
 * `_distance` / `_score`. `"all"`: they also keep `_distance` and `_score` as received (null where
 * the row came from only one of the two searches).
 */
export type ReturnScore = "relevance" | "all";

export interface Reranker {
  /** Fuses vector and full-text results into one ranking. */
  rerankHybrid(query: string, vectorResults: readonly RerankInputRow[], ftsResults: readonly RerankInputRow[]): Promise<RerankedRow[]>;
  /** Reranks vector-search results alone (optional; a query without it rejects `.rerank()` on a vector search). */
  rerankVector?(query: string, vectorResults: readonly RerankInputRow[]): Promise<RerankedRow[]>;
  /** Reranks full-text results alone (optional). */
  rerankFts?(query: string, ftsResults: readonly RerankInputRow[]): Promise<RerankedRow[]>;
}
