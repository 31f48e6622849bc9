/**
 * `Table`: the LanceDB-like facade over a versioned dataset. Reads run against the version the
 * table is on (the latest it knows of, or one checked out); each write commits one new version.
 */
import { lazyImport } from "./util/lazy.js";
import { createError } from "./errors.js";
import { LeaseScope, type Session } from "./session.js";
import { decodeManifest, encodeManifest, type IndexEntry } from "./storage/manifest.js";
import type { Row } from "./data/rows.js";
import { columnsToRows, describeSchema } from "./data/rows.js";
import { copyColumn, takeColumn, type Column } from "./data/column.js";
import type { RecordBatch as ArrowRecordBatch, Schema as ArrowSchema, Table as ArrowTable } from "apache-arrow";
import { arrowConversions, isArrowData, isBatchStream } from "./arrow/detect.js";
import { selectRows } from "./dataset/fragment.js";
import type { Field, Schema } from "./data/schema.js";
import type { Kernels } from "./kernels/index.js";
import { Query, TakeQuery, VectorQuery, textSearch, toQueryVectors, toTakePlan, type ExplainOptions, type QueryExecutor, type TextQueryType } from "./query/builder.js";
/** Takes, sorted queries and the descriptions of stats() and listIndices() load on first use. */
const onDemand = lazyImport((): Promise<typeof import("./query/on-demand.js")> => import("./query/on-demand.js"));
import { onDemandKit } from "./query/on-demand-kit.js";
import type { IndexInfo, IndexStatistics, TableStatistics } from "./dataset/describe.js";
import { countRows, executeQuery, type ExecutionContext } from "./query/execute.js";
import type { ScalarIndexLookup } from "./query/selection.js";
import type { QueryTrace } from "./query/explain.js";
import type { FullTextPlan, QueryPlan, QueryVector } from "./query/plan.js";
import type { FtsCorpusStatistics } from "./fts/index.js";
import { leaseVectorBlock } from "./table/vector-blocks.js";
import type { Dataset, TableState, Transaction, VersionInfo } from "./dataset/dataset.js";
import { MergeInsertBuilder } from "./table/merge-builder.js";
/** Merge-insert's matching and rewriting load on the first mergeInsert().execute(). */
const mergeInsert = lazyImport((): Promise<typeof import("./table/merge-insert.js")> => import("./table/merge-insert.js"));
import type { OptimizeOptions, OptimizeStats } from "./table/optimize.js";
/** Compaction and pruning load on the first optimize(). */
const optimizer = lazyImport((): Promise<typeof import("./table/optimize.js")> => import("./table/optimize.js"));
import type { AddColumnsSql, ColumnAlteration } from "./table/schema-ops.js";

/** Schema changes (add / alter / drop columns) load on first use. */
const schemaOps = (): Promise<typeof import("./table/schema-ops.js")> => import("./table/schema-ops.js");
import { Tags } from "./dataset/tags.js";
import { TableEmbedding, type FunctionOptions } from "./table/embedding.js";
import type { ResolvedEmbeddingConfig } from "./embeddings/index.js";
import { loadVectorIndex, vectorIndexEntry, VECTOR_KINDS, type CreateIndexOptions } from "./table/vector-index.js";

/** Vector index builds load on first use (vector-index-build.ts): a table that only queries does not ship them. */
const indexBuild = (): Promise<typeof import("./table/vector-index-build.js")> => import("./table/vector-index-build.js");
import { Index } from "./indexes/config.js";
/** Full-text index builds and loads, on the first full-text index a table uses. */
const ftsIndexes = lazyImport((): Promise<typeof import("./table/fts-index.js")> => import("./table/fts-index.js"));
import type { IndexedColumn } from "./scalar/mask.js";
import { SCALAR_KINDS } from "./indexes/config.js";

/** Scalar indexes (and their file formats) load on first use: tables without them do not pay for them. */
const scalarIndexes = lazyImport((): Promise<typeof import("./table/scalar-index.js")> => import("./table/scalar-index.js"));
import type { Reranker } from "./rerank/types.js";
import type { ScanPool } from "./pool/pool.js";
import type { RecallEstimate, RecallOptions, TuneOptions, TuneResult } from "./table/recall.js";

/** Recall estimation and tuning load on first use. */
const recall = (): Promise<typeof import("./table/recall.js")> => import("./table/recall.js");

/** The vector column a search without `.column()` uses: the only one, or the one named "vector". */
function vectorColumnOf(state: TableState): string {
  const vectors = state.schema.fields.filter((f) => f.type.kind === "vector");
  return (vectors.length === 1 ? vectors[0]! : vectors.find((f) => f.name === "vector") ?? vectors[0])?.name ?? "vector";
}

import type { RekeyOptions } from "./table/rekey.js";
import type { BackupOptions } from "./table/backup.js";
import type { EncryptionKeyInput } from "./storage/encryption-key.js";
import { appendColumnsTransaction, appendTransaction, deleteTransaction, updateTransaction, type UpdateSpec, type WriteProgress } from "./table/writes.js";
import { streamTransaction, type StreamWriteOptions } from "./table/stream-writes.js";

