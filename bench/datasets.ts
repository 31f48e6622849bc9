/**
 * Readers for the real data sets in ../shared/data (never copied into the repo). Shared by the
 * benchmarks, the recall tests and the glove CLI. `QUIVER_DATA` overrides the data directory.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { seededRandom } from "../src/ann/common.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export function dataDir(): string {
  return process.env.QUIVER_DATA ?? resolve(repoRoot, "..", "shared", "data");
}

export function dataPath(...parts: string[]): string {
  return join(dataDir(), ...parts);
}

export function hasData(...parts: string[]): boolean {
  return existsSync(dataPath(...parts));
}

export interface VecFile<T extends Float32Array | Int32Array> {
  readonly n: number;
  readonly dim: number;
  /** n × dim, row-major. */
  readonly data: T;
}

/** .fvecs / .ivecs: per record an int32 dimension, then `dim` 4-byte values, little-endian. */
function readVecs<T extends Float32Array | Int32Array>(path: string, make: (n: number) => T, limit?: number): VecFile<T> {
  const buf = readFileSync(path);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dim = view.getInt32(0, true);
  const rec = 4 * (dim + 1);
  if (dim <= 0 || buf.byteLength % rec !== 0) throw new Error(`${path}: not a vecs file (dim ${dim}, ${buf.byteLength} bytes)`);
  const n = Math.min(buf.byteLength / rec, limit ?? Infinity);
  const data = make(n * dim);
  const isFloat = data instanceof Float32Array;
  for (let i = 0; i < n; i++) {
    const base = i * rec + 4;
    for (let j = 0; j < dim; j++) data[i * dim + j] = isFloat ? view.getFloat32(base + 4 * j, true) : view.getInt32(base + 4 * j, true);
  }
  return { n, dim, data };
}

export const readFvecs = (path: string, limit?: number): VecFile<Float32Array> => readVecs(path, (n) => new Float32Array(n), limit);
export const readIvecs = (path: string, limit?: number): VecFile<Int32Array> => readVecs(path, (n) => new Int32Array(n), limit);

export interface VectorDataset {
  readonly name: string;
  readonly base: VecFile<Float32Array>;
  readonly queries: VecFile<Float32Array>;
  /** nq × 100 nearest base ids. */
  readonly groundTruth: VecFile<Int32Array>;
  readonly metric: "l2" | "cosine";
  readonly words?: string[];
  readonly queryWords?: string[];
}

export function loadSiftSmall(): VectorDataset {
  return {
    name: "siftsmall",
    base: readFvecs(dataPath("siftsmall", "siftsmall_base.fvecs")),
    queries: readFvecs(dataPath("siftsmall", "siftsmall_query.fvecs")),
    groundTruth: readIvecs(dataPath("siftsmall", "siftsmall_groundtruth.ivecs")),
    metric: "l2",
  };
}

export function loadGlove(metric: "cosine" | "l2" = "cosine"): VectorDataset {
  const dir = "glove-100d-100k";
  const words = (f: string): string[] => readFileSync(dataPath(dir, f), "utf8").split("\n").filter((w) => w.length > 0);
  return {
    name: "glove-100d-100k",
    base: readFvecs(dataPath(dir, "glove100k_base.fvecs")),
    queries: readFvecs(dataPath(dir, "glove100k_query.fvecs")),
    groundTruth: readIvecs(dataPath(dir, metric === "cosine" ? "glove100k_groundtruth_angular.ivecs" : "glove100k_groundtruth_euclidean.ivecs")),
    metric,
    words: words("glove100k_base_words.txt"),
    queryWords: words("glove100k_query_words.txt"),
  };
}

/** |found ∩ truth[:k]| / k, averaged over queries. */
export function recallAtK(found: readonly (readonly number[])[], truth: VecFile<Int32Array>, k: number): number {
  let hit = 0;
  found.forEach((ids, q) => {
    const gt = new Set(truth.data.subarray(q * truth.dim, q * truth.dim + k));
    for (const id of ids.slice(0, k)) if (gt.has(id)) hit++;
  });
  return hit / (found.length * k);
}

