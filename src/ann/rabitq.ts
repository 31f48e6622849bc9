/**
 * RaBitQ codes inside IVF partitions (IVF_RQ), after Gao & Long, "RaBitQ: Quantizing
 * High-Dimensional Vectors with a Theoretical Error Bound for Approximate Nearest Neighbor Search"
 * (SIGMOD 2024), with 1 bit per dimension.
 *
 * Encoding a vector o of partition p (centroid c):
 *   1. rotate: everything lives in a rotated space R·x, R = D' × D with orthonormal columns (a random
 *      orthogonal matrix's first D columns, seeded, stored in the index); D' = D rounded up to 64,
 *      so the code is whole 64-bit words and every one of its bits carries information
 *   2. residual r = R·o − R·c, nr = ‖r‖, unit u = r / nr
 *   3. bits b_i = [u_i > 0]: the code names ō = (2b − 1) / √D', the nearest vertex of the scaled
 *      hypercube to u
 *   4. a = ⟨ō, u⟩ = Σ|u_i| / √D' (how well ō stands for u; about 0.8 on real data)
 *
 * Estimating ⟨u, q'⟩ for a unit query direction q': ⟨ō, q'⟩ / a is unbiased, and its error is
 * close to Gaussian with σ = √(1 − a²) / (a · √(D' − 1)); the bound is ε0·σ, ε0 = 1.9 as in the
 * paper, which about 94 % of pairs fall inside (test/unit/ann-rabitq.test.ts measures it on GloVe
 * and SIFT) — a bound for ranking candidates, not a guarantee. The query is quantized to 4 bits per dimension (t_i ∈ [0, 15], q̂_i = lo + Δ·t_i), so
 * ⟨2b − 1, q̂⟩ is four popcounts of (code ∧ query bit plane) plus one of the code (assembly/rabitq.ts).
 *
 * Distances (in rotated space; R keeps norms and inner products of D-vectors):
 *   l2      ‖o − q‖² = nr² + ‖d‖² − 2·nr·⟨u, d⟩,  d = R·q − R·c      (query residual per partition)
 *   cosine  the l2 form over unit vectors, halved (1 − cos = ‖o − q‖² / 2)
 *   dot     1 − ⟨o, q⟩ = (1 − ⟨c, q⟩) − nr·⟨u, R·q⟩                 (one quantized query for all)
 * Each row gets an estimate and its error bound. A search keeps the k × refineFactor rows with the
 * smallest estimates, drops those whose lower bound (estimate − error) is above the k-th smallest
 * upper bound (they cannot be among the k nearest, within the bound), and re-ranks the rest on the
 * raw vectors. (Choosing the candidates by lower bound instead favours the rows the code knows
 * least about: on glove-100d-100k, nprobes 40 and refineFactor 10, recall@10 0.944 against 0.962
 * by estimate, for as many rows re-ranked.)
 *
 * Code of one row (codeSize = D'/8 + 8 bytes):  [bits D'/8 bytes][f32 nr][f32 a]
 * Index file sections: "rqRotation" D' × D f32 (row j = the j-th rotated axis).
 * Resident: the rotation (D' × D f32, also as a WebAssembly block) and the rotated centroids
 * (numPartitions × D' f32).
 */
import { createError } from "../errors.js";
import type { Kernels } from "../kernels/kernels.js";
import { ownBlock } from "../kernels/quantize.js";
import type { ScanSession } from "../kernels/scan.js";
import type { VectorBlock } from "../kernels/types.js";
import { seededRandom } from "./common.js";
import type { IndexHead, IndexWriter } from "./format.js";
import type { IvfCodec, QueryConstants, ResidentCodes } from "./ivf-codecs.js";
import type { DistanceType } from "./types.js";
import { TimeSlicer } from "../util/yield.js";

/** ε0 of the error bound: the paper's choice (the bound holds for nearly every pair). */
export const RQ_EPSILON = 1.9;
/** Re-ranking when the caller can fetch vectors and sets no refineFactor: RaBitQ relies on it. */
export const RQ_DEFAULT_REFINE = 10;
/** Rows rotated per pass: bounds the temporary WebAssembly memory of encoding. */
const ROTATE_CHUNK = 1024;
/** Queries per multi-query kernel call (assembly/multi.ts keeps them in L1). */
const MULTI = 16;

/** D rounded up to whole 64-bit words. */
export function paddedDim(dim: number): number {
  return Math.ceil(dim / 64) * 64;
}

/**
 * D' × D with orthonormal columns: Gram–Schmidt (twice, for f32-grade orthogonality) over D
 * Gaussian vectors in R^D', seeded. Row j of the result is the j-th rotated axis. About D²·D'
 * multiply-adds (0.5 G at D = 768), so it yields to the event loop between columns when due.
 */
