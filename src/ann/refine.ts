/**
 * Re-ranking: an index returns k × refineFactor candidates by approximate distance; their full
 * vectors are read back through the caller's `fetchVectors` (the table reads them from storage)
 * and the k nearest by exact distance are kept.
 */
import { createError } from "../errors.js";
import type { Kernels } from "../kernels/kernels.js";
import { exactDistances } from "../kernels/scan.js";
import { checkPositiveInt } from "./common.js";
import type { DistanceType, SearchHits, SearchOptions } from "./types.js";

/** How many candidates to collect before re-ranking (k when there is no re-rank). */
export function candidateCount(k: number, options: SearchOptions | undefined): number {
  const factor = checkPositiveInt(options?.refineFactor, "refineFactor", 1, 1 << 16);
  if (factor > 1 && typeof options?.fetchVectors !== "function") {
    throw createError("INVALID_ARGUMENT", "refineFactor > 1 re-ranks with full vectors: pass fetchVectors(rowIds) in the search options.");
  }
  return k * factor;
}

export function emptyHits(): SearchHits {
  return { rows: new Float64Array(0), positions: new Int32Array(0), distances: new Float32Array(0) };
}

/** Exact distances from `query` (as the caller gave it) to the candidates; the k nearest. */
export async function refine(kernels: Kernels, metric: DistanceType, dim: number, query: Float32Array, hits: SearchHits, k: number, options: SearchOptions): Promise<SearchHits> {
  if (hits.rows.length === 0) return hits;
  const vectors = await options.fetchVectors!(hits.rows);
  if (!(vectors instanceof Float32Array) || vectors.length !== hits.rows.length * dim) {
    throw createError("DIMENSION_MISMATCH", `fetchVectors returned ${vectors?.length} values for ${hits.rows.length} rows of dimension ${dim}.`, { expected: hits.rows.length * dim, actual: vectors?.length });
  }
  const exact = exactDistances(kernels, metric, query, vectors, dim);
  const order = Array.from(exact.keys()).sort((a, b) => exact[a]! - exact[b]! || a - b).slice(0, k);
  return {
    rows: Float64Array.from(order, (i) => hits.rows[i]!),
    positions: Int32Array.from(order, (i) => hits.positions[i]!),
    distances: Float32Array.from(order, (i) => exact[i]!),
  };
}
