/**
 * Seeded vector generators for the Chromium scale benchmark. They run in the page, so a million
 * vectors are drawn where they are ingested and never shipped as a file; the same seed gives the
 * same vectors on every engine. Two models, both L2-normalized (the benchmark searches by cosine):
 *
 *   spectrum   x = μ + U · diag(√λ) · z,  z ~ N(0, I_dim): the eigenvalues λ (and the mean's share
 *              ‖μ‖² / Σλ) fitted to real sentence embeddings (bench/scale-spectrum.ts), so the
 *              variance falls off as a real encoder's does; the tail of λ is the noise floor.
 *              U is a seeded random rotation, so no coordinate holds more than its share.
 *   clusters   isotropic Gaussian clusters: 100 seeded centres, N(0, 1) each coordinate, plus
 *              spread · N(0, I) (as bench/out-of-core.ts), the common synthetic stand-in.
 *
 * U is structured, to keep drawing cheap (O(dim log dim) per row instead of dim²): dim = b · 2^k,
 * and each of ROUNDS rounds flips signs at random, applies the orthonormal Walsh–Hadamard transform
 * to each of the b blocks of 2^k coordinates, mixes the b blocks with a random b × b rotation
 * (position by position) and permutes the coordinates at random. Every step is orthogonal, so the
 * spectrum is exactly the one asked for; three rounds spread each principal direction over all
 * coordinates (as a subsampled randomized Hadamard transform does).
 */
import { seededRandom } from "../../src/ann/common.js";

export interface SpectrumModel {
  kind: "spectrum";
  dim: number;
  /** Variance along each principal direction, falling; they sum to 1. */
  eigenvalues: number[];
  /** ‖μ‖² relative to the total variance (real embeddings share a common direction). */
  meanShare: number;
  seed: number;
}

export interface ClusterModel {
  kind: "clusters";
  dim: number;
  clusters: number;
  spread: number;
  seed: number;
}

export type VectorModel = SpectrumModel | ClusterModel;

/** Draws `count` rows (count × dim, unit length) from the stream it was made for. */
export type Draw = (count: number) => Float32Array;

const ROUNDS = 3;

/** Standard normal draws (Box–Muller, both outputs used). */
export function normalStream(uniform: () => number): () => number {
  let spare = NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const s = spare;
      spare = NaN;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(1 - uniform()));
    const a = 2 * Math.PI * uniform();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
}

/** A seeded orthogonal transform of R^dim, applied in place (see the header). */
export class StructuredRotation {
  readonly #dim: number;
  readonly #block: number;
  readonly #blocks: number;
  readonly #signs: Float64Array[] = [];
  /** ROUNDS × (blocks × blocks), row-major. */
  readonly #mix: Float64Array[] = [];
  readonly #perm: Int32Array[] = [];
  readonly #tmp: Float64Array;

  constructor(dim: number, seed: number) {
    this.#dim = dim;
    let block = 1;
    while (dim % (block * 2) === 0) block *= 2;
    this.#block = block;
    this.#blocks = dim / block;
    this.#tmp = new Float64Array(dim);
    const uniform = seededRandom(seed);
    const normal = normalStream(uniform);
    const b = this.#blocks;
    for (let r = 0; r < ROUNDS; r++) {
      this.#signs.push(Float64Array.from({ length: dim }, () => (uniform() < 0.5 ? -1 : 1)));
      // Gram–Schmidt of a Gaussian b × b matrix: a random rotation of the block index.
      const m = Float64Array.from({ length: b * b }, normal);
      for (let i = 0; i < b; i++) {
        for (let j = 0; j < i; j++) {
          let d = 0;
          for (let c = 0; c < b; c++) d += m[i * b + c]! * m[j * b + c]!;
          for (let c = 0; c < b; c++) m[i * b + c]! -= d * m[j * b + c]!;
        }
        let n = 0;
        for (let c = 0; c < b; c++) n += m[i * b + c]! ** 2;
        for (let c = 0; c < b; c++) m[i * b + c]! /= Math.sqrt(n);
      }
      this.#mix.push(m);
      const perm = Int32Array.from({ length: dim }, (_, i) => i);
      for (let i = dim - 1; i > 0; i--) {
        const j = Math.floor(uniform() * (i + 1));
        const t = perm[i]!;
        perm[i] = perm[j]!;
        perm[j] = t;
      }
      this.#perm.push(perm);
    }
  }

