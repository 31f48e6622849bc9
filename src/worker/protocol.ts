/**
 * The worker protocol, as types. A dedicated worker holds real `Connection`s and `Table`s and
 * exposes one `WorkerApi` object through comlink; the client (client.ts) holds ids and rebuilds the
 * in-thread API on top of it:
 *
 *   page / main thread                        dedicated worker
 *   ──────────────────                        ────────────────
 *   RemoteConnection ── connect(uri) ───────► Connection      (ids → objects)
 *   RemoteTable ─────── callTable(id, m, a) ─► Table[m](...a)
 *   Query / VectorQuery (same builders)
 *     .toArray() ────── execute(id, plan) ───► Table.execute(plan)
 *                        ↑ query vectors transferred    ↓ result vectors transferred
 *   QuiverError ◄────── thrown, rebuilt by the "throw" transfer handler (code, message, details)
 *
 * Everything that crosses is structured-cloneable plain data (rows, schemas, plans, results); the
 * only functions that cross are the progress callbacks of `add()` and `createIndex()`, as comlink
 * proxies. An embedding function crosses as its saved config (`toJSON()`) and is rebuilt through
 * the worker's registry, so a user function must be registered in the worker too (see `serve`).
 */
import type { RestoreBackupOptions } from "../table/backup.js";
import type { StorageReport } from "../table/storage-report.js";
import type { CloneTableOptions, ConnectionOptions, CreateTableOptions, OpenTableOptions, TableNamesOptions } from "../connection.js";
import type { OpenShardedTableOptions } from "../shard/open.js";
import type { SerializedEmbeddingConfig } from "../embeddings/types.js";
import type { MemoryStats } from "../session.js";
import type { Row } from "../data/rows.js";
import type { Schema } from "../data/schema.js";
import type { QueryPlan } from "../query/plan.js";
import type { ExplainOptions } from "../query/builder.js";
import type { AddOptions, AddResult, LiveColumns, Table } from "../table.js";
import type { ColumnBatch } from "../arrow/detect.js";
import type { MergePlan, MergeResult } from "../table/merge-insert.js";
import type { Tags } from "../dataset/tags.js";
import type { CreateIndexOptions } from "../table/vector-index.js";
import type { WriteProgress } from "../table/writes.js";

/** What `createIndex()` reports while it builds. */
export type IndexProgress = Parameters<NonNullable<CreateIndexOptions["progress"]>>[0];

/** A connection the worker holds for a client. */
export type ConnectionId = number;
/**
 * A streamed import as the worker sees it: a function (a comlink proxy of the caller's) that gives
 * the next batch of columns, or null at the end; `pull(true)` tells the caller to stop early.
 */
export type BatchPull = (stop?: boolean) => Promise<ColumnBatch | null>;
/** A table the worker holds for a client. */
export type TableId = number;

export interface ConnectionHandle {
  readonly id: ConnectionId;
  readonly uri: string;
}

export interface TableHandle {
  readonly id: TableId;
  readonly name: string;
  /** `Table.display()` at the time of the reply, so the client's `display()` stays synchronous. */
  readonly display: string;
}

/**
 * Table methods whose arguments and results are plain data, forwarded by name. A new Table method
 * of that kind needs only its name here and a one-line method on RemoteTable.
 */
export const FORWARDED_TABLE_METHODS = [
  "countRows", "delete", "update", "quiverSchema", "tableConfig", "version", "listVersions", "checkout", "checkoutLatest",
  "restore", "addColumns", "alterColumns", "dropColumns", "optimize", "listIndices", "indexStats", "dropIndex",
  "estimateRecall", "tuneRecall", "stats", "rekey", "backup", "embedPlan", "ftsStatistics",
] as const satisfies readonly (keyof Table)[];

export type ForwardedTableMethod = (typeof FORWARDED_TABLE_METHODS)[number];
export type TableArgs<M extends ForwardedTableMethod> = Parameters<Table[M]>;
export type TableResult<M extends ForwardedTableMethod> = Awaited<ReturnType<Table[M]>>;

export const TAG_METHODS = ["list", "getVersion", "create", "update", "delete"] as const satisfies readonly (keyof Tags)[];
export type TagMethod = (typeof TAG_METHODS)[number];

/** A table call's result and the table's description after it. */
export interface TableReply<T> {
  readonly value: T;
  readonly display: string;
}

