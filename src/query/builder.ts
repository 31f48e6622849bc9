/**
 * Fluent, lazy query builders with the names of LanceDB's TypeScript SDK. Each method checks its
 * own argument and records it in a plain `QueryPlan`; `toArray()` hands the plan to the executor.
 */
import { createError } from "../errors.js";
import type { Row } from "../data/rows.js";
import type { Schema } from "../data/schema.js";
import type { Column } from "../data/column.js";
import type { RecordBatch as ArrowRecordBatch, Schema as ArrowSchema, Table as ArrowTable } from "apache-arrow";
import { arrowConversions } from "../arrow/detect.js";
import type { OnDemandKit } from "./on-demand-kit.js";
import { LinearCombinationReranker } from "../rerank/linear-combination.js";
import { RRFReranker } from "../rerank/rrf.js";
import type { Reranker } from "../rerank/types.js";
import { DISTANCE_TYPES, type DistanceType, type QueryPlan, type QueryVector, type RerankSpec, type VectorPlan } from "./plan.js";
import type { ColumnOrdering, TakePlan } from "./plan.js";

/**
 * Runs a plan; `reranker` is the live object behind a `custom` rerank spec (it cannot be cloned).
 * `tableSchema`, when the executor has it, types the columns of Arrow results.
 */
export type QueryExecutor = ((plan: QueryPlan, reranker?: Reranker) => Promise<Row[]>) & {
  readonly tableSchema?: () => Promise<Schema>;
  /** explainPlan() / analyzePlan(): the plan as text, after a dry run (or, with `analyze`, a real one). */
  readonly explain?: (plan: QueryPlan, options: ExplainOptions, reranker?: Reranker) => Promise<string>;
  /** The query engine's pieces `outputSchema()` works with (see on-demand-kit.ts). */
  readonly kit?: () => Promise<OnDemandKit>;
  /** The results as pages of at most `batch` rows; a plain scan reads fragment by fragment instead of all at once. */
  readonly stream?: (plan: QueryPlan, batch: number, reranker?: Reranker) => AsyncIterable<Row[]>;
};

export interface ExplainOptions {
  /** Run the query and add rows, time per stage and bytes read (analyzePlan). */
  analyze?: boolean;
  /** Also list index lookups of filters that fall back to a scan, and postfilter steps. */
  verbose?: boolean;
}

/** Options of `toArrow()` / `toBatches()`, named as LanceDB's `QueryExecutionOptions`. */
export interface QueryExecutionOptions {
  /** Rows per record batch (default 8192). The last batch may be shorter. */
  maxBatchLength?: number;
}

/** Column names of a result: the rows' keys, or for no rows what the plan would have returned. */
function resultNames(rows: readonly Row[], plan: QueryPlan, table: Schema): string[] {
  if (rows.length > 0) {
    const seen = new Set<string>();
    for (const r of rows) for (const k of Object.keys(r)) seen.add(k);
    return [...seen];
  }
  const names = Array.isArray(plan.select) ? [...plan.select as readonly string[]]
    : plan.select !== undefined ? Object.keys(plan.select) : table.fields.map((f) => f.name);
  const vector = plan.vector !== undefined;
  if (vector && plan.fullText !== undefined) names.push("_relevance_score");
  else if (vector) names.push("_distance");
  else if (plan.fullText !== undefined) names.push("_score");
  if (plan.withRowId) names.push("_rowid");
  return names;
}

/** A built-in reranker as plain data, so a plan can cross to a worker; anything else is `custom`. */
function rerankSpec(r: Reranker): RerankSpec {
  if (r instanceof RRFReranker) return { kind: "rrf", k: r.k, returnScore: r.returnScore };
  if (r instanceof LinearCombinationReranker) return { kind: "linear", weight: r.weight, fill: r.fill, returnScore: r.returnScore };
  return { kind: "custom" };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function checkCount(what: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw createError("INVALID_ARGUMENT", `${what} must be an integer >= ${min}, got ${String(value)}.`);
  }
  return value;
}

