/**
 * Readers for the real data sets in ../shared/data (never copied into the repo). Shared by the
 * benchmarks, the recall tests and the glove CLI. `QUIVER_DATA` overrides the data directory.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

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
