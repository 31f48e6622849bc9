/**
 * Product quantizer with 8-bit or 4-bit codes (faiss's contract: train / encode / decode).
 *
 *   dim = M · dsub          each vector is cut into M sub-vectors of dsub floats
 *   ksub = 2^nbits          256 (8 bits) or 16 (4 bits) centroids per sub-space
 *   codebook  M × ksub × dsub f32   sub-space m's centroid j at ((m·ksub + j)·dsub)
 *   codes     n × M u8              one byte per sub-vector: the index of its nearest centroid
 *                                   (4 bits: 0–15, packed for the fast scan by pq4.ts)
 *
 * Training runs k-means (k = ksub) in each sub-space on the same sample, reading the sub-space's
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
   * whichever thread is free, all but the last M mod threads; those, and every sub-space when there
   * are fewer, run one at a time with their assignment steps split (KMeansOptions.parallel). The
   * codebook comes out the same either way.
   */
  parallel?: RowParallel;
  /** Bits per code: 8 (default) or 4. */
  numBits?: 4 | 8;
}

export class ProductQuantizer {
  readonly dim: number;
  /** numSubVectors */
  readonly M: number;
  readonly dsub: number;
  readonly nbits: 4 | 8;
  readonly ksub: 16 | 256;
  /** M × ksub × dsub f32 */
  readonly codebook: Float32Array;

  constructor(dim: number, M: number, codebook: Float32Array, nbits: 4 | 8 = 8) {
    if (!Number.isInteger(M) || M < 1 || dim % M !== 0) {
      throw createError("INVALID_ARGUMENT", `numSubVectors must divide the dimension: ${dim} is not a multiple of ${M}.`, { dim, numSubVectors: M });
    }
    this.nbits = nbits;
    this.ksub = nbits === 4 ? 16 : 256;
    if (codebook.length !== this.ksub * dim) throw createError("CORRUPT_FILE", `A ${nbits}-bit PQ codebook for dimension ${dim} holds ${this.ksub * dim} floats, got ${codebook.length}.`);
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
    const nbits = options.numBits ?? 8;
    const ksub = nbits === 4 ? 16 : 256;
    const codebook = new Float32Array(ksub * dim);
    const maxIterations = options.maxIterations ?? 25;
    const seed = options.seed ?? 42;
    const p = parallelFor(kernels, options.parallel);
    let first = 0;
    if (p !== undefined && M >= 2 * p.workers) {
      // Sub-spaces train independently: whole runs on the workers, each on its own columns. The
      // last M mod workers would leave the other workers idle at the end, so they train below.
      first = M - (M % p.workers);
      const runs = Array.from({ length: first }, (_, m) => ({ rows: columnsOf(sample, dim, m * dsub, dsub), width: dsub, k: ksub, maxIterations, seed: seed + m }));
      const centroids = await p.kmeansRuns(runs, (done) => options.progress?.(done, M));
      centroids.forEach((c, m) => codebook.set(c, m * ksub * dsub));
      if (first === M) return new ProductQuantizer(dim, M, codebook, nbits);
    }
    // One sub-space after another, each run's assignment steps split across the threads.
    const block = kernels.upload(sample, dim);
    try {
      for (let m = first; m < M; m++) {
        const { centroids } = await kmeans(kernels, block, dim, {
          k: ksub,
          metric: "l2",
          maxIterations,
          seed: seed + m,
          columns: { offset: m * dsub, width: dsub },
          parallel: options.parallel,
        });
        codebook.set(centroids, m * ksub * dsub);
        options.progress?.(m + 1, M);
      }
    } finally {
      block.free();
    }
    return new ProductQuantizer(dim, M, codebook, nbits);
  }

  /** n × dim → n × M codes. */
  encode(kernels: Kernels, x: Float32Array): Uint8Array {
    return pqEncode(kernels, x, this.dim, this.M, this.codebook, this.ksub);
  }

  /** `encode` with the rows split over `parallel`'s threads (when on these kernels); the same codes. */
  async encodeOn(kernels: Kernels, x: Float32Array, parallel: RowParallel | undefined): Promise<Uint8Array> {
    const p = parallelFor(kernels, parallel);
    return p ? pqEncodeParallel(p, x, this.dim, this.M, this.codebook, this.ksub) : this.encode(kernels, x);
  }

  /** n × M codes → n × dim reconstructions. */
  decode(kernels: Kernels, codes: Uint8Array): Float32Array {
    if (this.nbits === 8) return pqDecode(kernels, codes, this.dim, this.M, this.codebook);
    // 16 centroids: copying them on the host costs what the copy into WebAssembly memory would.
    const { M, dsub, codebook } = this;
    const out = new Float32Array((codes.length / M) * this.dim);
    for (let i = 0; i < codes.length; i++) {
      const src = ((i % M) * 16 + codes[i]!) * dsub;
      out.set(codebook.subarray(src, src + dsub), i * dsub);
    }
    return out;
  }
}

/** Columns [offset, offset + width) of every row of `x` (n × dim), as dense n × width rows. */
function columnsOf(x: Float32Array, dim: number, offset: number, width: number): Float32Array {
  const n = x.length / dim;
  const out = new Float32Array(n * width);
  for (let r = 0, o = 0; r < n; r++) for (let i = r * dim + offset, end = i + width; i < end; i++) out[o++] = x[i]!;
  return out;
}
