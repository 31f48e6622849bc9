/**
 * The worker side: real Connections and Tables behind the `WorkerApi` protocol, keyed by the ids
 * the client holds. `serve(endpoint)` exposes it on any comlink Endpoint (the worker's global
 * scope, a Node parentPort, a MessagePort).
 */
import { expose, releaseProxy, type Endpoint, type Remote } from "comlink";
import { connect, type CloneTableOptions, type Connection, type ConnectionOptions, type CreateTableOptions, type OpenTableOptions, type TableNamesOptions } from "../connection.js";
import type { RestoreBackupOptions } from "../table/backup.js";
import type { OpenShardedTableOptions } from "../shard/open.js";
import type { StorageReport } from "../table/storage-report.js";
import { restoreEmbeddingConfig } from "../embeddings/table-embeddings.js";
import type { MemoryStats } from "../session.js";
import { createError } from "../errors.js";
import type { Row } from "../data/rows.js";
import type { Schema } from "../data/schema.js";
import type { QueryPlan } from "../query/plan.js";
import { onePage, type ExplainOptions } from "../query/builder.js";
import type { AddOptions, AddResult, Data, LiveColumns, Table } from "../table.js";
import type { ColumnBatch } from "../arrow/detect.js";
import type { MergePlan, MergeResult } from "../table/merge-insert.js";
import type { Tags } from "../dataset/tags.js";
import type { CreateIndexOptions } from "../table/vector-index.js";
import type { WriteProgress } from "../table/writes.js";
import {
  FORWARDED_TABLE_METHODS, TAG_METHODS,
  type BatchPull, type ConnectionHandle, type ConnectionId, type IndexProgress, type ForwardedTableMethod, type TableArgs, type TableHandle, type TableId,
  type TableReply, type TableResult, type TagMethod, type WireCreateTableOptions, type WorkerApi,
} from "./protocol.js";
import { registerErrorTransfer, transferRows } from "./transfer.js";

interface HeldTable {
  readonly table: Table;
  readonly conn: ConnectionId;
}

/** A caller's batch stream (a proxied pull function) as the async iterable the table's writers read; other data as is. */
function pulled<T>(data: T | BatchPull): T | AsyncIterable<ColumnBatch> {
  if (typeof data !== "function") return data;
  const pull = data as BatchPull;
  return (async function* () {
    let done = false;
    try {
      for (let b = await pull(); b !== null; b = await pull()) yield b;
      done = true;
    } finally {
      if (!done) await pull(true).catch(() => null);
    }
  })();
}

export class QuiverService implements WorkerApi {
  #nextId = 1;
  readonly #connections = new Map<ConnectionId, Connection>();
  readonly #tables = new Map<TableId, HeldTable>();
  readonly #streams = new Map<number, { readonly pages: AsyncIterator<Row[], void, undefined>; readonly held: HeldTable }>();

  async connect(uri: string, options: ConnectionOptions): Promise<ConnectionHandle> {
    const connection = await connect(uri, options);
    const id = this.#nextId++;
    this.#connections.set(id, connection);
    return { id, uri: connection.uri };
  }

  async memoryStats(conn: ConnectionId): Promise<MemoryStats> {
    return this.#connection(conn).memoryStats();
  }

  async tableNames(conn: ConnectionId, options?: TableNamesOptions): Promise<string[]> {
    return this.#connection(conn).tableNames(options);
  }

  async openTable(conn: ConnectionId, name: string, options?: OpenTableOptions): Promise<TableHandle> {
    return this.#hold(conn, await this.#connection(conn).openTable(name, options));
  }

  async openShardedTable(conn: ConnectionId, shards: string | readonly string[], options?: OpenShardedTableOptions): Promise<TableHandle> {
    // A view answers the read calls of a table by the same names; what it lacks is UNSUPPORTED in callTable.
    return this.#hold(conn, (await this.#connection(conn).openShardedTable(shards, options)) as unknown as Table);
  }

  async readStoreFile(conn: ConnectionId, key: string): Promise<Uint8Array | undefined> {
    return this.#connection(conn).readStoreFile(key);
  }

  async createTable(conn: ConnectionId, name: string, data: readonly Row[] | Schema | ColumnBatch | BatchPull, options: WireCreateTableOptions): Promise<TableHandle> {
    return this.#hold(conn, await this.#connection(conn).createTable(name, pulled(data) as Data | Schema, withEmbedding(options)));
  }

  async createEmptyTable(conn: ConnectionId, name: string, schema: Schema, options: Omit<WireCreateTableOptions, "schema">): Promise<TableHandle> {
    return this.#hold(conn, await this.#connection(conn).createEmptyTable(name, schema, withEmbedding(options)));
  }

