/**
 * Vector indexes: build one by kind, open one from bytes.
 *
 *   const index = await buildIndex(kernels, "IVF_PQ", vectors, dim, rowIds, { numPartitions: 256, distanceType: "cosine" });
 *   const hits = await index.search(query, 10, { nprobes: 20, refineFactor: 4, fetchVectors });
 *   const bytes = await index.serialize();
 *   const again = openIndex(kernels, bytes);                                   // whole file in memory
 *   const lazy = openIndex(kernels, head, { loadPartition: (p, r) => file.read(r.offset, r.length) });  // IVF, out of core
 */
import { createError } from "../errors.js";
import type { Kernels } from "../kernels/kernels.js";
import { FlatIndex } from "./flat.js";
import { corruptIndex, IndexHead } from "./format.js";
import { isQuiverError } from "../errors.js";
import { HnswIndex, type HnswKind } from "./hnsw.js";
import { IvfIndex, type IvfInternalOptions, type IvfKind, type IvfOpenOptions } from "./ivf.js";
import type { CommonBuildOptions, HnswBuildOptions, IndexKind, IvfBuildOptions, VectorIndex } from "./types.js";

export type BuildOptions = IvfBuildOptions & HnswBuildOptions & IvfInternalOptions & CommonBuildOptions;

/**
 * Builds an index of `kind` over n × dim vectors (row-major) with the given row ids (default:
 * 0 … n − 1). Defaults aim at recall@10 ≥ 0.95 with refine; see docs/INDEXES.md for measurements.
 */
export async function buildIndex(kernels: Kernels, kind: IndexKind, vectors: Float32Array, dim: number, rowIds?: Float64Array, options: BuildOptions = {}): Promise<VectorIndex> {
  switch (kind) {
    case "FLAT":
      return FlatIndex.build(kernels, vectors, dim, rowIds, options);
    case "IVF_FLAT":
    case "IVF_PQ":
    case "IVF_SQ":
    case "IVF_RQ":
      return IvfIndex.build(kernels, kind, vectors, dim, rowIds, options);
    case "HNSW":
    case "HNSW_SQ":
    case "HNSW_PQ":
      return HnswIndex.build(kernels, kind, vectors, dim, rowIds, options);
    default:
      throw createError("INVALID_ARGUMENT", `Unknown index kind "${String(kind)}".`, { kind });
  }
}

/**
 * Opens serialized index bytes. `bytes` is the whole file, or (IVF only, with `loadPartition`)
 * at least its first `headLength` bytes — read PREAMBLE_BYTES first and ask `readHeadLength`.
 */
export function openIndex(kernels: Kernels, bytes: Uint8Array, options: IvfOpenOptions = {}): VectorIndex {
  try {
    return openHead(kernels, new IndexHead(bytes), options);
  } catch (e) {
    // What the file says is the argument here: a value the constructors reject is damage.
    if (isQuiverError(e) && ["CORRUPT_FILE", "UNSUPPORTED", "OUT_OF_MEMORY", "WASM_LOAD_FAILED"].includes(e.code)) throw e;
    if (isQuiverError(e, "INVALID_ARGUMENT") && e.details.missing !== undefined) throw e;
    return corruptIndex(`it does not decode (${e instanceof Error ? e.message : String(e)})`, {}, e);
  }
}

function openHead(kernels: Kernels, head: IndexHead, options: IvfOpenOptions): VectorIndex {
  const kind = head.meta.kind as IndexKind;
  switch (kind) {
    case "FLAT":
      return FlatIndex.open(kernels, head);
    case "IVF_FLAT":
    case "IVF_PQ":
    case "IVF_SQ":
    case "IVF_RQ":
      return IvfIndex.open(kernels, head, options);
    case "HNSW":
    case "HNSW_SQ":
    case "HNSW_PQ":
      return HnswIndex.open(kernels, head);
    default:
      throw createError("CORRUPT_FILE", `Unknown index kind "${String(kind)}" in the file.`, { kind });
  }
}

export { FlatIndex, HnswIndex, IvfIndex };
export { ivfBuildBytes, reserveMemory } from "./ivf.js";
export type { HnswKind, IvfKind, IvfOpenOptions };
export { PREAMBLE_BYTES, readHeadLength } from "./format.js";
export type { LoadPartition } from "./ivf-partitions.js";
export { ivfSampleRows, kmeansSampleRows } from "./kmeans.js";
export { ProductQuantizer } from "./pq.js";
export { ScalarQuantizer } from "./sq.js";
export type * from "./types.js";