export interface AddOptions {
  /** `append` (default) keeps existing rows; `overwrite` replaces them. */
  mode?: "append" | "overwrite";
  /**
   * Called after each chunk of rows is checked and converted (for a stream of record batches: after
   * each fragment is written); use it to drive a progress bar.
   */
  progress?: (progress: WriteProgress) => void;
  /** For a stream of record batches: rows gathered per fragment (see CreateTableOptions.fragmentBytes). */
  fragmentBytes?: StreamWriteOptions["fragmentBytes"];
  fragmentRows?: StreamWriteOptions["fragmentRows"];
}

export interface AddResult { version: number }
/** A table's live rows as columns, a batch per fragment. */
export interface LiveColumns {
  readonly schema: Schema;
  readonly batches: readonly { readonly numRows: number; readonly columns: Map<string, Column> }[];
}
/** Data `add` and `createTable` take: rows, or Arrow (a Table, RecordBatches, or an async iterable of them). */
export type Data = readonly Row[] | ArrowTable | readonly ArrowRecordBatch[] | AsyncIterable<ArrowRecordBatch>;
/** The result of `addColumns`, `alterColumns` and `dropColumns`, as LanceDB names it. */
export interface SchemaChangeResult { version: number }
/** As LanceDB's `DeleteResult`. */
export interface DeleteResult { numDeletedRows: number; version: number }
export interface UpdateResult { version: number; rowsUpdated: number }

export interface UpdateOptions {
  where?: string;
  /** Column → literal value. A Map too, as in LanceDB. */
  values?: Readonly<Record<string, unknown>> | ReadonlyMap<string, unknown>;
  /** Column → SQL expression of the row (`"price * 1.1"`). A Map too, as in LanceDB. */
  valuesSql?: Readonly<Record<string, string>> | ReadonlyMap<string, string>;
}


function asRecord<T>(value: Readonly<Record<string, T>> | ReadonlyMap<string, T>): Record<string, T> {
  return value instanceof Map ? Object.fromEntries(value) : { ...(value as Record<string, T>) };
}

export interface TableContext {
  readonly kernels: () => Promise<Kernels>;
  /** Kernels already loaded, if any (used to free WASM memory on close). */
  readonly loadedKernels: () => Kernels | undefined;
  /**
   * How stale reads may be, in seconds, with respect to other writers: 0 checks for a newer
   * version before every read; undefined never does (this handle's own writes are always seen).
   */
  readonly readConsistencyInterval?: number;
  /** The live embedding function given to createTable (used instead of restoring the saved config). */
  readonly embeddingFunction?: ResolvedEmbeddingConfig;
  /** Options for restoring saved embedding functions, by registry name (e.g. `{ openai: { apiKey } }`). */
  readonly functionOptions?: FunctionOptions;
  /** Worker pool for large exact scans, when the connection has one. */
  readonly scanPool?: () => Promise<ScanPool>;
  /** Owns the kernels and the caches of opened indexes and files. */
  readonly session: Session;
  /** Called once when the table is closed (the connection stops tracking it). */
  readonly onClose?: () => void;
}

/** A scalar column larger than 1/ROW_READ_SHARE of the cache budget is read by row for few hits. */
const ROW_READ_SHARE = 16;

export class Table {
  #open = true;
  /** Set while a version is checked out: reads use it and writes are refused. */
  #pinned: TableState | undefined;
  #lastRefresh = Date.now();
  readonly #embedding: TableEmbedding;
  readonly #tuned = new Map<string, Promise<RecallEstimate["params"]>>();

  constructor(
    readonly name: string,
    private readonly dataset: Dataset,
    private readonly ctx: TableContext,
  ) {
    this.#embedding = new TableEmbedding(ctx.embeddingFunction, ctx.functionOptions);
  }

  isOpen(): boolean {
    return this.#open;
  }

