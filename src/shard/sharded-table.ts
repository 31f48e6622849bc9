/**
 * `ShardedTable`: several tables with one schema — local, remote over HTTP, or both — read as one
 * table. A query goes to every shard at once; each answers with its own best rows and the view
 * merges them into what one table holding every row would return:
 *
 *   query ─► embed text once (first shard's embedding function)
 *         ├─► vector:    every shard's top (offset + limit) ─► merge by _distance ─► offset / limit
 *         ├─► full text: every shard's BM25 statistics ─► summed ─► every shard scores with the sum
 *         │              ─► top (offset + limit) each ─► merge by _score ─► offset / limit
 *         └─► hybrid:    the merged vector list and the merged full-text list ─► reranker (RRF)
 *
 * `where` and `select` work row by row, so each shard applies them to its own rows (a `.postfilter()`
 * is applied after the merge instead, as one table applies it after its top-k); `limit` and `offset`
 * are applied once, after the merge. Ties are broken by shard order (see merge.ts). Plain scans
 * return the shards' rows one shard after another. Writes are refused with READ_ONLY.
 */
import { createError } from "../errors.js";
import type { Row } from "../data/rows.js";
import type { Schema } from "../data/schema.js";
import type { Schema as ArrowSchema, Table as ArrowTable } from "apache-arrow";
import type { Query, TakeQuery, VectorQuery, ExplainOptions, QueryExecutor, TextQueryType } from "../query/builder.js";
import type { FullTextPlan, QueryPlan, QueryVector } from "../query/plan.js";
import type { Reranker } from "../rerank/types.js";
import type { LiveColumns, Table } from "../table.js";
import type { FtsCorpusStatistics } from "../fts/index.js";
import type { ShardKit } from "./kit.js";
import { byQuery, finishRows, rankAcross, RerankIds, type ShardRow } from "./merge.js";

/** Default `limit` of searches, as for one table (query/plan.ts DEFAULT_VECTOR_LIMIT). */
const SEARCH_LIMIT = 10;
/** The computed column that carries a postfilter's verdict from the shards to the merge. */
const POSTFILTER = "__quiver_postfilter";

/** What every shard runs of a plan: no reranker (the view reranks the merged lists), no text left to embed. */
function forShards(plan: QueryPlan): QueryPlan {
  const { rerank: _rerank, ...rest } = plan;
  if (rest.vector?.queryText === undefined) return rest;
  const { queryText: _text, ...vector } = rest.vector;
  return { ...rest, vector };
}

export class ShardedTable {
  #open = true;
  readonly #executor: QueryExecutor;

