/**
 * Pieces every reranker shares: merging the two result lists by `_rowid`, min-max normalization,
 * and the final sort.
 */
import { createError } from "../errors.js";
import type { RerankedRow, RerankInputRow, ReturnScore, RowId } from "./types.js";

function rowId(row: RerankInputRow, list: string, i: number): RowId {
  const id = row?._rowid;
  if (typeof id !== "number" && typeof id !== "bigint") {
    throw createError(
      "INVALID_ARGUMENT",
      `Reranking needs _rowid on every result; ${list} result ${i} has ${id === undefined ? "none" : typeof id}. Ask the query for row ids (withRowId()).`,
      { row: i },
    );
  }
  return id;
}

/** Row ids of one ranked list, first occurrence only, in order. */
export function rankedIds(rows: readonly RerankInputRow[], list: string): RowId[] {
  const seen = new Set<RowId>();
  const out: RowId[] = [];
  rows.forEach((r, i) => {
    const id = rowId(r, list, i);
    if (!seen.has(id)) {
      seen.add(id);
      out.push(id);
    }
  });
  return out;
}

/**
 * One row per `_rowid`: the vector rows in their order, then full-text rows not seen yet in theirs.
 * A row found by both searches is the vector row with the full-text row's `_score` (and any column
 * the vector row lacks). A repeated `_rowid` within one list keeps its first occurrence. Input rows
 * are not modified.
 */
export function mergeResults(vectorResults: readonly RerankInputRow[], ftsResults: readonly RerankInputRow[]): RerankInputRow[] {
  const byId = new Map<RowId, Record<string, unknown>>();
  vectorResults.forEach((r, i) => {
    const id = rowId(r, "vector", i);
    if (!byId.has(id)) byId.set(id, { ...r });
  });
  const fromFts = new Set<RowId>();
  ftsResults.forEach((r, i) => {
    const id = rowId(r, "full-text", i);
    if (fromFts.has(id)) return;
    fromFts.add(id);
    const have = byId.get(id);
    if (!have) byId.set(id, { ...r });
    else for (const [k, v] of Object.entries(r)) if (k === "_score" || !(k in have)) have[k] = v;
  });
  return [...byId.values()] as RerankInputRow[];
}

/**
 * Min-max normalization to 0..1 (min → 0, max → 1). Non-finite entries stay NaN and do not count.
 * When every finite value is the same (within 1e-9 relative) they all become `flat`: rerankers pass
 * the value that means "best of its list" (1 for scores, 0 for distances). LanceDB divides by max
 * instead and gets 0 either way, which ranks a lone FTS hit as "no match".
 */
export function minMaxNormalize(values: ArrayLike<number>, flat = 1): Float64Array {
  const out = new Float64Array(values.length);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const range = hi - lo;
  const isFlat = !(range > 1e-9 * Math.max(1, Math.abs(hi), Math.abs(lo)));
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out[i] = !Number.isFinite(v) ? NaN : isFlat ? flat : (v - lo) / range;
  }
  return out;
}

/** A finite number or NaN (for absent, null or non-numeric scores). */
export function scoreOf(row: RerankInputRow, column: "_distance" | "_score"): number {
  const v = row[column];
  return typeof v === "number" && Number.isFinite(v) ? v : NaN;
}

/**
 * Attaches `relevance[i]` to `rows[i]`, applies `returnScore`, and sorts best first. The sort is
 * stable: equal scores keep the merged order (vector results first).
 */
export function finish(rows: readonly RerankInputRow[], relevance: ArrayLike<number>, returnScore: ReturnScore): RerankedRow[] {
  const out = rows.map((r, i) => {
    const o: Record<string, unknown> = { ...r };
    if (returnScore === "relevance") {
      delete o._distance;
      delete o._score;
    } else {
      o._distance ??= null;
      o._score ??= null;
    }
    o._relevance_score = relevance[i]!;
    return o as RerankedRow;
  });
  return out.sort((a, b) => b._relevance_score - a._relevance_score);
}

export function checkReturnScore(v: unknown): ReturnScore {
  if (v !== "relevance" && v !== "all") throw createError("INVALID_ARGUMENT", `returnScore must be "relevance" or "all", got ${String(v)}.`);
  return v;
}
