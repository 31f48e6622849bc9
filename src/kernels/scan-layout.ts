/**
 * How a search lays out its targets, shared by `Kernels` and the scan pool so both validate
 * alike and fail with the same codes: every target's rows end to end (`start` = offset of its first
 * distance), and a batch of queries split into one vector per query.
 */
import { createError } from "../errors.js";
import type { Block } from "./block.js";
import type { Metric, QueryVector, SearchTarget, VectorBlock } from "./types.js";
import { checkDim, checkIds, checkMetric } from "./validate.js";

export interface Scan {
  block: Block;
  ids: Int32Array | undefined;
  /** Offset of this target's distances in the end-to-end layout, in elements. */
  start: number;
  count: number;
}

/** Rows one search can scan at most (distances are laid out end to end in WASM memory). */
const MAX_ROWS = 2 ** 28;

/**
 * Validates `targets` for a search of `metric` at `dim` and lays their rows end to end. `own` checks
 * a target's block belongs to the caller's kernels (and is not freed) and returns it.
 */
export function planScans(metric: Metric, targets: readonly SearchTarget[], dim: number, own: (block: VectorBlock | undefined, target: number) => Block): Scan[] {
  checkDim(dim);
  if (!Array.isArray(targets)) throw createError("INVALID_ARGUMENT", "targets must be an array of { block, ids? }.");
  const scans: Scan[] = [];
  let start = 0;
  targets.forEach((t, i) => {
    const block = own(t?.block, i);
    const rows = block.bindDim(dim);
    if (rows === undefined) {
      const actual = block.dim === undefined ? `${block.length} values, not a multiple of ${dim}` : `vectors of dimension ${block.dim}`;
      throw createError("DIMENSION_MISMATCH", `Target ${i} holds ${actual}, but the search uses dimension ${dim}.`, { target: i, expected: dim, actual: block.dim });
    }
    if (scans.length > 0 && block.element !== scans[0]!.block.element) {
      throw createError("INVALID_ARGUMENT", `Target ${i} holds ${block.element} vectors but target 0 holds ${scans[0]!.block.element}; one search scans one element type.`, { target: i });
    }
    checkMetric(metric, block.element);
    if (t.ids !== undefined) checkIds(t.ids, rows, i);
    const count = t.ids ? t.ids.length : rows;
    scans.push({ block, ids: t.ids, start, count });
    start += count;
  });
  if (start > MAX_ROWS) throw createError("INVALID_ARGUMENT", `One search can scan at most 2^28 rows; got ${start}. Search in parts.`, { rows: start });
  return scans;
}

/** The target holding position `i` of the end-to-end layout, and the row within its block (mapped through `ids`). */
export function locate(scans: readonly Scan[], i: number): { target: number; row: number } {
  let a = 0;
  let b = scans.length - 1;
  while (a < b) {
    const mid = (a + b + 1) >> 1;
    if (scans[mid]!.start <= i) a = mid;
    else b = mid - 1;
  }
  // The last scan starting at or before i owns it (empty scans before it share its start).
  const s = scans[a]!;
  return { target: a, row: s.ids ? s.ids[i - s.start]! : i - s.start };
}

/** `queries` as one vector per query: a list of vectors as given, or a flat nq × dim array split up. */
export function splitQueries(queries: QueryVector | readonly QueryVector[], dim: number): QueryVector[] {
  if (Array.isArray(queries) && queries.length > 0 && typeof queries[0] !== "number") return queries as QueryVector[];
  const flat = queries as QueryVector;
  if (flat.length % dim !== 0) {
    throw createError("DIMENSION_MISMATCH", `${flat.length} query values are not a whole number of queries of dimension ${dim}.`, { expected: dim, actual: flat.length });
  }
  const out: QueryVector[] = [];
  for (let i = 0; i < flat.length; i += dim) {
    out.push(ArrayBuffer.isView(flat) ? (flat as Float32Array).subarray(i, i + dim) : Array.prototype.slice.call(flat, i, i + dim));
  }
  return out;
}