  /**
   * @param shards the tables, in the order ties are broken by
   * @param release closes what the view opened (tables, connections); called once by close()
   */
  constructor(
    readonly name: string,
    private readonly shards: readonly Table[],
    private readonly tableSchema: Schema,
    private readonly kit: ShardKit,
    private readonly release: () => Promise<void>,
  ) {
    this.#executor = Object.assign((plan: QueryPlan, reranker?: Reranker) => this.execute(plan, reranker), {
      tableSchema: async () => this.tableSchema,
      explain: (plan: QueryPlan, options: ExplainOptions, reranker?: Reranker) => this.explain(plan, options, reranker),
      kit: async () => kit.onDemandKit,
    });
  }

  /** How many tables the view reads. */
  get numShards(): number {
    return this.shards.length;
  }

  /** The shards' table names, in shard order. */
  get shardNames(): string[] {
    return this.shards.map((t) => t.name);
  }

  isOpen(): boolean {
    return this.#open;
  }

  /** Closes the view and what it opened itself (tables by name or location, and their connections); tables passed in stay open. */
  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    await this.release();
  }

  display(): string {
    return `ShardedTable(${this.name}, ${this.shards.length} shards, ${this.tableSchema.fields.map((f) => f.name).join(", ")})`;
  }

  toString(): string {
    return this.display();
  }

  #check(): void {
    if (!this.#open) throw createError("CLOSED", `Sharded table "${this.name}" is closed.`);
  }

  async quiverSchema(): Promise<Schema> {
    this.#check();
    return this.tableSchema;
  }

  /** The schema as an Arrow Schema (apache-arrow, loaded on first use). */
  async schema(): Promise<ArrowSchema> {
    this.#check();
    const { arrowSchema, loadArrow } = await this.kit.arrowConversions();
    return arrowSchema(await loadArrow(), this.tableSchema);
  }

  /** The saved table config (embedding functions) of the first shard. */
  async tableConfig(): Promise<Readonly<Record<string, unknown>>> {
    this.#check();
    return this.shards[0]!.tableConfig();
  }

  async countRows(filter?: string): Promise<number> {
    this.#check();
    const counts = await Promise.all(this.shards.map((t) => t.countRows(filter)));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** @internal Every live row as columns: the shards' batches one shard after another. */
  async liveColumns(): Promise<LiveColumns> {
    this.#check();
    const parts = await Promise.all(this.shards.map((t) => t.liveColumns()));
    return { schema: this.tableSchema, batches: parts.flatMap((p) => p.batches) };
  }

  /** @internal As `Table.liveBatches`, shard after shard. */
  async *liveBatches(): AsyncGenerator<LiveColumns["batches"][number]> {
    this.#check();
    for (const t of this.shards) yield* t.liveBatches();
  }

  /** Every live row as one Arrow Table (shard after shard). */
  async toArrow(): Promise<ArrowTable> {
    const live = await this.liveColumns();
    const { arrowBatch, arrowTable, loadArrow } = await this.kit.arrowConversions();
    const a = await loadArrow();
    return arrowTable(a, live.schema, live.batches.map((b) => arrowBatch(a, live.schema, b.columns, b.numRows)));
  }

  query(): Query {
    return new this.kit.Query(this.#executor);
  }

  /** As `Table.search`: a vector (or a batch), or a text for "fts", "vector" (embedded once), "hybrid" or "auto". */
  search(query: QueryVector | readonly QueryVector[]): VectorQuery;
  search(query: string, queryType: "fts", ftsColumns?: string | readonly string[]): Query;
  search(query: string, queryType?: "auto" | "vector" | "hybrid", ftsColumns?: string | readonly string[]): VectorQuery;
  search(query: QueryVector | readonly QueryVector[] | string, queryType: TextQueryType = "auto", ftsColumns?: string | readonly string[]): VectorQuery | Query {
    const { textSearch, toQueryVectors, VectorQuery: Vq } = this.kit;
    return typeof query === "string" ? textSearch(this.#executor, query, queryType, ftsColumns) : new Vq(this.#executor, toQueryVectors(query));
  }

  vectorSearch(vector: QueryVector | readonly QueryVector[]): VectorQuery {
    return this.search(vector);
  }

  /** Rows at these positions of the view (the shards' live rows one shard after another). */
  takeOffsets(offsets: readonly number[]): TakeQuery {
    return new this.kit.TakeQuery(this.#executor, this.kit.toTakePlan("offsets", offsets));
  }

  /** Refused when run (UNSUPPORTED): row ids are unique only within a shard. */
  takeRowIds(rowIds: readonly (number | bigint)[]): TakeQuery {
    return new this.kit.TakeQuery(this.#executor, this.kit.toTakePlan("rowIds", rowIds));
  }

  /** Runs a plan built elsewhere (a query builder, a worker client). */
  async execute(plan: QueryPlan, live?: Reranker): Promise<Row[]> {
    this.#check();
    if (plan.take !== undefined) return this.#take(plan);
    const resolved = await this.shards[0]!.embedPlan(plan);
    if (resolved.orderBy !== undefined) return this.#ordered(resolved, live);
    return this.#run(resolved, live);
  }

  /** Sends `plan` to every shard at once. */
  #fanOut(plan: QueryPlan): Promise<Row[][]> {
    return Promise.all(this.shards.map((t) => t.execute(plan)));
  }

  async #run(plan: QueryPlan, live: Reranker | undefined): Promise<Row[]> {
    const searching = plan.vector !== undefined || plan.fullText !== undefined;
    const limit = plan.limit ?? (searching ? SEARCH_LIMIT : undefined);
    const k = limit === undefined ? undefined : plan.offset + limit;
    const base: QueryPlan = { ...forShards(plan), offset: 0, limit: k };
    if (!searching) {
      const lists = await this.#fanOut(base);
      const rows = lists.flatMap((rows, shard) => rows.map((row) => ({ row, shard })));
      return finishRows(rows.slice(plan.offset, k), plan.withRowId);
    }
    const reranker = this.#reranker(plan, live);
    const page = (rows: readonly Row[]): Row[] => rows.slice(plan.offset, plan.offset + limit!);
    if (plan.fullText !== undefined && plan.vector !== undefined) {
      const [vec, fts] = await Promise.all([this.#vectorLists(base, true), this.#ftsList(base, true)]);
      const ids = new RerankIds();
      const ranked = await (reranker ?? new this.kit.RRFReranker()).rerankHybrid(plan.fullText.query, vec.flat().map((r) => ids.tag(r)), fts.map((r) => ids.tag(r)));
      return ids.restore(page(ranked) as typeof ranked, plan.withRowId);
    }
    if (plan.fullText !== undefined) {
      const fts = await this.#ftsList(base, plan.withRowId || reranker !== undefined);
      if (reranker === undefined) return finishRows(fts.slice(plan.offset), plan.withRowId);
      if (reranker.rerankFts === undefined) throw createError("INVALID_ARGUMENT", "This reranker has no rerankFts(), so it cannot rerank a full-text query alone.");
      const ids = new RerankIds();
      return ids.restore(page(await reranker.rerankFts(plan.fullText.query, fts.map((r) => ids.tag(r)))) as never, plan.withRowId);
    }
    const lists = await this.#vectorLists(base, plan.withRowId || reranker !== undefined);
    const rows = lists.flatMap((list) => list.slice(plan.offset, plan.offset + limit!));
    if (reranker === undefined) return finishRows(rows, plan.withRowId);
    if (reranker.rerankVector === undefined) throw createError("INVALID_ARGUMENT", "This reranker has no rerankVector(), so it cannot rerank a vector query alone; add fullTextSearch() for a hybrid query.");
    const ids = new RerankIds();
    return ids.restore(await reranker.rerankVector(plan.vector!.queryText ?? "", rows.map((r) => ids.tag(r))), plan.withRowId);
  }

  /**
   * The vector search's best `base.limit` rows per query vector over all shards (postfiltered
   * after the merge when the query asks for a postfilter), without offset.
   */
  async #vectorLists(base: QueryPlan, withRowId: boolean): Promise<ShardRow[][]> {
    const vec = base.vector!;
    const post = vec.postfilter && base.filter !== undefined;
    const plan: QueryPlan = post
      ? { ...base, fullText: undefined, withRowId, filter: undefined, vector: { ...vec, postfilter: false }, select: this.#selectWith(base.select, POSTFILTER, base.filter!) }
      : { ...base, fullText: undefined, withRowId };
    const merged = rankAcross(await this.#fanOut(plan), "_distance");
    return byQuery(merged, vec.queries.length > 1).map((list) => {
      let found = list.slice(0, base.limit);
      if (post) {
        found = found.filter((r) => r.row[POSTFILTER] === true);
        for (const r of found) delete r.row[POSTFILTER];
      }
      return found;
    });
  }

  /** The full-text search's best `base.limit` rows over all shards, each scored with the statistics of all of them. */
  async #ftsList(base: QueryPlan, withRowId: boolean): Promise<ShardRow[]> {
    const statistics = await this.#statistics(base.fullText!);
    const plan: QueryPlan = { ...base, vector: undefined, fullText: { ...base.fullText!, statistics }, withRowId };
    return rankAcross(await this.#fanOut(plan), "_score").slice(0, base.limit);
  }

  /** BM25 statistics of the query's terms summed over every shard (what one table over all rows has). */
  async #statistics(ft: FullTextPlan): Promise<FtsCorpusStatistics> {
    const [parts, { addStatistics }] = await Promise.all([Promise.all(this.shards.map((t) => t.ftsStatistics(ft))), import("../fts/index.js")]);
    return addStatistics(parts);
  }

  /** `select` (absent: every column) plus a computed column `name` = `sql`. */
  #selectWith(select: QueryPlan["select"], name: string, sql: string): Readonly<Record<string, string>> {
    const names = select === undefined ? this.tableSchema.fields.map((f) => f.name) : Array.isArray(select) ? select as readonly string[] : undefined;
    const map = names === undefined ? { ...(select as Readonly<Record<string, string>>) } : Object.fromEntries(names.map((n) => [n, n]));
    return { ...map, [name]: sql };
  }

  #reranker(plan: QueryPlan, live: Reranker | undefined): Reranker | undefined {
    const spec = plan.rerank;
    if (live !== undefined || spec === undefined) return live;
    if (spec.kind === "rrf") return new this.kit.RRFReranker(spec.k, spec.returnScore);
    if (spec.kind === "linear") return new this.kit.LinearCombinationReranker({ weight: spec.weight, fill: spec.fill, returnScore: spec.returnScore });
    throw createError("UNSUPPORTED", "A custom reranker cannot travel with a query plan (e.g. to a worker); use it in the same thread as the table.");
  }

  /**
   * `orderBy`: a search finds its rows as usual and returns them in the keys' order; a plain scan
   * asks every shard for its first (offset + limit) rows in that order and merges them (ties by
   * shard order). Sort keys the caller did not select travel with the rows and leave them after.
   */
  async #ordered(plan: QueryPlan, live: Reranker | undefined): Promise<Row[]> {
    const { compareValues } = await import("../query/on-demand.js");
    const keys = plan.orderBy!.map((o) => [o.columnName, compareValues(o)] as const);
    const compare = (a: Row, b: Row): number => {
      for (const [name, cmp] of keys) {
        const c = cmp(a[name], b[name]);
        if (c !== 0) return c;
      }
      return 0;
    };
    const sel = plan.select;
    const present = (name: string): boolean => sel === undefined || (Array.isArray(sel) ? (sel as readonly string[]).includes(name) : Object.hasOwn(sel, name));
    const extra = keys.map(([name]) => name).filter((name) => !present(name) && this.tableSchema.fields.some((f) => f.name === name));
    const select = extra.length === 0 ? sel : Array.isArray(sel) ? [...sel as readonly string[], ...extra] : { ...sel, ...Object.fromEntries(extra.map((n) => [n, n])) };
    let rows: Row[];
    if (plan.vector !== undefined || plan.fullText !== undefined) {
      rows = (await this.#run({ ...plan, orderBy: undefined, select }, live)).sort(compare);
    } else {
      const k = plan.limit === undefined ? undefined : plan.offset + plan.limit;
      const lists = await this.#fanOut({ ...plan, select, offset: 0, limit: k });
      const merged = lists.flatMap((list, shard) => list.map((row) => ({ row, shard }))).sort((a, b) => compare(a.row, b.row));
      rows = finishRows(merged.slice(plan.offset, k), plan.withRowId);
    }
    for (const r of rows) for (const name of extra) delete r[name];
    return rows;
  }

  /** `takeOffsets`: positions of the view map to (shard, position in the shard). */
  async #take(plan: QueryPlan): Promise<Row[]> {
    const take = plan.take!;
    if (take.kind === "rowIds") {
      throw createError("UNSUPPORTED", `takeRowIds() on sharded table "${this.name}": row ids are unique only within a shard; use takeOffsets(), or a where on a key column.`);
    }
    const counts = await Promise.all(this.shards.map((t) => t.countRows()));
    const total = counts.reduce((a, b) => a + b, 0);
    const wanted = [...new Set(take.ids)].sort((a, b) => a - b);
    const bad = wanted.find((o) => !Number.isSafeInteger(o) || o < 0 || o >= total);
    if (bad !== undefined) throw createError("INVALID_ARGUMENT", `takeOffsets(): offset ${bad} is not a position in the table (${total} rows).`, { offset: bad });
    const local: number[][] = counts.map(() => []);
    let start = 0;
    let i = 0;
    counts.forEach((n, shard) => {
      for (; i < wanted.length && wanted[i]! < start + n; i++) local[shard]!.push(wanted[i]! - start);
      start += n;
    });
    const lists = await Promise.all(this.shards.map((t, shard) => (local[shard]!.length === 0 ? [] : t.execute({ ...plan, take: { kind: "offsets", ids: local[shard]! } }))));
    return finishRows(lists.flatMap((rows, shard) => rows.map((row) => ({ row, shard }))), plan.withRowId);
  }

  /**
   * explainPlan() / analyzePlan(): how the view splits the query, then each shard's own plan (with
   * `analyze`, each shard runs its part and reports its rows, time and bytes read).
   */
  async explain(plan: QueryPlan, options: ExplainOptions = {}, reranker?: Reranker): Promise<string> {
    this.#check();
    const resolved = await this.shards[0]!.embedPlan(plan);
    const searching = resolved.vector !== undefined || resolved.fullText !== undefined;
    const limit = resolved.limit ?? (searching ? SEARCH_LIMIT : undefined);
    const k = limit === undefined ? undefined : resolved.offset + limit;
    const fullText = resolved.fullText && { ...resolved.fullText, statistics: await this.#statistics(resolved.fullText) };
    const shardPlan: QueryPlan = { ...forShards(resolved), offset: 0, limit: k, ...(fullText ? { fullText } : {}) };
    const texts = await Promise.all(this.shards.map((t) => t.explain(shardPlan, options)));
    const merge = resolved.vector !== undefined && resolved.fullText !== undefined
      ? `vector and full-text lists merged across shards, then fused by ${(this.#reranker(resolved, reranker) ?? new this.kit.RRFReranker()).constructor.name}`
      : resolved.vector !== undefined ? "merged by _distance (ties: shard order)"
      : resolved.fullText !== undefined ? "scored with BM25 statistics summed over every shard, merged by _score (ties: shard order)"
      : "concatenated in shard order";
    const head = `ShardedTable ${this.name}: ${this.shards.length} shards queried in parallel${k === undefined ? "" : `, each for its first ${k} rows`}; ${merge}; then offset ${resolved.offset}${limit === undefined ? "" : `, limit ${limit}`}`;
    return [head, ...texts.map((text, i) => `shard ${i} (${this.shards[i]!.name}):\n${text.split("\n").map((l) => `  ${l}`).join("\n")}`)].join("\n");
  }

  #readOnly(what: string): never {
    throw createError("READ_ONLY", `Sharded table "${this.name}" is a read-only view; ${what} its shards (${this.shardNames.join(", ")}) and open the view again.`);
  }

  async add(_data?: unknown, _options?: unknown): Promise<never> { this.#readOnly("add rows to"); }
  async delete(_predicate?: string): Promise<never> { this.#readOnly("delete from"); }
  async update(_spec?: unknown, _options?: unknown): Promise<never> { this.#readOnly("update"); }
  mergeInsert(_on?: unknown): never { this.#readOnly("merge into"); }
  async createIndex(_column?: string, _options?: unknown): Promise<never> { this.#readOnly("index"); }
  async dropIndex(_name?: string): Promise<never> { this.#readOnly("drop indexes of"); }
  async optimize(_options?: unknown): Promise<never> { this.#readOnly("optimize"); }
  async addColumns(_columns?: unknown): Promise<never> { this.#readOnly("change the schema of"); }
  async alterColumns(_alterations?: unknown): Promise<never> { this.#readOnly("change the schema of"); }
  async dropColumns(_names?: unknown): Promise<never> { this.#readOnly("change the schema of"); }
  async restore(_version?: number): Promise<never> { this.#readOnly("restore"); }
  async tags(): Promise<never> {
    throw createError("UNSUPPORTED", `Sharded table "${this.name}" has no versions or tags of its own; ask its shards (${this.shardNames.join(", ")}).`);
  }
}
