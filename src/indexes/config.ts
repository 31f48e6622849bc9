/**
 * `Index.*`: index configurations for `table.createIndex(column, { config })`, named as in LanceDB.
 * A configuration is plain data, stored in the manifest with the index it built.
 */
import { createError } from "../errors.js";
import { resolveFtsOptions, type FtsOptions } from "../fts/options.js";

export type VectorIndexType = "IVF_FLAT" | "IVF_PQ" | "IVF_SQ" | "IVF_RQ" | "HNSW" | "HNSW_SQ" | "HNSW_PQ";

export interface IvfOptions {
  /** k-means partitions. Default ≈ √rows. More: smaller partitions, faster scans, more probes needed for recall. */
  numPartitions?: number;
  /** "l2" (default), "cosine" or "dot". Queries with another distance type search exactly instead. */
  distanceType?: "l2" | "cosine" | "dot";
  /** k-means iterations at most. Default 50. */
  maxIterations?: number;
  /** Training rows per centroid. Default 256. */
  sampleRate?: number;
}

export interface IvfPqOptions extends IvfOptions {
  /**
   * Sub-vectors per vector; must divide the dimension. Default dim / 4 for 8 bits, dim / 2 for 4
   * bits (the nearest divisor; both dim / 4 bytes per row). More: better recall, bigger codes.
   * 4 bits: at most 256.
   */
  numSubVectors?: number;
  /**
   * Bits per code: 8 (default, 256 centroids per sub-space) or 4 (16 centroids, scanned 16 rows
   * per SIMD lookup; coarser, so searches re-rank on the vectors, refineFactor default 10).
   */
  numBits?: number;
}

export interface IvfRqOptions extends IvfOptions {
  /** Bits per dimension of the RaBitQ code: 1 (the only value supported; more is extended RaBitQ, not built here). */
  numBits?: number;
}

export interface HnswOptions {
  distanceType?: "l2" | "cosine" | "dot";
  /** Links per node (2m on the bottom layer). Default 16. More: better recall, more memory, slower build. */
  m?: number;
  /** Candidate list while building. Default 150. More: better graph, slower build. */
  efConstruction?: number;
}

export interface HnswPqOptions extends HnswOptions {
  numSubVectors?: number;
  sampleRate?: number;
  maxIterations?: number;
}

export interface VectorIndexConfig {
  readonly kind: "vector";
  readonly type: VectorIndexType;
  readonly params: Readonly<Record<string, number | string>>;
}

/** Options of a full-text index (LanceDB's names and defaults; see docs/FTS.md). */
export type FtsIndexOptions = Partial<Omit<FtsOptions, "customStopWords">> & { customStopWords?: readonly string[] };

export interface FtsIndexConfig {
  readonly kind: "fts";
  readonly type: "FTS";
  readonly params: Readonly<Record<string, unknown>>;
}

/** A scalar index for `where`: BTREE (any order-comparable column), BITMAP (few distinct values) or LABEL_LIST (list columns). */
export interface ScalarIndexConfig {
  readonly kind: "scalar";
  readonly type: "BTREE" | "BITMAP" | "LABEL_LIST" | "FM";
  readonly params: Readonly<Record<string, number>>;
}

export type IndexConfig = VectorIndexConfig | FtsIndexConfig | ScalarIndexConfig;

/** Index kinds (manifest entries) that are scalar indexes. */
export const SCALAR_KINDS: readonly string[] = ["BTREE", "BITMAP", "LABEL_LIST", "FM"];

function positiveInt(name: string, v: unknown, max = 1 << 24): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > max) {
    throw createError("INVALID_ARGUMENT", `${name} must be an integer in 1..${max}, got ${String(v)}.`);
  }
  return v;
}

function vectorConfig(type: VectorIndexType, options: Record<string, unknown>, allowed: readonly string[]): VectorIndexConfig {
  const params: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(options ?? {})) {
    if (v === undefined) continue;
    if (!allowed.includes(k)) throw createError("INVALID_ARGUMENT", `${type} does not take option "${k}" (options: ${allowed.join(", ")}).`);
    if (k === "distanceType") {
      if (v !== "l2" && v !== "cosine" && v !== "dot") throw createError("INVALID_ARGUMENT", `distanceType must be "l2", "cosine" or "dot", got ${JSON.stringify(v)}.`);
      params[k] = v;
    } else if (k === "numBits") {
      const bits = type === "IVF_RQ" ? [1] : type === "IVF_PQ" ? [4, 8] : [8];
      if (!bits.includes(v as number)) throw createError("INVALID_ARGUMENT", `numBits must be ${bits.join(" or ")}, got ${String(v)}.`);
      params[k] = v as number;
    } else {
      params[k] = positiveInt(k, v)!;
    }
  }
  return { kind: "vector", type, params };
}

