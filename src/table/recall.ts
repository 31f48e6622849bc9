/**
 * Recall you can see: measure recall@k of a search configuration against exact search on sample
 * queries, and find the cheapest knobs (nprobes / ef / refineFactor) that reach a target. Samples
 * are the table's own vectors (the query row itself is left out of both result lists), or queries
 * the caller gives. Everything runs through the table's own query path, so rows added after the
 * index was built, deletions and filters count exactly as in real queries.
 */
import { createError } from "../errors.js";
import type { Row } from "../data/rows.js";
import type { QueryPlan, QueryVector, VectorPlan } from "../query/plan.js";
import type { IndexEntry } from "../storage/manifest.js";

export interface RecallOptions {
  /** Vector column; default the table's only one (or "vector"). */
  column?: string;
  /** Default 10. */
  k?: number;
  /** Sample queries: how many of the table's own vectors to use (default 100), or the vectors themselves. */
  queries?: number | readonly QueryVector[];
  distanceType?: VectorPlan["distanceType"];
  nprobes?: number;
  ef?: number;
  refineFactor?: number;
  /** A filter applied to both the approximate and the exact search. */
  where?: string;
}

export interface RecallEstimate {
  /** Mean recall@k against exact search. */
  recall: number;
  k: number;
  queries: number;
  params: { nprobes?: number; ef?: number; refineFactor?: number };
  /** Mean wall time per query, approximate and exact. */
  msPerQuery: number;
  exactMsPerQuery: number;
}

export interface TuneOptions extends Omit<RecallOptions, "nprobes" | "ef" | "refineFactor"> {
  /** Recall@k to reach. Default 0.95. */
  target?: number;
}

export interface TuneResult extends RecallEstimate {
  /** Whether `target` was reached; if not, `params` are the best tried. */
  reached: boolean;
  target: number;
  /** Every configuration measured, in order. */
  tried: RecallEstimate[];
}

/** Runs a plan against the table (its own `execute`). */
export type RunPlan = (plan: QueryPlan) => Promise<Row[]>;

interface Sample {
  vector: QueryVector;
  /** `_rowid` of the row the vector came from, left out of both lists; undefined for given queries. */
  self?: number;
  exact: Set<number>;
}

const IVF_PROBES = [1, 2, 3, 4, 6, 8, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512];
const HNSW_EF = [10, 16, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512, 768, 1024];

function vectorPlan(base: Partial<VectorPlan>, vector: QueryVector): VectorPlan {
  return { postfilter: false, bypassVectorIndex: false, fastSearch: false, ...base, queries: [vector] };
}

async function samples(run: RunPlan, o: RecallOptions, k: number): Promise<Sample[]> {
  const given = Array.isArray(o.queries) ? (o.queries as readonly QueryVector[]) : undefined;
  const count = given ? given.length : ((o.queries as number | undefined) ?? 100);
  if (!Number.isInteger(count) || count < 1) throw createError("INVALID_ARGUMENT", `Recall needs at least one sample query, got ${String(o.queries)}.`);
  let picks: { vector: QueryVector; self?: number }[];
  if (given) {
    picks = given.map((vector) => ({ vector }));
  } else {
    const rows = await run({ offset: 0, withRowId: true, select: [o.column ?? "vector"], ...(o.where ? { filter: o.where } : {}) });
    const withVectors = rows.filter((r) => r[o.column ?? "vector"] != null);
    if (withVectors.length === 0) throw createError("INVALID_ARGUMENT", "The table has no vectors to sample queries from.");
    // Evenly spaced rows: deterministic, and spread over the table's fragments.
    const step = withVectors.length / Math.min(count, withVectors.length);
    picks = Array.from({ length: Math.min(count, withVectors.length) }, (_, i) => {
      const r = withVectors[Math.floor(i * step)]!;
      return { vector: r[o.column ?? "vector"] as QueryVector, self: r._rowid as number };
    });
  }
  const out: Sample[] = [];
  for (const p of picks) {
    const hits = await run(exactPlan(o, p.vector, k + (p.self === undefined ? 0 : 1)));
    out.push({ ...p, exact: new Set(ids(hits, p.self).slice(0, k)) });
  }
  return out;
}

