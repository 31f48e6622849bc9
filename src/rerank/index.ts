/**
 * Rerankers for hybrid (vector + full-text) search, published as the `rerankers` namespace:
 * `await rerankers.RRFReranker.create()`.
 */
export { RRFReranker } from "./rrf.js";
export { LinearCombinationReranker } from "./linear-combination.js";
export type { LinearCombinationOptions } from "./linear-combination.js";
export { PairScoreReranker } from "./pair-score.js";
export type { PairScorer, PairScoreRerankerOptions } from "./pair-score.js";
export { mergeResults, minMaxNormalize } from "./merge.js";
export type { Reranker, RerankInputRow, RerankedRow, ReturnScore, RowId } from "./types.js";
export { CrossEncoderReranker } from "./cross-encoder.js";
export type { CrossEncoderOptions } from "./cross-encoder.js";
