/**
 * A query as plain data. Builders fill it in; nothing runs until `toArray()`. Being plain data, a
 * plan can be posted to a worker whole and executed there.
 */
export type DistanceType = "l2" | "cosine" | "dot" | "hamming";

export const DISTANCE_TYPES: readonly DistanceType[] = ["l2", "cosine", "dot", "hamming"];

/** One query vector, as the caller gave it. */
export type QueryVector = readonly number[] | Float32Array | Float64Array | Int8Array | Uint8Array;

export interface VectorPlan {
  /** One or more query vectors; with several, every result row carries `_query_index`. */
  readonly queries: readonly QueryVector[];
  /** Text to embed with the table's embedding function at execution, instead of `queries`. */
  readonly queryText?: string;
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
  readonly refineFactor?: number;
  readonly ef?: number;
  readonly bypassVectorIndex: boolean;
  readonly fastSearch: boolean;
}

export interface QueryPlan {
  readonly filter?: string;
  /** Column names, or output name → SQL expression. Absent: every column. */
  readonly select?: readonly string[] | Readonly<Record<string, string>>;
  /** Absent: every row for plain queries, 10 for vector queries. */
  readonly limit?: number;
  readonly offset: number;
  readonly withRowId: boolean;
  readonly vector?: VectorPlan;
}

export const DEFAULT_VECTOR_LIMIT = 10;