const IVF = ["numPartitions", "distanceType", "maxIterations", "sampleRate"];
const HNSW = ["distanceType", "m", "efConstruction"];

export const Index = {
  /** Partitions of full vectors: exact distances within the probed partitions. */
  ivfFlat: (options: IvfOptions = {}): IndexConfig => vectorConfig("IVF_FLAT", { ...options }, IVF),
  /** Partitions of product-quantized codes: the smallest index; use refineFactor for exact re-ranking. */
  ivfPq: (options: IvfPqOptions = {}): IndexConfig => vectorConfig("IVF_PQ", { ...options }, [...IVF, "numSubVectors", "numBits"]),
  /**
   * Partitions of RaBitQ codes (1 bit per dimension, with an error bound per row): about a 32nd of
   * the vectors' size; searches re-rank on the raw vectors (refineFactor, default 10).
   */
  ivfRq: (options: IvfRqOptions = {}): IndexConfig => vectorConfig("IVF_RQ", { ...options }, [...IVF, "numBits"]),
  /** Partitions of int8 scalar-quantized codes: a quarter of the vectors' size, high recall. */
  ivfSq: (options: IvfOptions = {}): IndexConfig => vectorConfig("IVF_SQ", { ...options }, IVF),
  /** A navigable small-world graph over full vectors. */
  hnsw: (options: HnswOptions = {}): IndexConfig => vectorConfig("HNSW", { ...options }, HNSW),
  /** HNSW over int8 scalar-quantized vectors. */
  hnswSq: (options: HnswOptions = {}): IndexConfig => vectorConfig("HNSW_SQ", { ...options }, HNSW),
  /**
   * A BM25 full-text index over a text column: simple tokenizer, English stemming and stop words,
   * lowercase and ASCII folding by default; `withPosition: true` enables phrase queries.
   */
  fts: (options: FtsIndexOptions = {}): IndexConfig => {
    resolveFtsOptions(options as Partial<FtsOptions>); // throws INVALID_ARGUMENT for bad options
    return { kind: "fts", type: "FTS", params: structuredClone({ ...options }) };
  },
  /**
   * A sorted, paged index over an int, float, timestamp, bool or text column for equality, ranges, IN,
   * BETWEEN and IS NULL; a lookup reads only the pages its range touches. `pageRows` (default 4096,
   * 16..65536): smaller pages read less per point lookup, larger ones keep the resident directory small.
   */
  btree: (options: { pageRows?: number } = {}): IndexConfig => {
    const pageRows = positiveInt("pageRows", options.pageRows, 65536);
    if (pageRows !== undefined && pageRows < 16) throw createError("INVALID_ARGUMENT", `pageRows must be an integer in 16..65536, got ${pageRows}.`);
    return { kind: "scalar", type: "BTREE", params: pageRows === undefined ? {} : { pageRows } };
  },
  /** Row lists per distinct value, for low-cardinality columns (equality and IN); read whole. */
  bitmap: (): IndexConfig => ({ kind: "scalar", type: "BITMAP", params: {} }),
  /** For list columns (tags, labels): `array_has(col, v)`, `array_has_any(col, [..])` and `array_has_all(col, [..])` answered from the rows of each label. */
  labelList: (): IndexConfig => ({ kind: "scalar", type: "LABEL_LIST", params: {} }),
  /** For text columns: `LIKE '%x%'` (also `'x%'`, `'%x'`, `'x'`) and `contains(col, 'x')` answered by an FM index, without scanning. */
  fm: (): IndexConfig => ({ kind: "scalar", type: "FM", params: {} }),
  /** HNSW over product-quantized vectors. */
  hnswPq: (options: HnswPqOptions = {}): IndexConfig => vectorConfig("HNSW_PQ", { ...options }, [...HNSW, "numSubVectors", "sampleRate", "maxIterations"]),
} as const;