function exactPlan(o: RecallOptions, vector: QueryVector, limit: number): QueryPlan {
  return {
    offset: 0, limit, withRowId: true, select: [],
    ...(o.where ? { filter: o.where } : {}),
    vector: vectorPlan({ column: o.column, distanceType: o.distanceType, bypassVectorIndex: true }, vector),
  };
}

function ids(rows: Row[], self: number | undefined): number[] {
  return rows.map((r) => r._rowid as number).filter((id) => id !== self);
}

async function measure(run: RunPlan, o: RecallOptions, sample: Sample[], k: number, params: RecallEstimate["params"]): Promise<RecallEstimate> {
  let hit = 0;
  let total = 0;
  const t0 = performance.now();
  for (const s of sample) {
    const plan: QueryPlan = {
      offset: 0, limit: k + (s.self === undefined ? 0 : 1), withRowId: true, select: [],
      ...(o.where ? { filter: o.where } : {}),
      vector: vectorPlan({ column: o.column, distanceType: o.distanceType, ...params }, s.vector),
    };
    const found = ids(await run(plan), s.self).slice(0, k);
    for (const id of found) if (s.exact.has(id)) hit++;
    total += Math.min(k, s.exact.size);
  }
  const ms = (performance.now() - t0) / sample.length;
  return { recall: total === 0 ? 1 : hit / total, k, queries: sample.length, params, msPerQuery: ms, exactMsPerQuery: 0 };
}

export async function estimateRecall(run: RunPlan, o: RecallOptions = {}): Promise<RecallEstimate> {
  const k = o.k ?? 10;
  const t0 = performance.now();
  const sample = await samples(run, o, k);
  const exactMs = (performance.now() - t0) / sample.length;
  const params = { ...(o.nprobes ? { nprobes: o.nprobes } : {}), ...(o.ef ? { ef: o.ef } : {}), ...(o.refineFactor ? { refineFactor: o.refineFactor } : {}) };
  return { ...(await measure(run, o, sample, k, params)), exactMsPerQuery: exactMs };
}

/** The smallest knobs that reach `target` recall on the sample, cheapest first. */
export async function tuneRecall(run: RunPlan, entry: IndexEntry | undefined, o: TuneOptions = {}): Promise<TuneResult> {
  const target = o.target ?? 0.95;
  if (!(target > 0 && target <= 1)) throw createError("INVALID_ARGUMENT", `A recall target must be in (0, 1], got ${String(target)}.`);
  const k = o.k ?? 10;
  const t0 = performance.now();
  const sample = await samples(run, o, k);
  const exactMs = (performance.now() - t0) / sample.length;
  const tried: RecallEstimate[] = [];
  const done = (best: RecallEstimate, reached: boolean): TuneResult => ({ ...best, exactMsPerQuery: exactMs, reached, target, tried });
  if (entry === undefined) {
    const exact = await measure(run, o, sample, k, {});
    tried.push(exact);
    return done(exact, exact.recall >= target);
  }
  const isHnsw = entry.kind.startsWith("HNSW");
  const quantized = entry.kind.endsWith("_PQ") || entry.kind.endsWith("_SQ");
  const refines = quantized ? [1, 2, 4, 8] : [1];
  const partitions = Number(entry.params.numPartitions ?? Infinity);
  const knobs = isHnsw ? HNSW_EF.filter((ef) => ef >= k) : IVF_PROBES.filter((p) => p <= partitions || p === IVF_PROBES[0]);
  let best: RecallEstimate | undefined;
  let winner: RecallEstimate | undefined;
  for (const refineFactor of refines) {
    // For each refine factor, the smallest knob that reaches the target (recall rises with the knob).
    for (const knob of knobs) {
      const params = { ...(isHnsw ? { ef: knob } : { nprobes: knob }), ...(refineFactor > 1 ? { refineFactor } : {}) };
      const r = await measure(run, o, sample, k, params);
      tried.push(r);
      if (best === undefined || r.recall > best.recall) best = r;
      if (r.recall >= target) {
        if (winner === undefined || r.msPerQuery < winner.msPerQuery) winner = r;
        break;
      }
    }
  }
  return winner ? done(winner, true) : done(best!, false);
}