  apply(x: Float64Array): void {
    const dim = this.#dim;
    const h = this.#block;
    const b = this.#blocks;
    const tmp = this.#tmp;
    const norm = 1 / Math.sqrt(h);
    for (let r = 0; r < ROUNDS; r++) {
      const signs = this.#signs[r]!;
      for (let i = 0; i < dim; i++) x[i]! *= signs[i]!;
      for (let o = 0; o < dim; o += h) {
        for (let len = 1; len < h; len *= 2) {
          for (let i = o; i < o + h; i += 2 * len) {
            for (let j = i; j < i + len; j++) {
              const u = x[j]!;
              const v = x[j + len]!;
              x[j] = u + v;
              x[j + len] = u - v;
            }
          }
        }
      }
      const m = this.#mix[r]!;
      for (let p = 0; p < h; p++) {
        for (let i = 0; i < b; i++) {
          let s = 0;
          for (let c = 0; c < b; c++) s += m[i * b + c]! * x[c * h + p]!;
          tmp[i * h + p] = s * norm;
        }
      }
      const perm = this.#perm[r]!;
      for (let i = 0; i < dim; i++) x[perm[i]!] = tmp[i]!;
    }
  }
}

/** The model's fixed parts (rotation, mean, centres) and a factory of independent row streams. */
export function vectorModel(model: VectorModel): (streamSeed: number) => Draw {
  const dim = model.dim;
  if (model.kind === "clusters") {
    const centreNormal = normalStream(seededRandom(model.seed));
    const centres = Float64Array.from({ length: model.clusters * dim }, centreNormal);
    return (streamSeed) => {
      const uniform = seededRandom(streamSeed);
      const normal = normalStream(uniform);
      return (count) => {
        const out = new Float32Array(count * dim);
        for (let r = 0; r < count; r++) {
          const c = Math.floor(uniform() * model.clusters) * dim;
          let ss = 0;
          for (let j = 0; j < dim; j++) {
            const v = centres[c + j]! + model.spread * normal();
            out[r * dim + j] = v;
            ss += v * v;
          }
          const inv = 1 / Math.sqrt(ss);
          for (let j = 0; j < dim; j++) out[r * dim + j]! *= inv;
        }
        return out;
      };
    };
  }
  if (model.eigenvalues.length !== dim) throw new Error(`spectrum model: ${model.eigenvalues.length} eigenvalues for ${dim} dimensions`);
  const rotation = new StructuredRotation(dim, model.seed);
  const scale = Float64Array.from(model.eigenvalues, (l) => Math.sqrt(Math.max(0, l)));
  const meanNormal = normalStream(seededRandom(model.seed ^ 0x5bd1e995));
  const mean = Float64Array.from({ length: dim }, meanNormal);
  const meanNorm = Math.hypot(...mean);
  const total = model.eigenvalues.reduce((s, l) => s + l, 0);
  for (let j = 0; j < dim; j++) mean[j] = (mean[j]! / meanNorm) * Math.sqrt(model.meanShare * total);
  return (streamSeed) => {
    const normal = normalStream(seededRandom(streamSeed));
    const x = new Float64Array(dim);
    return (count) => {
      const out = new Float32Array(count * dim);
      for (let r = 0; r < count; r++) {
        for (let j = 0; j < dim; j++) x[j] = scale[j]! * normal();
        rotation.apply(x);
        let ss = 0;
        for (let j = 0; j < dim; j++) {
          const v = x[j]! + mean[j]!;
          x[j] = v;
          ss += v * v;
        }
        const inv = 1 / Math.sqrt(ss);
        for (let j = 0; j < dim; j++) out[r * dim + j] = x[j]! * inv;
      }
      return out;
    };
  };
}

/** Seeds of the streams: the table's rows and the held-out queries never share draws. */
export const BASE_STREAM = 1;
export const QUERY_STREAM = 1_000_003;

/** The category of row `id`: 32 values, spread evenly (a column to filter or group on). */
export function categoryOf(id: number): string {
  return `c${(Math.imul(id, 2654435761) >>> 0) % 32}`;
}