export function isQueryVector(value: unknown): value is QueryVector {
  if (value instanceof Float32Array || value instanceof Float64Array || value instanceof Int8Array || value instanceof Uint8Array) return true;
  return Array.isArray(value) && value.length > 0 && value.every((x) => typeof x === "number");
}

/**
 * The query's own copy of a vector: later changes by the caller do not leak into a lazy query, and a
 * view into a large buffer does not drag that whole buffer along when the plan is cloned or posted.
 */
function ownCopy(v: QueryVector): QueryVector {
  return ArrayBuffer.isView(v) ? v.slice() : [...v];
}

/** Normalizes `v` or `[v1, v2, …]` to a list of query vectors. */
export function toQueryVectors(value: unknown): QueryVector[] {
  if (isQueryVector(value)) return [ownCopy(value)];
  if (Array.isArray(value) && value.length > 0 && value.every(isQueryVector)) return (value as QueryVector[]).map(ownCopy);
  // An array that is not a batch: name the first element that is not a number, as writes do.
  if (Array.isArray(value) && value.length > 0 && !value.some((x) => Array.isArray(x) || ArrayBuffer.isView(x))) {
    const position = value.findIndex((x) => typeof x !== "number");
    const x: unknown = value[position];
    throw createError(
      "INVALID_VECTOR",
      `The query vector holds ${typeof x === "string" ? JSON.stringify(x) : String(x)} at position ${position}; vectors hold numbers only.`,
      { position },
    );
  }
  throw createError(
    "INVALID_ARGUMENT",
    "A query vector must be a non-empty array of numbers or a typed array (Float32Array, Int8Array, Uint8Array), or an array of them for a batch.",
  );
}

abstract class QueryBase<Self> implements AsyncIterable<ArrowRecordBatch> {
  protected plan: Mutable<QueryPlan> = { offset: 0, withRowId: false };
  protected reranker: Reranker | undefined;

  constructor(protected readonly executor: QueryExecutor) {}

  protected abstract self(): Self;

  /** A SQL filter (see docs/FILTERS.md), e.g. `"category = 'tech' AND year >= 2020"`. */
  where(predicate: string): Self {
    if (typeof predicate !== "string") throw createError("INVALID_FILTER", `where() takes a SQL string, got ${typeof predicate}.`);
    this.plan.filter = predicate;
    return this.self();
  }

  /** Alias of `where`, as in LanceDB. */
  filter(predicate: string): Self {
    return this.where(predicate);
  }

  /** Columns to return, or a map of output name → SQL expression. `_distance` is always returned for vector queries. */
  select(columns: readonly string[] | Readonly<Record<string, string>> | string): Self {
    if (typeof columns === "string") columns = [columns];
    if (Array.isArray(columns)) {
      if (!columns.every((c) => typeof c === "string")) throw createError("INVALID_ARGUMENT", "select() takes column names as strings.");
      this.plan.select = [...(columns as readonly string[])];
    } else if (columns !== null && typeof columns === "object") {
      const entries = Object.entries(columns);
      if (!entries.every(([, v]) => typeof v === "string")) throw createError("INVALID_ARGUMENT", "select({...}) maps output names to SQL strings.");
      this.plan.select = Object.fromEntries(entries) as Record<string, string>;
    } else {
      throw createError("INVALID_ARGUMENT", "select() takes an array of column names or an object of name → SQL expression.");
    }
    return this.self();
  }

  limit(n: number): Self {
    this.plan.limit = checkCount("limit", n, 1);
    return this.self();
  }

  offset(n: number): Self {
    this.plan.offset = checkCount("offset", n, 0);
    return this.self();
  }

  /** Adds `_rowid` (fragment id × 2^32 + row offset) to every result. */
  withRowId(): Self {
    this.plan.withRowId = true;
    return this.self();
  }