/** `CreateTableOptions` as they cross: the embedding function as its saved config. */
export type WireCreateTableOptions = Omit<CreateTableOptions, "embeddingFunction"> & { embeddingFunction?: SerializedEmbeddingConfig };

/** What the worker exposes. Every method may reject with a QuiverError, rebuilt on the client. */
export interface WorkerApi {
  connect(uri: string, options: ConnectionOptions): Promise<ConnectionHandle>;
  tableNames(conn: ConnectionId, options?: TableNamesOptions): Promise<string[]>;
  memoryStats(conn: ConnectionId): Promise<MemoryStats>;
  openTable(conn: ConnectionId, name: string, options?: OpenTableOptions): Promise<TableHandle>;
  /**
   * Opens a sharded view in the worker (shards by name, location or manifest; see src/shard/open.ts).
   * Its handle takes the read calls of a table; writes fail with READ_ONLY, calls a view does not
   * have (versions, tags) with UNSUPPORTED.
   */
  openShardedTable(conn: ConnectionId, shards: string | readonly string[], options?: OpenShardedTableOptions): Promise<TableHandle>;
  /** A file of the connection's store (a shard manifest), or undefined. */
  readStoreFile(conn: ConnectionId, key: string): Promise<Uint8Array | undefined>;
  /** Arrow data is converted on the client and arrives as a ColumnBatch (typed arrays, copied). */
  createTable(conn: ConnectionId, name: string, data: readonly Row[] | Schema | ColumnBatch | BatchPull, options: WireCreateTableOptions): Promise<TableHandle>;
  createEmptyTable(conn: ConnectionId, name: string, schema: Schema, options: Omit<WireCreateTableOptions, "schema">): Promise<TableHandle>;
  /** Drops the table; returns the ids of the open handles on it, which are now closed. */
  dropTable(conn: ConnectionId, name: string): Promise<TableId[]>;
  /** Drops every table (clones first); returns the ids of the handles that are now closed. */
  dropAllTables(conn: ConnectionId): Promise<TableId[]>;
  /** Renames a table; returns the ids of the open handles on the old name, which are now closed. */
  renameTable(conn: ConnectionId, currentName: string, newName: string): Promise<TableId[]>;
  cloneTable(conn: ConnectionId, target: string, source: string, options: CloneTableOptions): Promise<TableHandle>;
  storage(conn: ConnectionId): Promise<StorageReport>;
  requestPersistence(conn: ConnectionId): Promise<boolean>;
  /** Restores an archive (a Blob, cloned) into a new table. */
  restoreBackup(conn: ConnectionId, source: Blob | Uint8Array, options: RestoreBackupOptions): Promise<TableHandle>;
  /** Closes the connection and every table opened through it. */
  closeConnection(conn: ConnectionId): Promise<void>;

  callTable<M extends ForwardedTableMethod>(table: TableId, method: M, args: TableArgs<M>): Promise<TableReply<TableResult<M>>>;
  add(table: TableId, rows: readonly Row[] | ColumnBatch | BatchPull, options: Omit<AddOptions, "progress">, progress?: (p: WriteProgress) => unknown): Promise<TableReply<AddResult>>;
  createIndex(table: TableId, column: string, options: Omit<CreateIndexOptions, "progress">, progress?: (p: IndexProgress) => unknown): Promise<TableReply<{ version: number }>>;
  mergeInsert(table: TableId, plan: MergePlan, rows: readonly Row[]): Promise<TableReply<MergeResult>>;
  tags<M extends TagMethod>(table: TableId, method: M, args: Parameters<Tags[M]>): Promise<Awaited<ReturnType<Tags[M]>>>;
  /** Every live row as columns, for `toArrow()` on the client. */
  liveColumns(table: TableId): Promise<LiveColumns>;
  /** Runs a query plan; vector values in the result rows arrive transferred. */
  execute(table: TableId, plan: QueryPlan): Promise<Row[]>;
  /** Starts a query whose results come page by page (`nextPage`); a plain scan reads fragment by fragment. */
  openStream(table: TableId, plan: QueryPlan, batch: number): Promise<number>;
  /** The next page of a stream (vector values transferred), or null when it is done (and closed). */
  nextPage(stream: number): Promise<Row[] | null>;
  /** Ends a stream early and releases what it holds. */
  closeStream(stream: number): Promise<void>;
  /** explainPlan() / analyzePlan() of a query plan, as text. */
  explain(table: TableId, plan: QueryPlan, options: ExplainOptions): Promise<string>;
  closeTable(table: TableId): Promise<void>;
}
