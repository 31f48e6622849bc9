/**
 * Product quantizer with 8-bit codes (faiss's contract: train / encode / decode).
 *
 *   dim = M · dsub          each vector is cut into M sub-vectors of dsub floats
 *   codebook  M × 256 × dsub f32    sub-space m's centroid j at ((m·256 + j)·dsub)
 *   codes     n × M u8              one byte per sub-vector: the index of its nearest centroid
 *
 * Training runs k-means (k = 256) in each sub-space on the same sample, reading the sub-space's
 * columns straight out of one resident block (no per-sub-space copies).
 */
import { createError } from "../errors.js";
import type { Kernels } from "../kernels/kernels.js";
import { parallelFor, pqEncodeParallel, type RowParallel } from "../kernels/parallel.js";
import { pqDecode, pqEncode } from "../kernels/quantize.js";
import { kmeans } from "./kmeans.js";

export interface PqTrainOptions {
  numSubVectors: number;
  /** k-means iterations per sub-space. Default 25. */
  maxIterations?: number;
  seed?: number;
  progress?: (done: number, total: number) => void;
  /**
   * Threads (the scan pool): with at least two sub-spaces per thread, whole sub-space runs go to
   * whichever thread is free; with fewer, each run's assignment steps are split (KMeansOptions.parallel).
   * The codebook comes out the same either way.
   */
  parallel?: RowParallel;
}

export class ProductQuantizer {
  readonly dim: number;
  /** numSubVectors */
  readonly M: number;
  readonly dsub: number;
  readonly nbits = 8;
  readonly ksub = 256;
  /** M × 256 × dsub f32 */
  readonly codebook: Float32Array;

  constructor(dim: number, M: number, codebook: Float32Array) {
    if (!Number.isInteger(M) || M < 1 || dim % M !== 0) {
      throw createError("INVALID_ARGUMENT", `numSubVectors must divide the dimension: ${dim} is not a multiple of ${M}.`, { dim, numSubVectors: M });
    }
    if (codebook.length !== 256 * dim) throw createError("CORRUPT_FILE", `A PQ codebook for dimension ${dim} holds ${256 * dim} floats, got ${codebook.length}.`);
    this.dim = dim;
    this.M = M;
    this.dsub = dim / M;
    this.codebook = codebook;
  }

  /** Bytes per encoded vector. */
  get codeSize(): number {
    return this.M;
  }

  static async train(kernels: Kernels, sample: Float32Array, dim: number, options: PqTrainOptions): Promise<ProductQuantizer> {
    const M = options.numSubVectors;
    if (!Number.isInteger(M) || M < 1 || dim % M !== 0) {
      throw createError("INVALID_ARGUMENT", `numSubVectors must divide the dimension: ${dim} is not a multiple of ${M}.`, { dim, numSubVectors: M });
    }
    const n = sample.length / dim;
    if (n < 1) throw createError("INVALID_ARGUMENT", "Training a product quantizer needs at least one vector.");
    const dsub = dim / M;
    const codebook = new Float32Array(256 * dim);
    const maxIterations = options.maxIterations ?? 25;
    const seed = options.seed ?? 42;
    const p = parallelFor(kernels, options.parallel);
    if (p !== undefined && M >= 2 * p.workers) {
      // Sub-spaces train independently: whole runs on the workers, each on its own columns.
      const runs = Array.from({ length: M }, (_, m) => ({ rows: columnsOf(sample, dim, m * dsub, dsub), width: dsub, k: 256, maxIterations, seed: seed + m }));
      const centroids = await p.kmeansRuns(runs, (done) => options.progress?.(done, M));
      centroids.forEach((c, m) => codebook.set(c, m * 256 * dsub));
      return new ProductQuantizer(dim, M, codebook);
    }
    const block = kernels.upload(sample, dim);
    try {
      for (let m = 0; m < M; m++) {
        const { centroids } = await kmeans(kernels, block, dim, {
          k: 256,
          metric: "l2",
          maxIterations,
          seed: seed + m,
          columns: { offset: m * dsub, width: dsub },
          parallel: options.parallel,
        });
        codebook.set(centroids, m * 256 * dsub);
        options.progress?.(m + 1, M);
      }
    } finally {
      block.free();
    }
    return new ProductQuantizer(dim, M, codebook);
  }

  /** n × dim → n × M codes. */
  encode(kernels: Kernels, x: Float32Array): Uint8Array {
    return pqEncode(kernels, x, this.dim, this.M, this.codebook);
  }

  /** `encode` with the rows split over `parallel`'s threads (when on these kernels); the same codes. */
  async encodeOn(kernels: Kernels, x: Float32Array, parallel: RowParallel | undefined): Promise<Uint8Array> {
    const p = parallelFor(kernels, parallel);
    return p ? pqEncodeParallel(p, x, this.dim, this.M, this.codebook) : this.encode(kernels, x);
  }

  /** n × M codes → n × dim reconstructions. */
  decode(kernels: Kernels, codes: Uint8Array): Float32Array {
    return pqDecode(kernels, codes, this.dim, this.M, this.codebook);
  }
}

/** Columns [offset, offset + width) of every row of `x` (n × dim), as dense n × width rows. */
function columnsOf(x: Float32Array, dim: number, offset: number, width: number): Float32Array {
  const n = x.length / dim;
  const out = new Float32Array(n * width);
  for (let r = 0, o = 0; r < n; r++) for (let i = r * dim + offset, end = i + width; i < end; i++) out[o++] = x[i]!;
  return out;
}