  /**
   * Adds a BM25 full-text search over the table's FTS indexes. Alone it ranks rows by `_score`; with
   * a vector search too, the query is hybrid and the reranker fuses both lists (`_relevance_score`).
   */
  fullTextSearch(query: string, options: { columns?: string | readonly string[]; operator?: "OR" | "AND"; phrase?: boolean } = {}): Self {
    if (typeof query !== "string") throw createError("INVALID_ARGUMENT", `fullTextSearch() takes a string, got ${typeof query}.`);
    const columns = typeof options.columns === "string" ? [options.columns] : options.columns;
    if (columns !== undefined && !(Array.isArray(columns) && columns.every((c) => typeof c === "string"))) {
      throw createError("INVALID_ARGUMENT", "fullTextSearch() columns must be a column name or an array of them.");
    }
    if (options.operator !== undefined && options.operator !== "OR" && options.operator !== "AND") {
      throw createError("INVALID_ARGUMENT", `fullTextSearch() operator must be "OR" or "AND", got ${String(options.operator)}.`);
    }
    this.plan.fullText = {
      query, ...(columns ? { columns: [...columns] } : {}), ...(options.operator ? { operator: options.operator } : {}),
      ...(options.phrase !== undefined ? { phrase: options.phrase } : {}),
    };
    return this.self();
  }

  /** The reranker that orders results (hybrid queries default to `RRFReranker`). */
  rerank(reranker: Reranker): Self {
    if (typeof reranker?.rerankHybrid !== "function") throw createError("INVALID_ARGUMENT", "rerank() takes a Reranker (an object with rerankHybrid).");
    this.reranker = reranker;
    this.plan.rerank = rerankSpec(reranker);
    return this.self();
  }

  /**
   * Sorts the results by columns, as LanceDB's `orderBy({ columnName, ascending?, nullsFirst? })`
   * (or an array of them, first key first). A plain scan is sorted before `offset` / `limit`; a
   * search keeps its nearest `limit` rows and returns them in this order.
   */
  orderBy(ordering: ColumnOrdering | readonly ColumnOrdering[]): Self {
    const list = (Array.isArray(ordering) ? ordering : [ordering]) as readonly ColumnOrdering[];
    const flag = (f: unknown): boolean => f === undefined || typeof f === "boolean";
    if (list.length === 0 || !list.every((o) => typeof o?.columnName === "string" && o.columnName !== "" && flag(o.ascending) && flag(o.nullsFirst))) {
      throw createError("INVALID_ARGUMENT", "orderBy() takes { columnName, ascending?: boolean, nullsFirst?: boolean }, or a non-empty array of them.");
    }
    this.plan.orderBy = list.map((o) => ({ columnName: o.columnName, ascending: o.ascending ?? true, nullsFirst: o.nullsFirst ?? false }));
    return this.self();
  }

  /** The Arrow Schema of what `toArrow()` would return, worked out without running the query. */
  async outputSchema(): Promise<ArrowSchema> {
    // Every table (and the worker client) gives its schema; a bare executor is a test double.
    const table = (await this.executor.tableSchema?.()) ?? { fields: [] };
    // The engine pieces come from the executor: a table has them already, a worker client loads them on use.
    if (this.executor.kit === undefined) throw createError("UNSUPPORTED", "This query's executor cannot work out output schemas.");
    const [{ arrowSchema, loadArrow }, { outputSchemaOf }, kit] = await Promise.all([arrowConversions(), import("./on-demand.js"), this.executor.kit()]);
    return arrowSchema(await loadArrow(), outputSchemaOf(kit, this.plan, table));
  }

  /** The query as plain data, e.g. to post to a worker. */
  toPlan(): QueryPlan {
    return structuredClone(this.plan);
  }