  /**
   * Closes this handle: the connection forgets it and its version state goes with it. What it read
   * into the session's cache (vector blocks, decoded columns, opened indexes) stays there under the
   * session's budget for other handles and later opens of the same table, until evicted, the table
   * is dropped or the session is closed (Connection.close() with its own session). The table
   * cannot be used afterwards.
   */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.ctx.onClose?.();
  }

  private checkOpen(): void {
    if (!this.#open) throw createError("CLOSED", `Table "${this.name}" is closed.`);
  }

  /** The state reads run against, refreshed from storage as `readConsistencyInterval` asks. */
  private async state(): Promise<TableState> {
    this.checkOpen();
    if (this.#pinned) return this.#pinned;
    const interval = this.ctx.readConsistencyInterval;
    if (interval !== undefined && Date.now() - this.#lastRefresh >= interval * 1000) {
      this.#lastRefresh = Date.now();
      return this.dataset.refresh();
    }
    return this.dataset.head();
  }

  /** Runs `fn` with an execution context whose cache leases are returned when it settles. */
  private async run<T>(state: TableState, fn: (ctx: ExecutionContext) => Promise<T>): Promise<T> {
    const scope = new LeaseScope(this.ctx.session);
    try {
      return await fn(this.context(state, scope));
    } finally {
      scope.release();
    }
  }

  private context(state: TableState, scope: LeaseScope): ExecutionContext {
    return {
      state,
      readRows: (fragment, column, rows, out) => this.dataset.readRows(state.schema, fragment, column, rows, out),
      buffers: this.ctx.session.buffers,
      readAhead: this.dataset.store.remote ? (fragments, columns) => this.dataset.openFiles(fragments, columns) : undefined,
      preferRowReads: (fragment, column, bytes) => !this.dataset.hasColumn(fragment, column) && (this.dataset.store.remote === true || bytes * ROW_READ_SHARE > this.ctx.session.limitBytes),
      vectorBlock: (fragment, column) => leaseVectorBlock(this.dataset, state.schema, this.ctx.kernels, scope, fragment, column),
      residentVectorBlock: async (fragment, column) => (this.dataset.store.inMemory === true || this.ctx.session.has(this.dataset.columnCacheKey(fragment, column))
        ? leaseVectorBlock(this.dataset, state.schema, this.ctx.kernels, scope, fragment, column)
        : undefined),
      kernels: this.ctx.kernels,
      scanPool: this.ctx.scanPool,
      ensureColumns: (names, fragments) => this.dataset.ensureColumns(fragments ? { ...state, fragments } : state, names),
      ftsIndexes: async (columns) => {
        const entries = state.indices.filter((i) => i.kind === "FTS" && (columns === undefined || columns.includes(i.columns[0]!)));
        for (const c of columns ?? []) {
          if (!entries.some((e) => e.columns[0] === c)) throw createError("INVALID_ARGUMENT", `Column "${c}" has no full-text index; create one with createIndex("${c}", { config: Index.fts() }).`, { column: c });
        }
        return Promise.all(entries.map(async (entry) => ({ entry, shards: await (await ftsIndexes()).loadFtsIndex(this.dataset, state, entry) })));
      },
      scalarIndexes: this.scalarLookup(state),
      vectorIndex: async (column, metric) => {
        const entry = vectorIndexEntry(state, column, metric);
        return entry && { entry, index: await loadVectorIndex(this.dataset, this.ctx.kernels(), entry, scope) };
      },
    };
  }

  /** Opens the scalar indexes of `state` on the columns a filter reads (only those). */
  private scalarLookup(state: TableState): ScalarIndexLookup {
    return async (columns) => {
      const entries = state.indices.filter((i) => SCALAR_KINDS.includes(i.kind) && columns.includes(i.columns[0]!));
      if (entries.length === 0) return undefined;
      const { indexedColumn, loadScalarIndex } = await scalarIndexes();
      const opened = new Map<string, IndexedColumn>();
      for (const e of entries) opened.set(e.columns[0]!, indexedColumn(e.kind, await loadScalarIndex(this.dataset, e), e.fragments));
      const fragments = new Set(state.fragments.map((f) => f.id).filter((id) => entries.every((e) => e.fragments.includes(id))));
      return { fragments, resolve: (column: string) => opened.get(column), used: entries.map((e) => `${e.name} (${e.kind} on ${e.columns[0]})`) };
    };
  }

  private async writable(): Promise<TableState> {
    this.checkOpen();
    if (this.#pinned) {
      throw createError("READ_ONLY", `Table "${this.name}" is checked out at version ${this.#pinned.version}; call checkoutLatest() to write, or restore() to make this version the latest.`);
    }
    if (this.dataset.store.readOnly) throw createError("READ_ONLY", `Table "${this.name}" lives in a read-only store (${this.dataset.store.uri}).`);
    return this.dataset.head();
  }

  /**
   * Runs `build` (which reads `head`'s files to compute a change). When a file is missing because
   * cleanup pruned the version this handle read, the change is stale: COMMIT_CONFLICT, not NOT_FOUND.
   */
  private async fromSnapshot<T>(head: TableState, build: () => Promise<T>): Promise<T> {
    try {
      return await build();
    } catch (e) {
      if ((e as { code?: string }).code !== "NOT_FOUND" || (await this.dataset.refresh()).version === head.version) throw e;
      throw createError("COMMIT_CONFLICT", `Table "${this.name}" changed since this handle read version ${head.version}, and files of that version were cleaned up. Try again: the handle now reads the newest version.`, { version: head.version }, e);
    }
  }

  private async commit(tx: Transaction | null, head: TableState): Promise<number> {
    return tx === null ? head.version : (await this.dataset.commit(tx)).version;
  }

  display(): string {
    return `Table(${this.name}, ${describeSchema(this.dataset.head().schema)})`;
  }

  toString(): string {
    return this.display();
  }

  /** The schema as an Arrow Schema (as LanceDB's `schema()`); apache-arrow is loaded on first use. */
  async schema(): Promise<ArrowSchema> {
    const state = await this.state();
    const { arrowSchema, loadArrow } = await arrowConversions();
    return arrowSchema(await loadArrow(), state.schema);
  }

  /** The schema as Quiver's plain-data `Schema` (what `field()` / `DataTypes` build; no Arrow needed). */
  async quiverSchema(): Promise<Schema> {
    return (await this.state()).schema;
  }

  /**
   * Every live row of the version read, as an Arrow Table with one record batch per fragment, built
   * from the stored columns (no rows in between). Types: docs/ARROW.md.
   */
  async toArrow(): Promise<ArrowTable> {
    const live = await this.liveColumns();
    const { arrowBatch, arrowTable, loadArrow } = await arrowConversions();
    const a = await loadArrow();
    return arrowTable(a, live.schema, live.batches.map((b) => arrowBatch(a, live.schema, b.columns, b.numRows)));
  }

  /** @internal Every live row as columns, one batch per fragment (what `toArrow()` and the worker client build on). */
  async liveColumns(): Promise<LiveColumns> {
    const schema = (await this.state()).schema;
    const batches: LiveColumns["batches"][number][] = [];
    for await (const b of this.liveBatches()) batches.push(b);
    return { schema, batches };
  }

  /**
   * @internal Every live row as columns, one fragment at a time, read from its data files without
   * keeping them (what a streamed export builds on: one fragment in memory at a time).
   */
  async *liveBatches(): AsyncGenerator<LiveColumns["batches"][number]> {
    const state = await this.state();
    for (const frag of state.fragments) {
      const live = frag.liveRows === frag.numRows ? undefined : selectRows(frag, undefined);
      const numRows = live?.length ?? frag.numRows;
      if (numRows === 0) continue;
      const columns = new Map<string, Column>();
      for (const f of state.schema.fields) {
        const col = frag.columns.get(f.name) ?? await this.dataset.readColumn(state.schema, frag, f.name);
        columns.set(f.name, live ? takeColumn(col, live) : frag.columns.has(f.name) ? copyColumn(col) : col);
      }
      yield { numRows, columns };
    }
  }

  /** @internal The saved table config (embedding functions) of the version read. */
  async tableConfig(): Promise<Readonly<Record<string, unknown>>> {
    return (await this.state()).config;
  }

  /** The version reads currently see. */
  async version(): Promise<number> {
    return (await this.state()).version;
  }

  async listVersions(): Promise<VersionInfo[]> {
    this.checkOpen();
    return this.dataset.versions();
  }

  /** Tags (names for versions): `create(tag, version)`, `list()`, `getVersion(tag)`, `update`, `delete`. */
  async tags(): Promise<Tags> {
    this.checkOpen();
    return new Tags(this.dataset);
  }

  /** Time travel: reads see `version` (a number or a tag) until `checkoutLatest()`; writes are refused. */
  async checkout(version: number | string): Promise<void> {
    this.checkOpen();
    const v = typeof version === "string" ? await new Tags(this.dataset).getVersion(version) : version;
    if (!Number.isInteger(v) || v < 1) throw createError("INVALID_ARGUMENT", `checkout() takes a version number >= 1 or a tag, got ${String(version)}.`);
    this.#pinned = v === this.dataset.head().version ? this.dataset.head() : await this.dataset.readState(v);
  }

  /** Back to the newest version, including commits made by other writers. */
  async checkoutLatest(): Promise<void> {
    this.checkOpen();
    this.#pinned = undefined;
    await this.dataset.refresh();
  }

  /** Makes the checked-out version (or `version`) the newest one, by committing a copy of it. */
  async restore(version?: number): Promise<void> {
    this.checkOpen();
    if (version !== undefined) await this.checkout(version);
    const target = this.#pinned;
    if (target === undefined) return;
    // The new version names the files of `target`. If cleanup prunes `target` meanwhile it may
    // delete them: check before, and after (a cleanup that pruned it before our commit may not
    // have seen the commit); then put the previous version back and report the conflict.
    await this.dataset.manifest(target.version);
    const head = await this.dataset.refresh();
    const restored = await this.dataset.commit({
      type: "restore", readVersion: head.version, fragments: target.fragments, schema: target.schema,
      indices: target.indices, config: target.config,
    });
    this.#pinned = undefined;
    if ((await this.dataset.versionFile(target.version))?.pruned !== false) {
      await this.dataset.commit({
        type: "restore", readVersion: restored.version, fragments: head.fragments, schema: head.schema, indices: head.indices, config: head.config,
      });
      throw createError("COMMIT_CONFLICT", `Version ${target.version} of "${this.name}" was cleaned up while it was being restored; the table is back as it was. Restore a version newer than the cleanup bound.`, { version: target.version });
    }
  }

  async countRows(filter?: string): Promise<number> {
    return this.run(await this.state(), (ctx) => countRows(ctx, filter));
  }

  /**
   * Appends rows (plain objects) or Arrow data (a Table, RecordBatches or an async iterable of them,
   * converted column by column; see docs/ARROW.md). Nothing is written unless every value fits.
   */
  async add(data: Data, options: AddOptions = {}): Promise<AddResult> {
    const head = await this.writable();
    const mode = options.mode ?? "append";
    if (mode !== "append" && mode !== "overwrite") {
      throw createError("INVALID_ARGUMENT", `add() mode must be "append" or "overwrite", got ${JSON.stringify(mode)}.`);
    }
    let rows = data as readonly Row[];
    if (isBatchStream(data) && this.#embedding.of(head) === undefined) {
      // Written fragment by fragment as the stream is read, committed once at the end.
      return { version: await this.commit(await streamTransaction(this.dataset, head, data, mode, options), head) };
    }
    if (isArrowData(data)) {
      const { arrowToColumns, fitColumns } = await arrowConversions();
      const batch = await arrowToColumns(data);
      if (batch.numRows === 0 && mode === "append") {
        fitColumns(batch, head.schema); // still refuses columns the table does not have
        return { version: head.version };
      }
      const cfg = this.#embedding.of(head);
      if (cfg === undefined || batch.columns.has(cfg.vectorColumn)) {
        const columns = fitColumns(batch, head.schema);
        options.progress?.({ phase: "convert", rowsDone: batch.numRows, rowsTotal: batch.numRows });
        return { version: await this.commit(await appendColumnsTransaction(this.dataset, head, columns, batch.numRows, mode), head) };
      }
      // The embedding function works on rows: the text column is read out so it can be embedded.
      rows = columnsToRows(batch.columns, batch.schema.fields.map((f) => f.name), Array.from({ length: batch.numRows }, (_, i) => i));
    }
    if (Array.isArray(rows) && rows.length === 0 && mode === "append") return { version: head.version };
    const embedded = await this.#embedding.rows(head, rows, options.progress);
    return { version: await this.commit(await appendTransaction(this.dataset, head, embedded, mode, options.progress), head) };
  }

  async delete(predicate: string): Promise<DeleteResult> {
    const head = await this.writable();
    if (typeof predicate !== "string" || predicate.trim() === "") {
      throw createError("INVALID_FILTER", "delete() needs a SQL predicate; to remove every row use delete(\"true\").");
    }
    const { tx, deleted } = await this.fromSnapshot(head, () => deleteTransaction(this.dataset, head, predicate, this.scalarLookup(head)));
    return { numDeletedRows: deleted, version: await this.commit(tx, head) };
  }

  /**
   * `update({ where, values })` sets columns to literal values; `update({ where, valuesSql })` to SQL
   * expressions of the row (`{ price: "price * 1.1" }`). As in LanceDB, `update(map, { where })`
   * takes a Map or object of column → SQL expression (so a text value is quoted: `"'new'"`).
   */
  async update(spec: UpdateOptions | Readonly<Record<string, string>> | ReadonlyMap<string, string>, options: { where?: string } = {}): Promise<UpdateResult> {
    const head = await this.writable();
    const s = (spec ?? {}) as UpdateOptions;
    // As LanceDB decides: a `values` / `valuesSql` key holding a string is a column of that name.
    const has = (key: "values" | "valuesSql"): boolean => !(spec instanceof Map) && s[key] !== undefined && typeof s[key] !== "string";
    if (has("values") && has("valuesSql")) throw createError("INVALID_ARGUMENT", "update() takes either values or valuesSql, not both.");
    const where = has("values") || has("valuesSql") ? s.where ?? options.where : options.where;
    let update: UpdateSpec = has("values") ? { where, values: asRecord(s.values!) } : { where, valuesSql: asRecord((has("valuesSql") ? s.valuesSql : spec) as Record<string, string>) };
    if ("valuesSql" in update && Object.values(update.valuesSql).some((v) => typeof v !== "string")) {
      throw createError("INVALID_ARGUMENT", "update(): SQL values are strings (as in LanceDB's update(map, { where })); use { values } for literal values.");
    }
    if (update.where !== undefined && typeof update.where !== "string") throw createError("INVALID_FILTER", "update() where must be a SQL string.");
    if ("values" in update) update = { ...update, values: await this.#embedding.values(head, update.values) };
    else this.#embedding.checkSql(head, update.valuesSql);
    const { tx, updated } = await this.fromSnapshot(head, () => updateTransaction(this.dataset, head, update, this.scalarLookup(head)));
    return { version: await this.commit(tx, head), rowsUpdated: updated };
  }

  /**
   * Upserts keyed by `on`: `mergeInsert("id").whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows)`.
   * See src/table/merge-insert.ts for the clauses.
   */
  mergeInsert(on: string | readonly string[]): MergeInsertBuilder {
    const keys = typeof on === "string" ? [on] : [...on];
    return new MergeInsertBuilder(keys, async (plan, rows) => {
      const head = await this.writable();
      const embedded = await this.#embedding.rows(head, rows);
      const { mergeTransaction } = await mergeInsert();
      const { tx, inserted, updated, deleted } = await this.fromSnapshot(head, () => mergeTransaction(this.dataset, head, plan, embedded, this.scalarLookup(head)));
      return { version: await this.commit(tx, head), numInsertedRows: inserted, numUpdatedRows: updated, numDeletedRows: deleted };
    });
  }

  /** Adds columns computed by SQL (`{ name, valueSql }`) or all-null columns (`field(name, type)`). */
  async addColumns(columns: readonly (AddColumnsSql | Field)[]): Promise<SchemaChangeResult> {
    const head = await this.writable();
    return { version: await this.commit(await this.fromSnapshot(head, async () => (await schemaOps()).addColumnsTransaction(this.dataset, head, columns)), head) };
  }

  /** Renames columns, changes their nullability or converts their type. */
  async alterColumns(alterations: readonly ColumnAlteration[]): Promise<SchemaChangeResult> {
    const head = await this.writable();
    return { version: await this.commit(await this.fromSnapshot(head, async () => (await schemaOps()).alterColumnsTransaction(this.dataset, head, alterations)), head) };
  }

  /** Removes columns from the schema; their data is reclaimed when fragments are compacted. */
  async dropColumns(names: readonly string[]): Promise<SchemaChangeResult> {
    const head = await this.writable();
    return { version: await this.commit((await schemaOps()).dropColumnsTransaction(head, names), head) };
  }

  /** Compacts fragments and prunes old versions and unreferenced files; reports what it did. */
  async optimize(options: OptimizeOptions = {}): Promise<OptimizeStats> {
    await this.writable();
    const target = options.targetRowsPerFragment ?? 1_048_576;
    if (!Number.isInteger(target) || target < 1) throw createError("INVALID_ARGUMENT", `targetRowsPerFragment must be a positive integer, got ${String(target)}.`);
    const { compactionTransaction, defaultCleanupCutoff, prune } = await optimizer();
    const cutoff = options.cleanupOlderThan ?? defaultCleanupCutoff();
    if (!(cutoff instanceof Date) || Number.isNaN(cutoff.getTime())) throw createError("INVALID_ARGUMENT", "cleanupOlderThan must be a valid Date.");
    // Maintenance is about the table as it is now, not as this handle last saw it.
    let head = await this.dataset.refresh();
    const before = head.fragments;
    const tx = await this.fromSnapshot(head, () => compactionTransaction(this.dataset, head, target));
    if (tx !== null) head = await this.dataset.commit(tx);
    const removed = before.filter((f) => !head.fragments.includes(f));
    const added = head.fragments.filter((f) => !before.includes(f));
    if (head.indices.length > 0) {
      // Fold rows added since each index was built into it; rebuild indexes whose rows compaction moved.
      const kernels = await this.ctx.kernels();
      const live = new Set(head.fragments.map((f) => f.id));
      const indices = [];
      for (const entry of head.indices) {
        if (entry.kind === "FTS") { indices.push(await (await ftsIndexes()).refreshFtsIndex(this.dataset, head, entry)); continue; }
        if (SCALAR_KINDS.includes(entry.kind)) { indices.push(await (await scalarIndexes()).refreshScalarIndex(this.dataset, head, entry)); continue; }
        if (!VECTOR_KINDS.has(entry.kind)) { indices.push(entry); continue; }
        const moved = entry.fragments.some((id) => !live.has(id));
        // A vector index cannot be trained without rows: one whose rows are all deleted is dropped.
        if (moved && head.fragments.every((f) => f.liveRows === 0)) continue;
        const build = await indexBuild();
        indices.push(moved ? await build.rebuildIndex(this.dataset, head, kernels, entry) : await build.extendIndex(this.dataset, head, kernels, entry));
      }
      if (indices.length !== head.indices.length || indices.some((e, i) => e !== head.indices[i])) {
        const before = head.indices;
        head = await this.dataset.commit({ type: "create_index", readVersion: head.version, indices });
        this.#releaseIndexes(before, head.indices);
      }
    }
    return {
      compaction: {
        fragmentsRemoved: removed.length, fragmentsAdded: added.length,
        filesRemoved: removed.reduce((s, f) => s + f.files.length + (f.deletionFile ? 1 : 0), 0),
        filesAdded: added.reduce((s, f) => s + f.files.length, 0),
      },
      prune: await prune(this.dataset, new Tags(this.dataset), cutoff, options.deleteUnverified ?? false),
    };
  }

  /** A plain scan; add `.nearestTo(v)` for vector search. */
  query(): Query {
    return new Query(this.#executor);
  }

  readonly #executor: QueryExecutor = Object.assign(
    (plan: QueryPlan, reranker?: Reranker) => this.execute(plan, reranker),
    {
      tableSchema: () => this.quiverSchema(),
      explain: (plan: QueryPlan, options: ExplainOptions, reranker?: Reranker) => this.explain(plan, options, reranker),
      kit: async () => onDemandKit,
      stream: (plan: QueryPlan, batch: number, reranker?: Reranker) => this.stream(plan, batch, reranker),
    },
  );

  /**
   * Nearest-neighbour search for a query vector (or a batch of them). For a text: `"vector"` embeds it
   * with the table's embedding function, `"fts"` runs a BM25 full-text search, `"hybrid"` does both and
   * fuses them (RRF unless `.rerank()` says otherwise); `"auto"` (default) is `"vector"` when the table
   * has an embedding function, else `"fts"` (decided when the query runs).
   */
  search(query: QueryVector | readonly QueryVector[]): VectorQuery;
  search(query: string, queryType: "fts", ftsColumns?: string | readonly string[]): Query;
  search(query: string, queryType?: "auto" | "vector" | "hybrid", ftsColumns?: string | readonly string[]): VectorQuery;
  search(query: QueryVector | readonly QueryVector[] | string, queryType: TextQueryType = "auto", ftsColumns?: string | readonly string[]): VectorQuery | Query {
    const exec = this.#executor;
    return typeof query === "string" ? textSearch(exec, query, queryType, ftsColumns) : new VectorQuery(exec, toQueryVectors(query));
  }

  /** The rows at these positions among the live rows (0 = first), as LanceDB's `takeOffsets`. */
  takeOffsets(offsets: readonly number[]): TakeQuery {
    return new TakeQuery(this.#executor, toTakePlan("offsets", offsets));
  }

  /** The live rows with these `_rowid`s (numbers or bigints), as LanceDB's `takeRowIds`. */
  takeRowIds(rowIds: readonly (number | bigint)[]): TakeQuery {
    return new TakeQuery(this.#executor, toTakePlan("rowIds", rowIds));
  }

  /** Same as `search(vector)`, as in LanceDB. */
  vectorSearch(vector: QueryVector | readonly QueryVector[]): VectorQuery {
    return this.search(vector);
  }

  /** Runs a plan built elsewhere (for example by a worker client). */
  async execute(plan: QueryPlan, reranker?: Reranker): Promise<Row[]> {
    const state = await this.state();
    const embedded = await this.#embedding.plan(state, plan);
    const tuned = await this.#tunedPlan(state, embedded);
    if (tuned.take !== undefined) {
      const { executeTake } = await onDemand();
      return this.run(state, (ctx) => executeTake(onDemandKit, ctx, tuned));
    }
    if (tuned.orderBy !== undefined) {
      const { executeOrdered } = await onDemand();
      return this.run(state, (ctx) => executeOrdered(onDemandKit, ctx, tuned, reranker));
    }
    return this.run(state, (ctx) => executeQuery(ctx, tuned, reranker));
  }

  /** @internal A plan with its query text embedded (or turned into a full-text search), as `execute` would run it. */
  async embedPlan(plan: QueryPlan): Promise<QueryPlan> {
    return this.#embedding.plan(await this.state(), plan);
  }

  /** @internal BM25 statistics of a full-text query's terms in this table (a sharded view sums them over its shards). */
  async ftsStatistics(fullText: FullTextPlan): Promise<FtsCorpusStatistics> {
    const state = await this.state();
    return this.run(state, async (ctx) => {
      const found = (await ctx.ftsIndexes!(fullText.columns)).map((f) => f.shards);
      return (await import("./fts/index.js")).indexesStatistics(found, fullText.query, { phrase: fullText.phrase });
    });
  }

  /**
   * Runs a plan built elsewhere as pages. A plain scan (no search, no orderBy) reads fragment by
   * fragment in pages of at most `batch` rows and holds one fragment's columns at a time, so results
   * larger than memory can be iterated; searches are bounded by their limit: one page.
   */
  async *stream(plan: QueryPlan, batch: number, reranker?: Reranker): AsyncGenerator<Row[], void, undefined> {
    const { streamable, streamScan } = await onDemand();
    if (!streamable(plan)) {
      yield await this.execute(plan, reranker); // bounded by its limit; the caller cuts it into batches
      return;
    }
    const state = await this.state();
    const scope = new LeaseScope(this.ctx.session);
    try {
      yield* streamScan(this.context(state, scope), plan, batch);
    } finally {
      scope.release();
    }
  }

  /**
   * explainPlan() / analyzePlan() of a plan built elsewhere (for example by a worker client). With
   * `analyze`, the query runs and the bytes read count every read of this table meanwhile.
   */
  async explain(plan: QueryPlan, options: ExplainOptions = {}, reranker?: Reranker): Promise<string> {
    const state = await this.state();
    const embedded = await this.#embedding.plan(state, plan);
    const tuned = await this.#tunedPlan(state, embedded);
    const analyze = options.analyze === true;
    const trace: QueryTrace = { dryRun: !analyze };
    const before = { ...this.dataset.reads };
    await this.run(state, (ctx) => executeQuery(ctx, tuned, reranker, trace));
    if (analyze) {
      const r = this.dataset.reads;
      trace.reads = { bytes: r.bytes - before.bytes, requests: r.requests - before.requests, roundTrips: r.roundTrips - before.roundTrips };
    }
    const { formatPlan } = await import("./query/explain.js");
    return formatPlan(trace, { analyze, verbose: options.verbose === true });
  }

  /** Measures recall@k of a search configuration against exact search, on sample queries. */
  async estimateRecall(options: RecallOptions = {}): Promise<RecallEstimate> {
    const state = await this.state();
    return (await recall()).estimateRecall((plan) => this.run(state, (ctx) => executeQuery(ctx, plan)), options);
  }

  /** The cheapest nprobes / ef / refineFactor that reach `target` recall@k on sample queries. */
  async tuneRecall(options: TuneOptions = {}): Promise<TuneResult> {
    const state = await this.state();
    const column = options.column ?? vectorColumnOf(state);
    const entry = vectorIndexEntry(state, column, options.distanceType);
    return (await recall()).tuneRecall((plan) => this.run(state, (ctx) => executeQuery(ctx, plan)), entry, { ...options, column });
  }

  /** A vector plan with `targetRecall` turned into knobs, tuned once per index, target, k and metric. */
  async #tunedPlan(state: TableState, plan: QueryPlan): Promise<QueryPlan> {
    const vec = plan.vector;
    if (vec?.targetRecall === undefined) return plan;
    const column = vec.column ?? vectorColumnOf(state);
    const entry = vectorIndexEntry(state, column, vec.distanceType);
    if (entry === undefined) return plan; // exact search: recall 1
    const k = plan.offset + (plan.limit ?? 10);
    const key = `${entry.file}|${vec.targetRecall}|${k}|${vec.distanceType ?? ""}`;
    let tuned = this.#tuned.get(key);
    if (tuned === undefined) {
      tuned = recall().then(({ tuneRecall }) => tuneRecall((p) => this.run(state, (ctx) => executeQuery(ctx, p)), entry, { column, k, target: vec.targetRecall, distanceType: vec.distanceType, queries: 50 }))
        .then((r) => r.params);
      this.#tuned.set(key, tuned);
      tuned.catch(() => this.#tuned.delete(key));
    }
    const params = await tuned;
    return { ...plan, vector: { ...vec, nprobes: vec.nprobes ?? params.nprobes, ef: vec.ef ?? params.ef, refineFactor: vec.refineFactor ?? params.refineFactor } };
  }

  /**
   * Builds an index on `column` (a vector index: `{ config: Index.ivfPq() }`, `Index.hnswSq()`, …) and
   * commits it. Rows added later are searched exactly until `optimize()` folds them in.
   */
  async createIndex(column: string, options: CreateIndexOptions = {}): Promise<{ version: number }> {
    const head = await this.writable();
    const config = options.config ?? (await (await scalarIndexes()).defaultScalarConfig(this.dataset, head, column)) ?? Index.ivfPq();
    const tx = config.kind === "fts"
      ? await (await ftsIndexes()).createFtsIndexTransaction(this.dataset, head, column, { ...options, config })
      : config.kind === "scalar"
      ? await (await scalarIndexes()).createScalarIndexTransaction(this.dataset, head, column, { ...options, config })
      : await (await indexBuild()).createIndexTransaction(this.dataset, head, await this.ctx.kernels(), column, { ...options, config }, this.ctx.scanPool);
    const version = await this.commit(tx, head);
    this.#releaseIndexes(head.indices, this.dataset.head().indices);
    return { version };
  }

  /**
   * Drops indexes the newest version no longer names from the session's cache (queries still
   * using one keep it until they finish); a reader of an older version reopens it from its file.
   */
  #releaseIndexes(before: readonly IndexEntry[], after: readonly IndexEntry[]): void {
    const kept = new Set(after.map((e) => e.file));
    for (const e of before) if (!kept.has(e.file)) this.ctx.session.invalidate(this.dataset.cacheKey + e.file);
  }

  /** The indexes of the version read, described with LanceDB's field names and type names. */
  async listIndices(): Promise<IndexInfo[]> {
    const state = await this.state();
    const { indexInfo } = await onDemand();
    return state.indices.map((i) => indexInfo(state, i));
  }

  /** Sizes and shape of the version read, as LanceDB's `TableStatistics`. Reads no data. */
  async stats(): Promise<TableStatistics> {
    const state = await this.state();
    return (await onDemand()).tableStatistics(state);
  }

  /** Statistics of an index, or undefined when there is none of that name. */
  async indexStats(name: string): Promise<IndexStatistics | undefined> {
    const state = await this.state();
    const entry = state.indices.find((i) => i.name === name);
    return entry && (await onDemand()).indexStatistics(state, entry);
  }

  /**
   * Rewrites the newest version under a new encryption key, as one commit (see src/table/rekey.ts).
   * Later writes of this connection use the new key; open the database with `{ key: newKey }`
   * afterwards (add the old key to `previousKeys` to read versions from before). UNSUPPORTED on an
   * unencrypted table.
   */
  async rekey(key: EncryptionKeyInput, options: RekeyOptions = {}): Promise<{ version: number }> {
    const head = await this.writable();
    const { rekeyTransaction } = await import("./table/extras.js");
    return { version: await this.commit(await rekeyTransaction(this.dataset, head, key, options), head) };
  }

  /**
   * One version (default: the one this handle reads) with its index files and the tags naming it,
   * as a self-describing, checksummed archive (format in docs/FORMAT.md); restore it with
   * `db.restoreBackup(blob, { name })`. An encrypted table's archive is encrypted with its key.
   */
  async backup(options: BackupOptions = {}): Promise<Blob> {
    const current = await this.state();
    const state = options.version === undefined || options.version === current.version ? current : await this.dataset.readState(options.version);
    const { writeBackup } = await import("./table/extras.js");
    const tags = Object.entries(await new Tags(this.dataset).list()).filter(([, t]) => t.version === state.version).map(([name]) => name);
    return writeBackup(this.dataset, state, tags, { decodeManifest, encodeManifest }, options);
  }

  async dropIndex(name: string): Promise<{ version: number }> {
    const head = await this.writable();
    if (!head.indices.some((i) => i.name === name)) throw createError("NOT_FOUND", `Table "${this.name}" has no index "${name}".`);
    const version = await this.commit({ type: "drop_index", readVersion: head.version, indices: head.indices.filter((i) => i.name !== name) }, head);
    this.#releaseIndexes(head.indices, this.dataset.head().indices);
    return { version };
  }
}
