/**
 * Recall you can see: measure recall@k of a query configuration against exact search on sample
 * queries, and ask for a recall target instead of raw knobs.
 *
 *   const exact = await buildIndex(kernels, "FLAT", vectors, dim, rowIds, { distanceType });
 *   const { recall } = await estimateRecall(index, sample, exact, { k: 10, params: { nprobes: 20 } });
 *   const tuned = await tuneForRecall(index, sample, exact, 0.95, 10, { fetchVectors });
 *   index.search(q, 10, { ...tuned.params, fetchVectors });
 */
import { createError } from "../../src/errors.js";
import type { SearchOptions, VectorIndex } from "../../src/ann/types.js";

/** Exact top-k row ids for a query: a FLAT index (or any index searched exactly), or a function. */
export type ExactSearch = VectorIndex | ((query: Float32Array, k: number) => Promise<ArrayLike<number>>);

export interface RecallOptions {
  /** Default 10. */
  k?: number;
  /** Search options under test (nprobes, ef, refineFactor + fetchVectors, allowed). */
  params?: SearchOptions;
}

export interface RecallEstimate {
  /** Mean over queries of |found ∩ exact| / |exact|, exact = the true k nearest (allowed) rows. */
  recall: number;
  perQuery: Float32Array;
  k: number;
  /** Mean search time of the index under test. */
  msPerQuery: number;
}

export interface TuneOptions {
  /** Needed to try refine factors > 1. */
  fetchVectors?: SearchOptions["fetchVectors"];
  /** Refine factors to try (default [1, 2, 4, 8] with fetchVectors, else [1]). */
  refineFactors?: number[];
  /** Filter the tuned queries run under (tune for filtered traffic). */
  allowed?: SearchOptions["allowed"];
  /** Largest nprobes / ef to try. Defaults: numPartitions / min(size, 2048). */
  max?: number;
}

export interface TuneResult {
  /** The fastest configuration that reached the target (or the best recall found if none did). */
  params: Pick<SearchOptions, "nprobes" | "ef" | "refineFactor">;
  recall: number;
  msPerQuery: number;
  reached: boolean;
  /** Every configuration measured, in order. */
  tried: { params: Pick<SearchOptions, "nprobes" | "ef" | "refineFactor">; recall: number; msPerQuery: number }[];
}

/** Splits n × dim queries (or takes a list of vectors). */
function queryList(queries: Float32Array | readonly Float32Array[], dim: number): Float32Array[] {
  if (Array.isArray(queries)) return queries as Float32Array[];
  const flat = queries as Float32Array;
  if (flat.length % dim !== 0) throw createError("DIMENSION_MISMATCH", `${flat.length} query values are not whole queries of dimension ${dim}.`, { dim });
  return Array.from({ length: flat.length / dim }, (_, i) => flat.subarray(i * dim, (i + 1) * dim));
}

async function exactRows(exact: ExactSearch, queries: Float32Array[], k: number, allowed: SearchOptions["allowed"]): Promise<Set<number>[]> {
  const out: Set<number>[] = [];
  for (const q of queries) {
    const rows = typeof exact === "function" ? await exact(q, k) : (await exact.search(q, k, { allowed })).rows;
    out.push(new Set(Array.from(rows).slice(0, k)));
  }
  return out;
}

async function measure(index: VectorIndex, queries: Float32Array[], truth: Set<number>[], k: number, params: SearchOptions): Promise<RecallEstimate> {
  const perQuery = new Float32Array(queries.length);
  let ms = 0;
  for (let i = 0; i < queries.length; i++) {
    const start = performance.now();
    const hits = await index.search(queries[i]!, k, params);
    ms += performance.now() - start;
    const want = truth[i]!;
    let hit = 0;
    for (const r of hits.rows) if (want.has(r)) hit++;
    perQuery[i] = want.size === 0 ? 1 : hit / want.size;
  }
  const recall = perQuery.reduce((a, b) => a + b, 0) / Math.max(1, queries.length);
  return { recall, perQuery, k, msPerQuery: ms / Math.max(1, queries.length) };
}