  /**
   * The plan this query would run, as readable text: which indexes answer the filter and how,
   * prefilter or postfilter, the vector strategy (index with nprobes / ef / refine, or an exact scan
   * of the matching rows) and rows per stage. The prefilter is evaluated (through scalar indexes
   * where they answer) to size the stages; nothing is searched.
   */
  explainPlan(verbose = false): Promise<string> {
    return this.#explain({ verbose });
  }

  /** Runs the query and returns its plan with rows and time per stage and the bytes read from storage. */
  analyzePlan(): Promise<string> {
    return this.#explain({ analyze: true, verbose: true });
  }

  #explain(options: ExplainOptions): Promise<string> {
    if (this.executor.explain === undefined) return Promise.reject(createError("UNSUPPORTED", "This query's executor cannot explain plans."));
    return this.executor.explain({ ...this.plan, ...(this.plan.vector ? { vector: { ...this.plan.vector } } : {}) }, options, this.reranker);
  }

  async toArray(): Promise<Row[]> {
    // A shallow copy is enough here (the builder replaces, never mutates, what it put in the plan);
    // toPlan()'s deep clone is for plans that leave the thread.
    const plan = { ...this.plan, ...(this.plan.vector ? { vector: { ...this.plan.vector } } : {}) };
    return this.executor(plan, this.reranker);
  }

  /**
   * The results as an Arrow Table (apache-arrow, loaded on first use): vectors as FixedSizeList,
   * `_distance` / `_score` / `_relevance_score` as Float32. Type mapping: docs/ARROW.md.
   */
  async toArrow(options: QueryExecutionOptions = {}): Promise<ArrowTable> {
    const batches: ArrowRecordBatch[] = [];
    let schema: Schema | undefined;
    for await (const part of this.#batches(options)) {
      schema = part.schema;
      if (part.batch) batches.push(part.batch);
    }
    const { arrowTable, loadArrow } = await arrowConversions();
    const a = await loadArrow();
    return batches.length > 0 ? new a.Table(batches) : arrowTable(a, schema!, []);
  }

  /** The results as Arrow record batches of at most `maxBatchLength` rows. */
  async *toBatches(options: QueryExecutionOptions = {}): AsyncGenerator<ArrowRecordBatch, void, undefined> {
    for await (const part of this.#batches(options)) if (part.batch) yield part.batch;
  }

  /** As LanceDB: `for await (const batch of query)` iterates Arrow record batches. */
  [Symbol.asyncIterator](): AsyncIterator<ArrowRecordBatch> {
    return this.toBatches();
  }

  async *#batches(options: QueryExecutionOptions): AsyncGenerator<{ schema: Schema; batch?: ArrowRecordBatch }> {
    const size = options.maxBatchLength ?? 8192;
    checkCount("maxBatchLength", size, 1);
    const { arrowBatch, loadArrow, resultColumns, columnsAs } = await arrowConversions();
    const [a, table] = await Promise.all([loadArrow(), this.executor.tableSchema?.() ?? { fields: [] }]);
    const plan = { ...this.plan, ...(this.plan.vector ? { vector: { ...this.plan.vector } } : {}) };
    const pages = this.executor.stream?.(plan, size, this.reranker) ?? onePage(this.executor(plan, this.reranker));
    // The first page fixes the schema (names and inferred types of computed columns); later pages follow it.
    let schema: Schema | undefined;
    for await (const rows of pages) {
      if (rows.length === 0) continue;
      for (let at = 0; at < rows.length; at += size) {
        const part = rows.length <= size ? rows : rows.slice(at, at + size);
        let columns: Map<string, Column>;
        if (schema === undefined) ({ schema, columns } = resultColumns(part, resultNames(part, this.plan, table), table));
        else columns = columnsAs(part, schema);
        yield { schema, batch: arrowBatch(a, schema, columns, part.length) };
      }
    }
    if (schema === undefined) yield { schema: resultColumns([], resultNames([], this.plan, table), table).schema };
  }
}

