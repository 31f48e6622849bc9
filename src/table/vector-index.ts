/**
 * Vector indexes as part of a table: finding the one on a column and opening its file (cached per
 * file). Building one over the live rows of a version, storing it as a file named by the manifest
 * and folding rows added later into it is vector-index-build.ts, loaded on the first build. Row ids
 * given to the index are `fragmentId · 2^32 + row`, the same as `_rowid`.
 */
import type { VectorIndex } from "../ann/index.js";

/** The ANN code loads on first use, so tables without vector indexes do not ship it. */
export const ann = (): Promise<typeof import("../ann/index.js")> => import("../ann/index.js");
export const binary = (): Promise<typeof import("../ann/ivf-binary.js")> => import("../ann/ivf-binary.js");
import type { IndexConfig } from "../indexes/config.js";
import type { Kernels } from "../kernels/index.js";
import type { BlobStore } from "../storage/blob-store.js";
import { fileKey, tableDir, type IndexEntry } from "../storage/manifest.js";
import type { Dataset, TableState } from "../dataset/dataset.js";
import type { LeaseScope } from "../session.js";

export interface CreateIndexOptions {
  config?: IndexConfig;
  /** Replace an index of the same name (default true, as in LanceDB). */
  replace?: boolean;
  /** Default `<column>_idx`. */
  name?: string;
  /** Reports build phases (sampling, k-means, encoding, … for vectors; indexing for full text). */
  progress?: (p: { phase: string; done: number; total: number }) => void;
  /**
   * Vector indexes: worker threads the build runs on — k-means assignment, PQ sub-space training,
   * PQ/SQ encoding and partition assignment split across the connection's scan pool (`connect(uri,
   * { workers })`): over shared WebAssembly memory (Node; cross-origin-isolated pages), or by
   * message passing elsewhere (each worker is sent its part of the rows once). The index is the
   * same bytes as a one-thread build. HNSW insertion runs in the workers only over shared memory.
   * Default: the pool's size when the connection has a pool, else 1 (this thread). At most the
   * pool's size; more than 1 without a pool is INVALID_ARGUMENT.
   */
  workers?: number;
}

/**
 * The share of the session's cache budget one opened IVF index may fill with partitions read on
 * demand, before the least recently used are dropped (centroids, codebook and row ids are resident
 * on top). Half: an index whose partitions fit keeps them all once probed, so a warm query reads
 * nothing from storage (1M × 96-byte PQ codes are 100 MB, inside the default 256 MiB budget); a
 * budget the probed partitions overflow re-reads and re-checks a share of them on every query,
 * which cost more than the scan itself. The other half is for data-file readers, columns and other
 * indexes.
 */
export const INDEX_CACHE_SHARE = 1 / 2;

/**
 * The index stored for `entry`, from the session's cache (opened from its file on a miss), leased
 * by `scope` until the operation using it ends: its WebAssembly memory is freed only after that.
 * `kernels` may still be loading: the file's first read goes out before they are needed.
 */
export function loadVectorIndex(ds: Dataset, kernels: Kernels | Promise<Kernels>, entry: IndexEntry, scope: LeaseScope): Promise<VectorIndex> {
  const key = fileKey(tableDir(ds.table), entry.file);
  return scope.acquire("vectorIndex", ds.cacheKey + entry.file, async () => {
    // Partitions read on demand may grow to `partitions` bytes: the session charges that up front,
    // so its budget bounds what the index can come to hold (INDEX_CACHE_SHARE of the budget).
    // The file's bodies are what can come to be resident on top of the head (counted in `resident`).
    const bodies = entry.fileSize - (Number.isSafeInteger(entry.headLength) && entry.headLength! <= entry.fileSize ? entry.headLength! : 0);
    const partitions = Math.min(Math.floor(ds.session.limitBytes * INDEX_CACHE_SHARE), bodies);
    const index = await openStoredIndex(ds.store, kernels, key, entry, partitions);
    const resident = index.stats().memoryBytes;
    return { value: index, bytes: IVF_KINDS.has(entry.kind) ? resident + partitions : resident, free: () => index.free() };
  });
}

export const IVF_KINDS: ReadonlySet<string> = new Set(["IVF_FLAT", "IVF_PQ", "IVF_SQ", "IVF_RQ"]);

/** Index kinds that search a vector column (the others, e.g. FTS, index text). */
export const VECTOR_KINDS: ReadonlySet<string> = new Set([...IVF_KINDS, "HNSW", "HNSW_SQ", "HNSW_PQ", "IVF_BINARY"]);

/** The vector index on `column`, if any; with `metric`, only one built for that distance type. */
export function vectorIndexEntry(state: TableState, column: string, metric?: string): IndexEntry | undefined {
  return state.indices.find((i) => i.columns[0] === column && VECTOR_KINDS.has(i.kind) && (metric === undefined || (i.params.distanceType ?? "l2") === metric));
}

/**
 * IVF: reads the head (centroids, codebook, row ids), and range-reads partition bodies when a query
 * first probes them, keeping at most `partitionBytes` of them resident (stored-index.ts).
 * HNSW and FLAT are in-memory designs (a graph walk touches any node): the whole file is read.
 */
async function openStoredIndex(store: BlobStore, kernels: Kernels | Promise<Kernels>, key: string, entry: IndexEntry, partitionBytes: number): Promise<VectorIndex> {
  if (!IVF_KINDS.has(entry.kind)) {
    // The whole file (a graph walk touches any node), asked for before the kernels are awaited.
    const bytes = store.get(key);
    bytes.catch(() => {});
    if (entry.kind === "IVF_BINARY") return (await binary()).BinaryIvfIndex.open(await kernels, await bytes, key) as unknown as VectorIndex;
    return (await ann()).openIndex(await kernels, await bytes);
  }
  // The first read goes out before the kernels and the code that parses it have loaded: over
  // HTTP, all three travel at once. 32 is the preamble (PREAMBLE_BYTES of ann/format.ts, not loaded yet).
  const hint = entry.headLength ?? 0;
  const first = store.getRange(key, 0, Number.isSafeInteger(hint) && hint >= 32 && hint <= entry.fileSize ? hint : 32);
  first.catch(() => {});
  const code = import("./stored-index.js");
  return (await code).openStoredIvf(store, await kernels, key, partitionBytes, first);
}