  async storage(conn: ConnectionId): Promise<StorageReport> {
    return this.#connection(conn).storage();
  }

  async requestPersistence(conn: ConnectionId): Promise<boolean> {
    return this.#connection(conn).requestPersistence();
  }

  async restoreBackup(conn: ConnectionId, source: Blob | Uint8Array, options: RestoreBackupOptions): Promise<TableHandle> {
    return this.#hold(conn, await this.#connection(conn).restoreBackup(source, options));
  }

  async dropTable(conn: ConnectionId, name: string): Promise<TableId[]> {
    await this.#connection(conn).dropTable(name);
    // The connection closed its handles on the table; forget them too.
    const closed = [...this.#tables].filter(([, held]) => held.conn === conn && !held.table.isOpen()).map(([id]) => id);
    for (const id of closed) this.#tables.delete(id);
    return closed;
  }

  async dropAllTables(conn: ConnectionId): Promise<TableId[]> {
    await this.#connection(conn).dropAllTables();
    return this.#forgetClosed(conn);
  }

  async renameTable(conn: ConnectionId, currentName: string, newName: string): Promise<TableId[]> {
    await this.#connection(conn).renameTable(currentName, newName);
    return this.#forgetClosed(conn);
  }

  async cloneTable(conn: ConnectionId, target: string, source: string, options: CloneTableOptions): Promise<TableHandle> {
    return this.#hold(conn, await this.#connection(conn).cloneTable(target, source, options));
  }

  /** Forgets the handles of `conn` the connection closed (their table was dropped or renamed); returns their ids. */
  #forgetClosed(conn: ConnectionId): TableId[] {
    const closed = [...this.#tables].filter(([, held]) => held.conn === conn && !held.table.isOpen()).map(([id]) => id);
    for (const id of closed) this.#tables.delete(id);
    return closed;
  }

  async closeConnection(conn: ConnectionId): Promise<void> {
    const connection = this.#connections.get(conn);
    if (connection === undefined) return;
    this.#connections.delete(conn);
    for (const [id, held] of this.#tables) if (held.conn === conn) this.#tables.delete(id);
    for (const [id, open] of this.#streams) if (open.held.conn === conn) await this.closeStream(id);
    await connection.close();
  }

  async callTable<M extends ForwardedTableMethod>(table: TableId, method: M, args: TableArgs<M>): Promise<TableReply<TableResult<M>>> {
    if (!(FORWARDED_TABLE_METHODS as readonly string[]).includes(method)) {
      throw createError("INVALID_ARGUMENT", `The worker does not forward Table.${String(method)}().`);
    }
    const t = this.#table(table);
    if (typeof t[method] !== "function") throw createError("UNSUPPORTED", `${t.display()} has no ${String(method)}().`);
    const value = await (t[method] as (...a: TableArgs<M>) => Promise<TableResult<M>>)(...args);
    return { value, display: t.display() };
  }

  async add(table: TableId, rows: readonly Row[] | ColumnBatch | BatchPull, options: Omit<AddOptions, "progress">, progress?: Remote<(p: WriteProgress) => unknown>): Promise<TableReply<AddResult>> {
    const t = this.#table(table);
    return withProgress(progress, async (report) => ({ value: await t.add(pulled(rows) as Data, { ...options, ...report }), display: t.display() }));
  }

  async createIndex(table: TableId, column: string, options: Omit<CreateIndexOptions, "progress">, progress?: Remote<(p: IndexProgress) => unknown>): Promise<TableReply<{ version: number }>> {
    const t = this.#table(table);
    return withProgress(progress, async (report) => ({ value: await t.createIndex(column, { ...options, ...report }), display: t.display() }));
  }

  async mergeInsert(table: TableId, plan: MergePlan, rows: readonly Row[]): Promise<TableReply<MergeResult>> {
    const t = this.#table(table);
    let builder = t.mergeInsert(plan.on);
    if (plan.updateMatched) builder = builder.whenMatchedUpdateAll(plan.updateMatched);
    if (plan.insertNotMatched) builder = builder.whenNotMatchedInsertAll();
    if (plan.deleteNotMatchedBySource) builder = builder.whenNotMatchedBySourceDelete(plan.deleteNotMatchedBySource);
    const value = await builder.execute(rows);
    return { value, display: t.display() };
  }

  async tags<M extends TagMethod>(table: TableId, method: M, args: Parameters<Tags[M]>): Promise<Awaited<ReturnType<Tags[M]>>> {
    if (!(TAG_METHODS as readonly string[]).includes(method)) throw createError("INVALID_ARGUMENT", `Tags has no method ${String(method)}().`);
    const tags = await this.#table(table).tags();
    return (tags[method] as (...a: Parameters<Tags[M]>) => Promise<Awaited<ReturnType<Tags[M]>>>).apply(tags, args);
  }

  async liveColumns(table: TableId): Promise<LiveColumns> {
    return this.#table(table).liveColumns();
  }

  async execute(table: TableId, plan: QueryPlan): Promise<Row[]> {
    return transferRows(await this.#table(table).execute(plan));
  }

  async openStream(table: TableId, plan: QueryPlan, batch: number): Promise<number> {
    const held = this.#tables.get(table);
    const t = this.#table(table) as Partial<Pick<Table, "stream">> & Pick<Table, "execute">;
    // A sharded view has no stream of its own: its (limited) result is one page.
    const pages = (t.stream?.(plan, batch) ?? onePage(t.execute(plan)))[Symbol.asyncIterator]();
    const id = this.#nextId++;
    this.#streams.set(id, { pages, held: held! });
    return id;
  }

  async nextPage(stream: number): Promise<Row[] | null> {
    const open = this.#streams.get(stream);
    if (open === undefined) throw createError("CLOSED", "This query stream is closed.");
    if (![...this.#tables.values()].includes(open.held)) {
      await this.closeStream(stream);
      throw createError("CLOSED", "The table of this query stream is closed.");
    }
    try {
      const next = await open.pages.next();
      if (next.done === true) {
        this.#streams.delete(stream);
        return null;
      }
      return transferRows(next.value);
    } catch (e) {
      this.#streams.delete(stream);
      throw e;
    }
  }

  async closeStream(stream: number): Promise<void> {
    const open = this.#streams.get(stream);
    this.#streams.delete(stream);
    await open?.pages.return?.(undefined);
  }

  async explain(table: TableId, plan: QueryPlan, options: ExplainOptions): Promise<string> {
    return this.#table(table).explain(plan, options);
  }

  async closeTable(table: TableId): Promise<void> {
    const held = this.#tables.get(table);
    for (const [id, open] of this.#streams) if (open.held === held) await this.closeStream(id);
    held?.table.close();
    this.#tables.delete(table);
  }

  #connection(id: ConnectionId): Connection {
    const connection = this.#connections.get(id);
    if (connection === undefined) throw createError("CLOSED", "This connection is closed.");
    return connection;
  }

  #table(id: TableId): Table {
    const held = this.#tables.get(id);
    if (held === undefined) throw createError("CLOSED", "This table handle is closed (or its connection is).");
    return held.table;
  }

  #hold(conn: ConnectionId, table: Table): TableHandle {
    const id = this.#nextId++;
    this.#tables.set(id, { table, conn });
    return { id, name: table.name, display: table.display() };
  }
}

/** The options with the embedding function rebuilt from its saved config by this worker's registry. */
function withEmbedding<O extends Omit<WireCreateTableOptions, "schema">>(options: O): Omit<O, "embeddingFunction"> & Pick<CreateTableOptions, "embeddingFunction"> {
  const { embeddingFunction, ...rest } = options;
  return embeddingFunction === undefined ? rest : { ...rest, embeddingFunction: restoreEmbeddingConfig(embeddingFunction) };
}

/**
 * Runs `work` with a `progress` option that forwards to the client's callback, if there is one.
 * Reports travel on the callback's own port, so they are awaited before the result is returned:
 * none may arrive after the call has resolved.
 */
async function withProgress<P, T>(progress: Remote<(p: P) => unknown> | undefined, work: (report: { progress?: (p: P) => void }) => Promise<T>): Promise<T> {
  if (progress === undefined) return work({});
  const reports: Promise<unknown>[] = [];
  try {
    const result = await work({ progress: (p) => void reports.push((progress as (p: P) => Promise<unknown>)(p)) });
    await Promise.allSettled(reports);
    return result;
  } finally {
    progress[releaseProxy]();
  }
}

/**
 * Exposes a new QuiverService on `endpoint` (default: this worker's global scope). `startWorker()`
 * runs a script that only does this; write your own worker script to register embedding functions
 * first, and hand that worker to `connectWorker(uri, { worker })`:
 *
 *   // my-db.worker.ts
 *   import { getRegistry } from "quiverdb";
 *   import { serve } from "quiverdb/worker";
 *   getRegistry().register("my-model", { create: (o) => new MyModel(o) });
 *   serve();
 */
export function serve(endpoint?: Endpoint): QuiverService {
  registerErrorTransfer();
  const service = new QuiverService();
  expose(service, endpoint);
  return service;
}