/** A result that is not streamed, as a stream of one page (the reader cuts pages into batches). */
export async function* onePage(rows: Promise<Row[]>): AsyncGenerator<Row[], void, undefined> {
  yield await rows;
}

/** A scan of the table's rows, optionally filtered. */
export class Query extends QueryBase<Query> {
  protected self(): Query {
    return this;
  }

  /** Turns this query into a nearest-neighbour search for `vector` (or a batch of vectors). */
  nearestTo(vector: QueryVector | readonly QueryVector[]): VectorQuery {
    const q = new VectorQuery(this.executor, toQueryVectors(vector));
    Object.assign(q["plan"], { ...this.plan, vector: q["plan"].vector });
    if (this.reranker) q.rerank(this.reranker);
    return q;
  }

  /** A full-text (BM25) search for `query`, as LanceDB's `nearestToText`: the same as `fullTextSearch(query, { columns })`. */
  nearestToText(query: string, columns?: readonly string[]): Query {
    return this.fullTextSearch(query, columns === undefined ? {} : { columns });
  }
}

export type TextQueryType = "auto" | "vector" | "fts" | "hybrid";

/**
 * The query `table.search(text, queryType, ftsColumns)` builds: "fts" a BM25 search, "vector" the
 * text embedded by the table's embedding function, "hybrid" both, "auto" a vector search that falls
 * back to full text when the table has no embedding function (decided where the table is).
 */
export function textSearch(executor: QueryExecutor, text: string, queryType: TextQueryType = "auto", ftsColumns?: string | readonly string[]): VectorQuery | Query {
  if (!["auto", "vector", "fts", "hybrid"].includes(queryType)) {
    throw createError("INVALID_ARGUMENT", `search() queryType must be "auto", "vector", "fts" or "hybrid", got ${JSON.stringify(queryType)}.`);
  }
  const columns = ftsColumns === undefined ? undefined : typeof ftsColumns === "string" ? [ftsColumns] : [...ftsColumns];
  if (queryType === "fts") return new Query(executor).fullTextSearch(text, { columns });
  const q = new VectorQuery(executor, text, queryType === "auto" ? { columns } : undefined);
  return queryType === "hybrid" ? q.fullTextSearch(text, { columns }) : q;
}

export class VectorQuery extends QueryBase<VectorQuery> {
  /** `queries`, or a text the table's embedding function turns into the query vector. */
  constructor(executor: QueryExecutor, queries: readonly QueryVector[] | string, ftsFallback?: { columns?: readonly string[] }) {
    super(executor);
    const text = typeof queries === "string" ? queries : undefined;
    const vector: VectorPlan = {
      queries: text === undefined ? [...(queries as readonly QueryVector[])] : [], ...(text === undefined ? {} : { queryText: text }),
      ...(ftsFallback ? { ftsFallback } : {}),
      postfilter: false, bypassVectorIndex: false, fastSearch: false,
    };
    this.plan.vector = vector;
  }

  protected self(): VectorQuery {
    return this;
  }

  private get vec(): Mutable<VectorPlan> {
    return this.plan.vector as Mutable<VectorPlan>;
  }

  /** The vector column to search. Needed only when the table has several of matching dimension. */
  column(name: string): VectorQuery {
    if (typeof name !== "string" || name === "") throw createError("INVALID_ARGUMENT", "column() takes a column name.");
    this.vec.column = name;
    return this;
  }

  distanceType(type: DistanceType): VectorQuery {
    if (!DISTANCE_TYPES.includes(type)) {
      throw createError("INVALID_ARGUMENT", `Unknown distance type ${JSON.stringify(type)}; use one of ${DISTANCE_TYPES.join(", ")}.`);
    }
    this.vec.distanceType = type;
    return this;
  }

  /** Alias of `distanceType`, as in LanceDB. */
  metricType(type: DistanceType): VectorQuery {
    return this.distanceType(type);
  }

