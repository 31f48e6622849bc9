/**
 * The contract every vector index in src/ann implements, and the options they take. Option names
 * follow LanceDB's (`numPartitions`, `numSubVectors`, `distanceType`, `m`, `efConstruction`, …).
 */
import type { RowParallel } from "../kernels/parallel.js";

/** "l2" = squared Euclidean, "cosine" = 1 − cos, "dot" = 1 − q·x; smaller is closer. */
export type DistanceType = "l2" | "cosine" | "dot";

/**
 * - `FLAT`: exact search over f32 vectors (the oracle the others are tested against)
 * - `IVF_FLAT`, `IVF_PQ`, `IVF_SQ`, `IVF_RQ`: k-means partitions holding f32 vectors, 8-bit PQ codes,
 *   int8 SQ codes or 1-bit RaBitQ codes (re-ranked on the raw vectors by default)
 * - `HNSW`, `HNSW_SQ`, `HNSW_PQ`: a navigable small-world graph over f32 vectors, SQ codes or PQ codes
 */
export type IndexKind = "FLAT" | "IVF_FLAT" | "IVF_PQ" | "IVF_SQ" | "IVF_RQ" | "HNSW" | "HNSW_SQ" | "HNSW_PQ";

/**
 * Which rows a search may return. A function is asked about each candidate with the row id given
 * at build time and the row's position (0, 1, 2 … in the order vectors were given to build and
 * add); a Uint8Array is a bitmap over positions (bit p & 7 of byte p >> 3 set = allowed).
 */
export type AllowedRows = ((rowId: number, position: number) => boolean) | Uint8Array;

/** Reads full-precision vectors back (from storage) for re-ranking: rowIds.length × dim, row-major. */
export type FetchVectors = (rowIds: Float64Array) => Promise<Float32Array>;

export interface SearchOptions {
  /** IVF: partitions to scan, nearest first. Default 20; more → higher recall, slower. Capped at numPartitions. */
  nprobes?: number;
  /** IVF: partitions to scan at most while `allowed` leaves fewer than k rows. Default: all of them. */
  maximumNprobes?: number;
  /** HNSW: size of the candidate list at the bottom layer. Default max(k, 64); more → higher recall, slower. */
  ef?: number;
  /**
   * Fetch k × refineFactor approximate candidates and re-rank them by exact distance computed on
   * vectors from `fetchVectors`. Recovers most of what PQ/SQ codes lose; 1 or unset = no re-rank.
   */
  refineFactor?: number;
  /** Required with refineFactor > 1 (an index keeps codes, not the full vectors). IVF_RQ re-ranks k × 10 candidates by default when given. */
  fetchVectors?: FetchVectors;
  /**
   * Only rows that pass are returned. IVF probes further partitions, and HNSW falls back to an
   * exact scan of the allowed rows, so k rows come back whenever k rows are allowed.
   */
  allowed?: AllowedRows;
}

export interface SearchHits {
  /** Row ids as given at build/add time, nearest first. */
  rows: Float64Array;
  /** Positions (build/add order) of the same rows. */
  positions: Int32Array;
  /** Distances: exact after a refine or for FLAT/IVF_FLAT/HNSW, else from the codes. */
  distances: Float32Array;
}

/** Reported to `progress` while an index builds: `done` of `total` units of `phase`. */
export interface BuildProgress {
  phase: "sample" | "kmeans" | "train-pq" | "train-sq" | "assign" | "encode" | "insert";
  done: number;
  total: number;
}

export interface CommonBuildOptions {
  /** Default "l2". Cosine normalizes vectors and queries, then ranks by dot product. */
  distanceType?: DistanceType;
  /** Seed of every random choice (sampling, k-means++ seeding, HNSW levels). Default 42. */
  seed?: number;
  progress?: (p: BuildProgress) => void;
  /**
   * Threads for the build's row-parallel steps — k-means assignment, PQ/SQ encoding, assigning
   * rows to partitions — from the scan pool over shared memory (`pool.rowParallel(workers)`), on
   * the same kernels the index is built with. The index is byte for byte the single-thread one.
   * Default: this thread only.
   */
  parallel?: RowParallel;
}

export interface IvfBuildOptions extends CommonBuildOptions {
  /** k-means partitions. Default ≈ √n (at least 1). More → smaller partitions, more probes needed. */
  numPartitions?: number;
  /** IVF_PQ: sub-vectors per vector (must divide dim). Default dim/4 when it divides, else the nearest divisor. */
  numSubVectors?: number;
  /** IVF_PQ: bits per code, only 8 (256 centroids per sub-space). IVF_RQ: bits per dimension, only 1. */
  numBits?: number;
  /** k-means iterations at most (stops earlier when the objective settles). Default 50. */
  maxIterations?: number;
  /** Training rows per centroid: k-means sees numPartitions × sampleRate rows, PQ 64 × sampleRate (a quarter of LanceDB's sample: recall@10 within 0.005 on glove, PQ training 4× faster). Default 256. */
  sampleRate?: number;
}

export interface HnswBuildOptions extends CommonBuildOptions {
  /** Links per node (2m at the bottom layer). Default 16. More → better recall, more memory, slower build. */
  m?: number;
  /** Candidate list size while inserting. Default 100. More → better graph, slower build. */
  efConstruction?: number;
  /** HNSW_PQ: sub-vectors per vector. Default as for IVF_PQ. */
  numSubVectors?: number;
  /** HNSW_PQ: PQ trains on 64 × sampleRate rows. Default 256 (16,384 rows). */
  sampleRate?: number;
  /** HNSW_PQ: k-means iterations for the codebooks (stops earlier when settled). Default 50. */
  maxIterations?: number;
}

export interface IndexStats {
  kind: IndexKind;
  metric: DistanceType;
  dim: number;
  size: number;
  /** Bytes held in memory (WebAssembly and JS) by the index. */
  memoryBytes: number;
  /** Build parameters (numPartitions, numSubVectors, m, …). */
  params: Record<string, number | string | boolean>;
}

export interface VectorIndex {
  readonly kind: IndexKind;
  readonly metric: DistanceType;
  readonly dim: number;
  /** Number of indexed vectors. */
  readonly size: number;
  /** Bytes held in memory (WebAssembly and JS). */
  bytes(): number;
  stats(): IndexStats;
  /** The row id of a position. */
  rowId(position: number): number;
  /** The k nearest allowed rows to `query`, nearest first. */
  search(query: Float32Array | ArrayLike<number>, k: number, options?: SearchOptions): Promise<SearchHits>;
  /** Indexes more vectors (n × dim) under the given row ids; their positions continue from `size`. */
  add(vectors: Float32Array, rowIds: Float64Array): Promise<void>;
  /** The whole index as bytes (layout in docs/INDEXES.md); `openIndex` reads it back. */
  serialize(): Promise<Uint8Array>;
  /** `serialize`'s bytes handed out a piece at a time (`writeStream`), where an index can do so without a whole copy. */
  serializeStream?(): Promise<SerializedStream>;
  /** Releases the WebAssembly memory; the index cannot be used afterwards. */
  free(): void;
}

/**
 * An index file as its bytes in order: `size` bytes in all, the first `headLength` of them what
 * opening it needs. Each part must be consumed before the next is asked for (the producer may reuse
 * one buffer), and the index left unchanged until the last.
 */
export interface SerializedStream {
  size: number;
  headLength: number;
  parts: AsyncIterable<Uint8Array>;
}