/** mulberry32: one PRNG for the library, its benchmarks and its tests. */
export { seededRandom };

/** Standard normal draws from a uniform source (Box–Muller, both outputs used). */
export function gaussian(uniform: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = 1 - uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

export interface SyntheticOptions {
  n: number;
  dim: number;
  queries: number;
  /** Gaussian cluster centres (default 100). */
  clusters?: number;
  /** Per-dimension noise around a centre, relative to the centres' unit spread (default 0.5). */
  spread?: number;
  seed?: number;
}

/**
 * Synthetic embedding-like data, in addition to (never instead of) the real sets: `clusters`
 * Gaussian centres, each point a centre plus Gaussian noise, every vector L2-normalized, as
 * sentence-embedding models emit them. Queries are fresh draws from the same mixture (not base
 * rows). There is no published ground truth: compute it exactly (`exactCosineTopK`).
 */
export function syntheticClusters(options: SyntheticOptions): { base: VecFile<Float32Array>; queries: VecFile<Float32Array> } {
  const { n, dim, queries: nq, clusters = 100, spread = 0.5, seed = 42 } = options;
  const uniform = seededRandom(seed);
  const normal = gaussian(uniform);
  const centres = new Float32Array(clusters * dim);
  for (let i = 0; i < centres.length; i++) centres[i] = normal();
  const draw = (count: number): Float32Array => {
    const out = new Float32Array(count * dim);
    for (let r = 0; r < count; r++) {
      const c = Math.floor(uniform() * clusters) * dim;
      let ss = 0;
      for (let j = 0; j < dim; j++) {
        const v = centres[c + j]! + spread * normal();
        out[r * dim + j] = v;
        ss += v * v;
      }
      const inv = 1 / Math.sqrt(ss);
      for (let j = 0; j < dim; j++) out[r * dim + j]! *= inv;
    }
    return out;
  };
  return { base: { n, dim, data: draw(n) }, queries: { n: nq, dim, data: draw(nq) } };
}

/**
 * Exact cosine top-k (1 − cos, ascending, ties by lower id) in float64 over float32 data: the
 * ground truth for sets without a published one. Returns nq × k ids, like a .ivecs file.
 */
export function exactCosineTopK(base: VecFile<Float32Array>, queries: VecFile<Float32Array>, k: number): VecFile<Int32Array> {
  const { n, dim, data: x } = base;
  const norms = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[r * dim + j]! * x[r * dim + j]!;
    norms[r] = Math.sqrt(s);
  }
  const out = new Int32Array(queries.n * k);
  const bestD = new Float64Array(k);
  const bestI = new Int32Array(k);
  for (let q = 0; q < queries.n; q++) {
    const qo = q * dim;
    let qq = 0;
    for (let j = 0; j < dim; j++) qq += queries.data[qo + j]! * queries.data[qo + j]!;
    const qn = Math.sqrt(qq);
    let count = 0;
    for (let r = 0; r < n; r++) {
      let s = 0;
      const ro = r * dim;
      for (let j = 0; j < dim; j++) s += queries.data[qo + j]! * x[ro + j]!;
      const denom = qn * norms[r]!;
      const d = denom === 0 ? 1 : 1 - s / denom;
      if (count === k && !(d < bestD[k - 1]!)) continue;
      let at = count < k ? count++ : k - 1;
      while (at > 0 && bestD[at - 1]! > d) {
        bestD[at] = bestD[at - 1]!;
        bestI[at] = bestI[at - 1]!;
        at--;
      }
      bestD[at] = d;
      bestI[at] = r;
    }
    out.set(bestI.subarray(0, count), q * k);
  }
  return { n: queries.n, dim: k, data: out };
}