export async function randomRotation(dim: number, seed: number): Promise<Float32Array> {
  const slicer = new TimeSlicer();
  const dp = paddedDim(dim);
  const random = seededRandom(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const cols: Float64Array[] = [];
  for (let i = 0; i < dim; i++) {
    const v = Float64Array.from({ length: dp }, gauss);
    for (let pass = 0; pass < 2; pass++) {
      for (const c of cols) {
        let s = 0;
        for (let j = 0; j < dp; j++) s += v[j]! * c[j]!;
        for (let j = 0; j < dp; j++) v[j]! -= s * c[j]!;
      }
    }
    let norm = 0;
    for (let j = 0; j < dp; j++) norm += v[j]! * v[j]!;
    norm = Math.sqrt(norm);
    for (let j = 0; j < dp; j++) v[j]! /= norm;
    cols.push(v);
    if (slicer.due()) await slicer.yieldNow();
  }
  const out = new Float32Array(dp * dim);
  for (let i = 0; i < dim; i++) for (let j = 0; j < dp; j++) out[j * dim + i] = cols[i]![j]!;
  return out;
}

/** Per-query state: the rotated query, and for dot its one quantization. */
interface RqQuery {
  rotated: Float32Array;
  planes?: Uint8Array;
  sums?: { lo: number; delta: number; total: number; norm: number };
  /** Per-partition scratch (l2, cosine): the residual to the partition's centroid and its bit planes, reused across partitions. */
  residual?: Float32Array;
  residualPlanes?: Uint8Array;
}

export class RabitqCodec implements IvfCodec {
  readonly name = "rq" as const;
  readonly codeSize: number;
  readonly hasNorms = false;
  readonly dim: number;
  /** D rounded up to 64: bits per code. */
  readonly paddedDim: number;
  readonly rotation: Float32Array;
  readonly #metric: DistanceType;
  readonly #kernels: Kernels;
  readonly #rotationBlock: VectorBlock;
  /** numPartitions × D' f32: the centroids in rotated space. */
  readonly #centroids: Float32Array;

  constructor(kernels: Kernels, dim: number, metric: DistanceType, centroids: Float32Array, rotation: Float32Array) {
    this.dim = dim;
    this.paddedDim = paddedDim(dim);
    if (rotation.length !== this.paddedDim * dim) throw createError("CORRUPT_FILE", `A RaBitQ rotation for dimension ${dim} has ${this.paddedDim * dim} values, not ${rotation.length}.`);
    this.codeSize = this.paddedDim / 8 + 8;
    this.rotation = rotation;
    this.#metric = metric;
    this.#kernels = kernels;
    this.#rotationBlock = kernels.upload(rotation, dim);
    this.#centroids = this.rotate(centroids);
  }

  static read(kernels: Kernels, head: IndexHead, metric: DistanceType, centroids: Float32Array): RabitqCodec {
    return new RabitqCodec(kernels, head.meta.dim, metric, centroids, head.f32("rqRotation"));
  }

  /** Bytes held besides the partitions: the rotation (twice: JS and WebAssembly) and rotated centroids. */
  bytes(): number {
    return this.rotation.byteLength * 2 + this.#centroids.byteLength;
  }

  /** R·x for each row of x (n × D): n × D' f32, through the multi-query dot kernel. */
  rotate(x: Float32Array): Float32Array {
    const { dim, paddedDim: dp } = this;
    const n = x.length / dim;
    const out = new Float32Array(n * dp);
    const heap = this.#kernels.heap;
    const rows = Math.min(n, ROTATE_CHUNK);
    const inPtr = heap.alloc(Math.max(1, rows * dim * 4));
    let outPtr = 0;
    try {
      outPtr = heap.alloc(Math.max(1, rows * dp * 4));
      const axes = ownBlock(this.#kernels, this.#rotationBlock).ptr;
      for (let first = 0; first < n; first += rows) {
        const count = Math.min(rows, n - first);
        heap.write(inPtr, x.subarray(first * dim, (first + count) * dim));
        for (let g = 0; g < count; g += MULTI) {
          // out[qi·D' + j] = 1 − x_qi·axis_j
          this.#kernels.exports.dot_f32_multi(inPtr + g * dim * 4, Math.min(MULTI, count - g), axes, dp, dim, outPtr + g * dp * 4, dp);
        }
        const view = heap.f32(outPtr, count * dp);
        const o = first * dp;
        for (let i = 0; i < view.length; i++) out[o + i] = 1 - view[i]!;
      }
    } finally {
      heap.free(inPtr);
      heap.free(outPtr);
    }
    return out;
  }

  encode(_kernels: Kernels, x: Float32Array, assign: Int32Array): { codes: Uint8Array } {
    const { paddedDim: dp, codeSize } = this;
    const words = dp / 8;
    const rotated = this.rotate(x);
    const codes = new Uint8Array(assign.length * codeSize);
    const factors = new DataView(codes.buffer);
    const rootD = Math.sqrt(dp);
    const r = new Float64Array(dp);
    for (let row = 0; row < assign.length; row++) {
      const c = assign[row]! * dp;
      const o = row * dp;
      let nr2 = 0;
      let l1 = 0;
      for (let i = 0; i < dp; i++) {
        const v = rotated[o + i]! - this.#centroids[c + i]!;
        r[i] = v;
        nr2 += v * v;
        l1 += Math.abs(v);
      }
      const base = row * codeSize;
      for (let i = 0; i < dp; i++) if (r[i]! > 0) codes[base + (i >> 3)]! |= 1 << (i & 7);
      const nr = Math.sqrt(nr2);
      factors.setFloat32(base + words, nr, true);
      // a = ⟨ō, u⟩; a row equal to its centroid has no direction (nr = 0), any a > 0 will do.
      factors.setFloat32(base + words + 4, nr > 0 ? l1 / (nr * rootD) : 1, true);
    }
    return { codes };
  }

  upload(kernels: Kernels, codes: Uint8Array): VectorBlock {
    return kernels.upload(codes, this.codeSize);
  }

  begin(_session: ScanSession, q: Float32Array): QueryConstants {
    const state: RqQuery = { rotated: this.rotate(q) };
    if (this.#metric === "dot") Object.assign(state, quantizeQuery(state.rotated, this.paddedDim));
    return { w: 0, bias: 0, state };
  }

  scan(session: ScanSession, part: ResidentCodes, p: number, centroidDistance: number, constants: QueryConstants): number {
    const state = constants.state as RqQuery;
    const dp = this.paddedDim;
    const rootD = Math.sqrt(dp);
    const spread = RQ_EPSILON / Math.sqrt(Math.max(1, dp - 1));
    if (this.#metric === "dot") {
      const { lo, delta, total, norm } = state.sums!;
      return session.scanRq(part.codes!, part.rows, state.planes!, {
        cg: 0, c0: centroidDistance, cS: (-2 * delta) / rootD, cP: (-2 * lo) / rootD, c1: (lo * dp + delta * total) / rootD, ce: norm * spread,
      }, part.positionBlock);
    }
    const d = (state.residual ??= new Float32Array(dp));
    const c = p * dp;
    for (let i = 0; i < dp; i++) d[i] = state.rotated[i]! - this.#centroids[c + i]!;
    const { planes, sums } = quantizeQuery(d, dp, (state.residualPlanes ??= new Uint8Array(dp / 2)));
    const { lo, delta, total, norm } = sums;
    const h = this.#metric === "cosine" ? 0.5 : 1;
    return session.scanRq(part.codes!, part.rows, planes, {
      cg: h, c0: h * norm * norm, cS: (-4 * h * delta) / rootD, cP: (-4 * h * lo) / rootD, c1: (2 * h * (lo * dp + delta * total)) / rootD, ce: 2 * h * norm * spread,
    }, part.positionBlock);
  }

  params(): Record<string, number | string | boolean> {
    return { numBits: 1 };
  }

  write(w: IndexWriter): void {
    w.section("rqRotation", this.rotation);
  }

  free(): void {
    this.#rotationBlock.free();
  }
}

/**
 * The query (D' values) rounded to 4 bits: t_i = round((v_i − lo) / Δ) ∈ [0, 15], as four bit
 * planes (bit i of plane j = bit j of t_i), with what the estimator needs back: lo, Δ, Σ t_i, ‖v‖.
 */
export function quantizeQuery(v: Float32Array, dp: number, out?: Uint8Array): { planes: Uint8Array; sums: { lo: number; delta: number; total: number; norm: number } } {
  let lo = Infinity;
  let hi = -Infinity;
  let norm = 0;
  for (let i = 0; i < dp; i++) {
    const x = v[i]!;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
    norm += x * x;
  }
  const delta = hi > lo ? (hi - lo) / 15 : 1;
  const bytes = dp / 8;
  const planes = out?.fill(0) ?? new Uint8Array(4 * bytes);
  let total = 0;
  for (let i = 0; i < dp; i++) {
    const t = Math.min(15, Math.max(0, Math.round((v[i]! - lo) / delta)));
    total += t;
    for (let j = 0; j < 4; j++) if ((t >> j) & 1) planes[j * bytes + (i >> 3)]! |= 1 << (i & 7);
  }
  return { planes, sums: { lo, delta, total, norm: Math.sqrt(norm) } };
}

/**
 * Of the rows with the smallest estimates (scan-buffer positions `index`, ascending `distance`),
 * the ones a re-rank must see: every row whose lower bound is at most the k-th smallest upper
 * bound. The others cannot be among the k nearest (within the bound).
 */
export function rqCandidates(session: ScanSession, top: { index: Int32Array; distance: Float32Array }, k: number): { index: Int32Array; distance: Float32Array } {
  const n = top.index.length;
  if (n <= k) return top;
  const error = Float32Array.from(top.index, (i) => session.spreadAt(i));
  const bound = Float32Array.from(top.distance, (d, j) => d + error[j]!).sort()[k - 1]!;
  const keep = Int32Array.from({ length: n }, (_, j) => j).filter((j) => top.distance[j]! - error[j]! <= bound);
  return { index: Int32Array.from(keep, (j) => top.index[j]!), distance: Float32Array.from(keep, (j) => top.distance[j]!) };
}