/** recall@k of `index` with `params` on the sample queries, against exact search. */
export async function estimateRecall(index: VectorIndex, queries: Float32Array | readonly Float32Array[], exact: ExactSearch, options: RecallOptions = {}): Promise<RecallEstimate> {
  const k = options.k ?? 10;
  const list = queryList(queries, index.dim);
  const truth = await exactRows(exact, list, k, options.params?.allowed);
  return measure(index, list, truth, k, options.params ?? {});
}

/**
 * The cheapest nprobes (IVF) or ef (HNSW), for each refine factor, whose recall@k on the sample
 * reaches `target`; returns the fastest of those. Recall grows with either knob, so each is found
 * by doubling and then bisecting. The sample should look like real traffic (e.g. 100–200 queries).
 */
export async function tuneForRecall(index: VectorIndex, sampleQueries: Float32Array | readonly Float32Array[], exact: ExactSearch, target = 0.95, k = 10, options: TuneOptions = {}): Promise<TuneResult> {
  if (!(target > 0 && target <= 1)) throw createError("INVALID_ARGUMENT", `The recall target must be in (0, 1], got ${target}.`, { target });
  const list = queryList(sampleQueries, index.dim);
  const truth = await exactRows(exact, list, k, options.allowed);
  const tried: TuneResult["tried"] = [];
  const knob = index.kind.startsWith("IVF") ? "nprobes" : index.kind.startsWith("HNSW") ? "ef" : undefined;
  const factors = options.refineFactors ?? (options.fetchVectors ? [1, 2, 4, 8] : [1]);

  const run = async (params: TuneResult["params"]): Promise<number> => {
    const r = await measure(index, list, truth, k, { ...params, fetchVectors: options.fetchVectors, allowed: options.allowed });
    tried.push({ params, recall: r.recall, msPerQuery: r.msPerQuery });
    return r.recall;
  };

  if (knob === undefined) {
    const recall = await run({});
    const t = tried[0]!;
    return { params: {}, recall, msPerQuery: t.msPerQuery, reached: recall >= target, tried };
  }
  const max = options.max ?? (knob === "nprobes" ? Number(index.stats().params.numPartitions) : Math.min(Math.max(index.size, k), 2048));
  const reachedAt: TuneResult["params"][] = [];
  for (const refineFactor of factors) {
    const at = (v: number): TuneResult["params"] => ({ [knob]: v, ...(refineFactor > 1 ? { refineFactor } : {}) });
    // Doubling until the target is met (or max), then bisect between the last miss and the hit.
    let lo = 0;
    let hi = knob === "ef" ? k : 1;
    for (;;) {
      if ((await run(at(hi))) >= target) break;
      if (hi >= max) {
        hi = -1;
        break;
      }
      lo = hi;
      hi = Math.min(max, hi * 2);
    }
    if (hi < 0) continue;
    while (hi - lo > Math.max(1, Math.floor(hi / 16))) {
      const mid = (lo + hi) >> 1;
      if ((await run(at(mid))) >= target) hi = mid;
      else lo = mid;
    }
    reachedAt.push(at(hi));
  }
  if (reachedAt.length === 0) {
    const best = tried.reduce((a, b) => (b.recall > a.recall || (b.recall === a.recall && b.msPerQuery < a.msPerQuery) ? b : a));
    return { params: best.params, recall: best.recall, msPerQuery: best.msPerQuery, reached: false, tried };
  }
  // Re-measure the candidates side by side (timings from the search above include warm-up).
  let best: TuneResult | undefined;
  for (const params of reachedAt) {
    const r = await measure(index, list, truth, k, { ...params, fetchVectors: options.fetchVectors, allowed: options.allowed });
    if (!best || r.msPerQuery < best.msPerQuery) best = { params, recall: r.recall, msPerQuery: r.msPerQuery, reached: r.recall >= target, tried };
  }
  return best!;
}