  /** Keeps results with lower <= _distance < upper; either bound may be undefined. */
  distanceRange(lower?: number, upper?: number): VectorQuery {
    for (const [what, v] of [["lower", lower], ["upper", upper]] as const) {
      if (v !== undefined && (typeof v !== "number" || Number.isNaN(v))) {
        throw createError("INVALID_ARGUMENT", `distanceRange ${what} bound must be a number or undefined, got ${String(v)}.`);
      }
    }
    this.vec.distanceRange = [lower, upper];
    return this;
  }

  /** Filter after the search rather than before: faster with an index, but may return fewer than `limit` rows. */
  postfilter(): VectorQuery {
    this.vec.postfilter = true;
    return this;
  }

  /** Adds another query vector; results then carry `_query_index`. */
  addQueryVector(vector: QueryVector): VectorQuery {
    this.vec.queries = [...this.vec.queries, ...toQueryVectors(vector).slice(0, 1)];
    return this;
  }

  nprobes(n: number): VectorQuery {
    this.vec.nprobes = checkCount("nprobes", n, 1);
    return this;
  }

  /** Partitions an IVF search probes at least (what `nprobes` sets), as in LanceDB. */
  minimumNprobes(n: number): VectorQuery {
    this.vec.nprobes = checkCount("minimumNprobes", n, 1);
    return this;
  }

  /**
   * Partitions an IVF search probes at most while a filter leaves fewer than `limit` rows (below
   * `nprobes` it has no effect). Default: no bound, so a filtered search returns `limit` rows
   * whenever that many match; a bound trades that for a predictable cost.
   */
  maximumNprobes(n: number): VectorQuery {
    this.vec.maximumNprobes = checkCount("maximumNprobes", n, 1);
    return this;
  }

  refineFactor(n: number): VectorQuery {
    this.vec.refineFactor = checkCount("refineFactor", n, 1);
    return this;
  }

  ef(n: number): VectorQuery {
    this.vec.ef = checkCount("ef", n, 1);
    return this;
  }

  /**
   * Asks for a recall@k (e.g. 0.95) instead of setting nprobes / ef / refineFactor: the table measures
   * its index against exact search on sample queries, once per index, and uses the cheapest knobs
   * that reach it. Knobs set explicitly on this query win.
   */
  targetRecall(recall: number): VectorQuery {
    if (typeof recall !== "number" || !(recall > 0 && recall <= 1)) throw createError("INVALID_ARGUMENT", `targetRecall must be in (0, 1], got ${String(recall)}.`);
    this.vec.targetRecall = recall;
    return this;
  }

  /** Search every vector exactly even when an index exists. */
  bypassVectorIndex(): VectorQuery {
    this.vec.bypassVectorIndex = true;
    return this;
  }

  /** Search only indexed rows, skipping the flat scan of rows added since the index was built. */
  fastSearch(): VectorQuery {
    this.vec.fastSearch = true;
    return this;
  }
}

/**
 * Rows fetched by position, as LanceDB's `TakeQuery` (`table.takeOffsets([…])`,
 * `table.takeRowIds([…])`): `select`, `withRowId`, then `toArray()` / `toArrow()`. Rows come back
 * in table order, each once; row ids that name no live row are skipped.
 */
export class TakeQuery extends QueryBase<TakeQuery> {
  constructor(executor: QueryExecutor, take: TakePlan) {
    super(executor);
    this.plan.take = take;
  }

  protected self(): TakeQuery {
    return this;
  }
}

/** Offsets (live-row positions) or row ids as a plan (bigint row ids as numbers); they are checked when the query runs. */
export function toTakePlan(kind: TakePlan["kind"], values: readonly (number | bigint)[]): TakePlan {
  return { kind, ids: Array.isArray(values) ? values.map((v) => (typeof v === "bigint" ? Number(v) : v)) : [-1] };
}
