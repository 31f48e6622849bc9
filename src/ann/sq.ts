/**
 * Scalar quantizer to int8 with a range per dimension (faiss's contract: train / encode / decode).
 *
 *   lo, hi    dim f32     the trained range of each dimension
 *   scale     dim f32     (hi − lo) / 255, the step between neighbouring codes
 *   offset    dim f32     lo + 128·scale, what code 0 stands for
 *   codes     n × dim i8  x_i ≈ offset_i + scale_i·code_i; values outside [lo, hi] saturate
 *
 * Distances are asymmetric: the query is rounded to 15 bits, the stored side to 8 (about scale/2
 * per dimension), and one integer dot product per row gives the distance (assembly/sq.ts).
 */
import { createError } from "../errors.js";
import type { Kernels } from "../kernels/kernels.js";
import { parallelFor, sqEncodeParallel, type RowParallel } from "../kernels/parallel.js";
import { sqBounds, sqDecode, sqEncode, sqNorms, sqPrepareQuery } from "../kernels/quantize.js";

export class ScalarQuantizer {
  readonly dim: number;
  readonly lo: Float32Array;
  readonly hi: Float32Array;
  readonly scale: Float32Array;
  readonly offset: Float32Array;
  readonly invScale: Float32Array;

  constructor(lo: Float32Array, hi: Float32Array) {
    if (lo.length !== hi.length || lo.length < 1) throw createError("CORRUPT_FILE", "SQ bounds must be two arrays of one value per dimension.");
    this.dim = lo.length;
    this.lo = lo;
    this.hi = hi;
    this.scale = Float32Array.from(lo, (l, i) => Math.max(0, hi[i]! - l) / 255);
    this.offset = Float32Array.from(lo, (l, i) => l + 128 * this.scale[i]!);
    this.invScale = Float32Array.from(this.scale, (s) => (s > 0 ? 1 / s : 0));
  }

  /** Bytes per encoded vector. */
  get codeSize(): number {
    return this.dim;
  }

  /** Per-dimension min/max of the sample (pass all the vectors when they are at hand: it is one pass). */
  static train(kernels: Kernels, sample: Float32Array, dim: number): ScalarQuantizer {
    if (sample.length < dim) throw createError("INVALID_ARGUMENT", "Training a scalar quantizer needs at least one vector.");
    const { lo, hi } = sqBounds(kernels, sample, dim);
    return new ScalarQuantizer(lo, hi);
  }

  encode(kernels: Kernels, x: Float32Array): Int8Array {
    return sqEncode(kernels, x, this.dim, this.offset, this.invScale);
  }

  /** `encode` with the rows split over `parallel`'s threads (when on these kernels); the same codes. */
  async encodeOn(kernels: Kernels, x: Float32Array, parallel: RowParallel | undefined): Promise<Int8Array> {
    const p = parallelFor(kernels, parallel);
    return p ? sqEncodeParallel(p, x, this.dim, this.offset, this.invScale) : this.encode(kernels, x);
  }

  decode(kernels: Kernels, codes: Int8Array): Float32Array {
    return sqDecode(kernels, codes, this.dim, this.offset, this.scale);
  }

  /** ‖scale ∘ c_r‖² per row: the per-row term of l2 distances. */
  norms(kernels: Kernels, codes: Int8Array): Float32Array {
    return sqNorms(kernels, codes, this.dim, this.scale);
  }

  /** The query rounded for the integer SQ kernels (see assembly/sq.ts). */
  prepare(q: Float32Array, metric: "l2" | "dot"): { qi: Int16Array; w: number; bias: number } {
    return sqPrepareQuery(q, this.offset, this.scale, metric);
  }
}
