/**
 * A query as plain data. Builders fill it in; nothing runs until `toArray()`. Being plain data, a
 * plan can be posted to a worker whole and executed there.
 */
import type { FtsCorpusStatistics } from "../fts/index.js";

export type DistanceType = "l2" | "cosine" | "dot" | "hamming";

export const DISTANCE_TYPES: readonly DistanceType[] = ["l2", "cosine", "dot", "hamming"];

/** One query vector, as the caller gave it. */
export type QueryVector = readonly number[] | Float32Array | Float64Array | Int8Array | Uint8Array;

export interface VectorPlan {
  /** One or more query vectors; with several, every result row carries `_query_index`. */
  readonly queries: readonly QueryVector[];
  /** Text to embed with the table's embedding function at execution, instead of `queries`. */
  readonly queryText?: string;
  /** `search(text)` in "auto" mode: without an embedding function, run `queryText` as a full-text search on these columns. */
  readonly ftsFallback?: { readonly columns?: readonly string[] };
  /** Vector column to search; inferred from the schema and the query's length when absent. */
  readonly column?: string;
  /** Default: l2 for float and int8 columns, hamming for bit columns. */
  readonly distanceType?: DistanceType;
  /** Keep results with lower <= _distance < upper. */
  readonly distanceRange?: readonly [number | undefined, number | undefined];
  /** Apply `where` after the nearest neighbours are found instead of before (may return fewer rows). */
  readonly postfilter: boolean;
  /** Knobs of approximate indexes; accepted and carried now, used once a vector index exists. */
  readonly nprobes?: number;
  /**
   * Most IVF partitions to probe while a filter leaves fewer than `limit` rows (LanceDB's
   * `maximumNprobes`). Absent: keep probing until `limit` rows are found or every partition is.
   */
  readonly maximumNprobes?: number;
  readonly refineFactor?: number;
  readonly ef?: number;
  readonly bypassVectorIndex: boolean;
  readonly fastSearch: boolean;
  /** Recall@k to reach instead of raw knobs: the table tunes nprobes / ef / refineFactor on sample queries (once per index). */
  readonly targetRecall?: number;
}

/** A full-text (BM25) search over the table's FTS indexes. */
export interface FullTextPlan {
  readonly query: string;
  /** Indexed columns to search; default every column with a full-text index. */
  readonly columns?: readonly string[];
  /** `OR` (default): any term matches; `AND`: every term must. */
  readonly operator?: "OR" | "AND";
  /** `true`: the whole query is one phrase; default: `"quoted words"` are phrases. */
  readonly phrase?: boolean;
  /**
   * BM25 statistics to score with instead of the table's own: a sharded view sends every shard the
   * sum over all shards, so their scores equal one table's (see src/shard/).
   */
  readonly statistics?: FtsCorpusStatistics;
}

/** The reranker of a hybrid query, as data (built-ins), or `custom` for a user object kept by the builder. */
export type RerankSpec =
  | { readonly kind: "rrf"; readonly k: number; readonly returnScore: "relevance" | "all" }
  | { readonly kind: "linear"; readonly weight: number; readonly fill: number; readonly returnScore: "relevance" | "all" }
  | { readonly kind: "custom" };

export interface QueryPlan {
  readonly filter?: string;
  /** Column names, or output name → SQL expression. Absent: every column. */
  readonly select?: readonly string[] | Readonly<Record<string, string>>;
  /** Absent: every row for plain queries, 10 for vector queries. */
  readonly limit?: number;
  readonly offset: number;
  readonly withRowId: boolean;
  readonly vector?: VectorPlan;
  /** With `vector` too, the query is hybrid: both result lists go to the reranker (default RRF). */
  readonly fullText?: FullTextPlan;
  readonly rerank?: RerankSpec;
  /** Sort keys, applied to the rows the query finds (before `offset` / `limit` for plain scans). */
  readonly orderBy?: readonly ColumnOrdering[];
  /** Fetch these rows instead of scanning or searching (filters and limits do not apply). */
  readonly take?: TakePlan;
}

export const DEFAULT_VECTOR_LIMIT = 10;

/** One sort key of `orderBy`, as LanceDB's `ColumnOrdering`. */
export interface ColumnOrdering {
  readonly columnName: string;
  /** Default true. */
  readonly ascending?: boolean;
  /** Default false: NULLs sort last. */
  readonly nullsFirst?: boolean;
}

/** Rows fetched by position instead of searched for (`takeOffsets` / `takeRowIds`). */
export interface TakePlan {
  /** `offsets`: positions among the live rows in table order; `rowIds`: `_rowid` values. */
  readonly kind: "offsets" | "rowIds";
  readonly ids: readonly number[];
}

