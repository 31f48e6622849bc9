/**
 * Argument checks done in TypeScript before any kernel runs (the kernels trust their inputs).
 */
import { createError } from "../errors.js";
import type { DistanceRange, ElementType, Metric, QueryVector } from "./types.js";

const METRICS: readonly Metric[] = ["l2", "cosine", "dot", "hamming"];

export function checkMetric(metric: Metric, element: ElementType): void {
  if (!METRICS.includes(metric)) {
    throw createError("INVALID_ARGUMENT", `Unknown distance metric "${String(metric)}"; use one of ${METRICS.join(", ")}.`, { metric });
  }
  if ((metric === "hamming") !== (element === "u8")) {
    throw createError(
      "INVALID_ARGUMENT",
      metric === "hamming"
        ? `The hamming metric needs packed bit vectors (u8 blocks), not ${element}.`
        : `The ${metric} metric does not apply to packed bit vectors (u8 blocks); use hamming.`,
      { metric, element },
    );
  }
}

export function checkDim(dim: number): void {
  if (!Number.isSafeInteger(dim) || dim < 1 || dim > 2 ** 24) {
    throw createError("INVALID_ARGUMENT", `Vector dimension must be an integer from 1 to 2^24, got ${dim}.`, { dim });
  }
}

export function checkK(k: number): void {
  if (!Number.isSafeInteger(k) || k < 0) {
    throw createError("INVALID_ARGUMENT", `k must be a non-negative integer, got ${k}.`, { k });
  }
}

export function checkRange(range: DistanceRange | undefined): { lo: number; hi: number } {
  const lo = range?.lo ?? -Infinity;
  const hi = range?.hi ?? Infinity;
  if (typeof lo !== "number" || typeof hi !== "number" || Number.isNaN(lo) || Number.isNaN(hi)) {
    throw createError("INVALID_ARGUMENT", `Distance range bounds must be numbers (±Infinity allowed), got [${lo}, ${hi}).`, { lo, hi });
  }
  return { lo, hi };
}

export function checkIds(ids: Int32Array, rows: number, target: number): void {
  if (!(ids instanceof Int32Array)) {
    throw createError("INVALID_ARGUMENT", `Target ${target}: ids must be an Int32Array of row numbers.`, { target });
  }
  for (let j = 0; j < ids.length; j++) {
    const id = ids[j]!;
    if (id < 0 || id >= rows) {
      throw createError("INVALID_ARGUMENT", `Target ${target}: id ${id} at position ${j} is outside the block's ${rows} rows.`, { target, row: j, id });
    }
  }
}

/**
 * Converts a query to the block's element type, checking its length and values:
 * f32 → finite after rounding to f32 (INVALID_VECTOR), i8 → integers in [−128, 127],
 * u8 → integers in [0, 255].
 */
export function toElementArray(query: QueryVector, element: ElementType, dim: number, what = "query"): Float32Array | Int8Array | Uint8Array {
  if (query == null || typeof query.length !== "number") {
    throw createError("INVALID_VECTOR", `The ${what} must be an array or typed array of numbers.`);
  }
  if (query.length !== dim) {
    throw createError("DIMENSION_MISMATCH", `The ${what} has ${query.length} elements but the vectors have dimension ${dim}.`, { expected: dim, actual: query.length });
  }
  // The same rule as for stored vectors: a plain array holds numbers, nothing is coerced.
  if (Array.isArray(query)) {
    for (let i = 0; i < dim; i++) {
      const x: unknown = query[i];
      if (typeof x !== "number") {
        throw createError("INVALID_VECTOR", `The ${what} holds ${typeof x === "string" ? JSON.stringify(x) : String(x)} at position ${i}; vectors hold numbers only.`, { position: i });
      }
    }
  }
  if (element === "f32") {
    const out = query instanceof Float32Array ? query : Float32Array.from(query as ArrayLike<number>);
    for (let i = 0; i < dim; i++) {
      if (!Number.isFinite(out[i])) {
        throw createError("INVALID_VECTOR", `The ${what} holds ${query[i]} at position ${i}; vectors must be finite numbers (as float32).`, { position: i });
      }
    }
    return out;
  }
  const [min, max] = element === "i8" ? [-128, 127] : [0, 255];
  if ((element === "i8" && query instanceof Int8Array) || (element === "u8" && query instanceof Uint8Array)) return query;
  const out = element === "i8" ? new Int8Array(dim) : new Uint8Array(dim);
  for (let i = 0; i < dim; i++) {
    const v = query[i]!;
    if (!Number.isInteger(v) || v < min || v > max) {
      throw createError("INVALID_VECTOR", `The ${what} holds ${v} at position ${i}; ${element} vectors need integers from ${min} to ${max}.`, { position: i });
    }
    out[i] = v;
  }
  return out;
}
