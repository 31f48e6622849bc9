/**
 * Principal component analysis over the pca_* kernels (assembly/pca.ts): the top components of a
 * set of rows by power iteration with deflation, and each row's coordinates along them. Meant for
 * pictures — a 2-D map of an embedding space — so it favours a fixed, small cost over precision:
 * `iterations` passes over the rows per component, each pass one kernel call.
 *
 * WebAssembly memory during `pca` (freed before it returns):
 *
 *   x      n × dim f32     the rows
 *   mean   dim f32
 *   c      k × dim f32     components found so far, unit length
 *   v, w   dim f32         the current direction and Cov·v
 *   out    n × k f32       coordinates
 */
import { createError } from "../errors.js";
import type { KernelExports } from "./abi.js";
import type { WasmHeap } from "./memory.js";
import { checkDim } from "./validate.js";

export interface PcaOptions {
  /** Components to find. Default 2 (a map). At most `dim`. */
  components?: number;
  /** Power-iteration passes per component. Default 60; more is slower and sharper when two variances are close. */
  iterations?: number;
}

export interface PcaResult {
  /** components × dim, row-major, unit length, by falling variance. */
  components: Float32Array;
  /** The variance along each component. */
  variances: Float32Array;
  /** The rows' mean (dim). */
  mean: Float32Array;
  /** n × components, row-major: each row's coordinates. */
  coordinates: Float32Array;
}

/** The first unit vector of a fixed pseudo-random sequence, so maps are the same from run to run. */
function start(dim: number, j: number): Float64Array {
  const v = new Float64Array(dim);
  let s = 0x9e3779b9 ^ (j * 0x85ebca6b);
  for (let i = 0; i < dim; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = s / 2 ** 32 - 0.5;
  }
  return v;
}

function normalize(v: Float64Array): number {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i]! /= n;
  return n;
}

/** v −= (v·c_j) c_j for each component found so far (Gram–Schmidt), keeping v orthogonal to them. */
function deflate(v: Float64Array, found: Float32Array, count: number, dim: number): void {
  for (let j = 0; j < count; j++) {
    const c = found.subarray(j * dim, (j + 1) * dim);
    let d = 0;
    for (let i = 0; i < dim; i++) d += v[i]! * c[i]!;
    for (let i = 0; i < dim; i++) v[i]! -= d * c[i]!;
  }
}

export function pca(heap: WasmHeap, wasm: KernelExports, rows: Float32Array, dim: number, options: PcaOptions = {}): PcaResult {
  checkDim(dim);
  const k = options.components ?? 2;
  const iterations = options.iterations ?? 60;
  if (rows.length % dim !== 0) throw createError("DIMENSION_MISMATCH", `${rows.length} values are not a whole number of rows of dimension ${dim}.`, { dim, length: rows.length });
  const n = rows.length / dim;
  if (n < 1) throw createError("INVALID_ARGUMENT", "PCA needs at least one row.");
  if (!Number.isInteger(k) || k < 1 || k > dim) throw createError("INVALID_ARGUMENT", `PCA components must be an integer in [1, ${dim}], got ${String(k)}.`);
  if (!Number.isInteger(iterations) || iterations < 1) throw createError("INVALID_ARGUMENT", `PCA iterations must be a positive integer, got ${String(iterations)}.`);
  for (const x of rows) if (!Number.isFinite(x)) throw createError("INVALID_VECTOR", "PCA rows must be finite numbers (found NaN or Infinity).");

  const mean = new Float32Array(dim);
  for (let r = 0; r < n; r++) for (let i = 0; i < dim; i++) mean[i]! += rows[r * dim + i]!;
  for (let i = 0; i < dim; i++) mean[i]! /= n;

  const components = new Float32Array(k * dim);
  const variances = new Float32Array(k);
  const ptrs: number[] = [];
  const alloc = (bytes: number) => {
    const p = heap.alloc(bytes);
    ptrs.push(p);
    return p;
  };
  try {
    const x = alloc(rows.byteLength);
    const meanPtr = alloc(dim * 4);
    const v = alloc(dim * 4);
    const w = alloc(dim * 4);
    heap.write(x, rows);
    heap.write(meanPtr, mean);
    for (let j = 0; j < k; j++) {
      const dir = start(dim, j);
      deflate(dir, components, j, dim);
      normalize(dir);
      let lambda = 0;
      for (let it = 0; it < iterations; it++) {
        heap.write(v, Float32Array.from(dir));
        wasm.pca_cov_matvec(x, n, dim, meanPtr, v, w);
        dir.set(heap.f32(w, dim));
        deflate(dir, components, j, dim);
        lambda = normalize(dir) / n;
        // No variance left past rounding (rank < k): any unit vector orthogonal to the rest will do.
        if (!(lambda > 1e-6 * (variances[0] || 0)) && j > 0) {
          lambda = 0;
          dir.set(start(dim, j + k));
          break;
        }
      }
      // Deflate once more in float64: f32 rounding in Cov·v leaves a trace of earlier components.
      deflate(dir, components, j, dim);
      normalize(dir);
      components.set(dir, j * dim);
      variances[j] = lambda;
    }
    const c = alloc(components.byteLength);
    const out = alloc(n * k * 4);
    heap.write(c, components);
    wasm.pca_project(x, n, dim, meanPtr, c, k, out);
    return { components, variances, mean, coordinates: heap.f32(out, n * k).slice() };
  } finally {
    for (const p of ptrs) heap.free(p);
  }
}
