/**
 * The client side of the worker: `RemoteConnection` and `RemoteTable` have the API of
 * `Connection` and `Table`, and forward every call over the protocol in protocol.ts. Query builders
 * are the in-thread `Query` / `VectorQuery`; only their plan crosses, with its vectors transferred.
 */
import { proxy, wrap } from "comlink";
import type { BackupOptions, BackupSource, RestoreBackupOptions } from "../table/backup.js";
import type { StorageReport } from "../table/storage-report.js";
import type { CloneTableOptions, ConnectionOptions, CreateTableOptions, OpenTableOptions, TableNamesOptions } from "../connection.js";
import type { OpenShardedTableOptions } from "../shard/open.js";
import { serializeEmbeddingConfig } from "../embeddings/table-embeddings.js";
import type { MemoryStats } from "../session.js";
import { createError, type QuiverError } from "../errors.js";
import type { Row } from "../data/rows.js";
import type { Schema } from "../data/schema.js";
import { Query, TakeQuery, VectorQuery, textSearch, toQueryVectors, toTakePlan, type ExplainOptions, type TextQueryType } from "../query/builder.js";
import type { QueryPlan, QueryVector } from "../query/plan.js";
import type { AddOptions, AddResult, Data, LiveColumns } from "../table.js";
import type { CreateData } from "../connection.js";
import type { Schema as ArrowSchema, Table as ArrowTable } from "apache-arrow";
import { provideApacheArrow } from "../arrow/apache-arrow.js";
import { arrowConversions, isArrowData, isArrowSchema, type ArrowSchemaLike, type ColumnBatch } from "../arrow/detect.js";
import { MergeInsertBuilder } from "../table/merge-builder.js";
import type { Tags } from "../dataset/tags.js";
import type { CreateIndexOptions } from "../table/vector-index.js";
import { terminate, toEndpoint, type WorkerLike } from "../util/worker-endpoint.js";
import type { BatchPull, ConnectionId, ForwardedTableMethod, TableArgs, TableHandle, TableId, TableResult, TagMethod, WireCreateTableOptions, WorkerApi } from "./protocol.js";
import { registerErrorTransfer, transferColumns, transferPlan } from "./transfer.js";

export interface WorkerConnectionOptions extends ConnectionOptions {
  /**
   * The worker the database lives in. Default: a new dedicated worker for this connection, ended by
   * `close()` (a module Web Worker in browsers and Deno, a `worker_threads` Worker in Node). Pass
   * your own — usually from `startWorker()`, or a MessagePort to one — to share one worker between
   * connections; `close()` then leaves it running.
   */
  worker?: WorkerLike;
}

/**
 * One worker as the client sees it: the comlink proxy, plus the calls in flight, which fail when
 * the worker dies instead of waiting for an answer that will never come.
 */
class Link {
  readonly api: WorkerApi;
  readonly #pending = new Set<(error: unknown) => void>();
  #failure: QuiverError | undefined;
  #answered = false;

  constructor(readonly target: WorkerLike) {
    registerErrorTransfer();
    this.api = wrap<WorkerApi>(toEndpoint(target)) as unknown as WorkerApi;
    const t = target as { on?: (type: string, f: (x: unknown) => void) => void; addEventListener?: (type: string, f: (e: Event) => void) => void };
    if (typeof t.on === "function") {
      // Node: a worker that throws or exits is gone for good.
      t.on("error", (e) => this.fail(`it threw ${String((e as Error)?.stack ?? e)}`));
      t.on("exit", (code) => this.fail(`it exited with code ${String(code)}`));
    } else if (typeof t.addEventListener === "function") {
      // Browsers: an "error" before the first answer means the script did not load or start.
      t.addEventListener("error", (e) => {
        if (!this.#answered) this.fail(`it failed to start: ${(e as ErrorEvent).message || "no message (is the worker script served?)"}`);
      });
    }
  }

  call<T>(work: (api: WorkerApi) => Promise<T>): Promise<T> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<T>((resolve, reject) => {
      this.#pending.add(reject);
      work(this.api).then(
        (value) => { this.#answered = true; resolve(value); },
        (error: unknown) => { this.#answered = true; reject(error); },
      ).finally(() => this.#pending.delete(reject));
    });
  }

  fail(why: string): void {
    if (this.#failure) return;
    this.#failure = createError("CLOSED", `The Quiver worker stopped: ${why}.`);
    for (const reject of this.#pending) reject(this.#failure);
    this.#pending.clear();
  }
}

/** One Link per worker, so connections sharing a worker share its message listener. */
const links = new WeakMap<object, Link>();

function linkFor(target: WorkerLike): Link {
  let link = links.get(target);
  if (link === undefined) links.set(target, (link = new Link(target)));
  return link;
}

/**
 * Opens `uri` inside `options.worker`, or inside a worker made by `start` (which the connection then
 * owns). The entries (index.ts, index.node.ts) supply `start` for their runtime.
 */
export async function connectThrough(uri: string, options: WorkerConnectionOptions, start: () => WorkerLike): Promise<RemoteConnection> {
  provideApacheArrow(); // Arrow objects are built here, from the plain columns the worker sends
  if (typeof uri !== "string") {
    throw createError("INVALID_ARGUMENT", `connectWorker() takes a URI string, got ${typeof uri}: a BlobStore object cannot move into a worker.`);
  }
  if (options.http?.fetch !== undefined || options.http?.signal !== undefined || options.session !== undefined) {
    // Functions, AbortSignals and sessions cannot be cloned into a worker; the worker makes its own.
    const option = options.session !== undefined ? "session" : options.http?.fetch !== undefined ? "http.fetch" : "http.signal";
    throw createError("INVALID_ARGUMENT", `connectWorker(): ${option} cannot move into a worker; pass plain options (timeoutMs, retries, headers, cacheBytes) or use connect().`, { option });
  }
  const { worker, ...connectionOptions } = options;
  const owned = worker === undefined ? start() : undefined;
  const link = linkFor(worker ?? owned!);
  try {
    const handle = await link.call((api) => api.connect(uri, connectionOptions));
    return new RemoteConnection(handle.uri, link, handle.id, owned);
  } catch (error) {
    if (owned !== undefined) await terminate(owned);
    throw error;
  }
}

/** The options as they cross: the embedding function as its saved config (rebuilt in the worker). */
function toWire<O extends Omit<CreateTableOptions, "schema">>(options: O): Omit<O, "embeddingFunction"> & Pick<WireCreateTableOptions, "embeddingFunction"> {
  const { embeddingFunction, ...rest } = options;
  return embeddingFunction === undefined ? rest : { ...rest, embeddingFunction: serializeEmbeddingConfig(embeddingFunction) };
}

function isSchema(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Array.isArray((value as Schema).fields);
}

function isBatchStream(data: unknown): data is AsyncIterable<unknown> {
  return typeof data === "object" && data !== null && Symbol.asyncIterator in data;
}

/**
 * The worker pulls a stream of record batches one at a time (each converted to columns here and
 * moved over), so a streamed import holds one batch on this side and one fragment's worth in the
 * worker, never the whole input. Ends (returns the iterator) when the stream does or the worker stops.
 */
function batchPull(data: AsyncIterable<unknown>): BatchPull {
  const batches = data[Symbol.asyncIterator]();
  return async (stop?: boolean) => {
    if (stop === true) {
      await batches.return?.();
      return null;
    }
    const next = await batches.next();
    if (next.done === true) return null;
    const batch = await (await arrowConversions()).arrowToColumns(next.value);
    // Converted here, its arrays are its own and move to the worker (a batch of 5,000 384-d vectors
    // is 7 MiB that would be cloned); a column batch the caller gave is still theirs, and is copied.
    return batch === next.value ? batch : transferColumns(batch);
  };
}

/** `Connection`, with the database in a worker. */
export class RemoteConnection {
  #open = true;
  readonly #tables = new Map<TableId, RemoteTable>();

  constructor(
    readonly uri: string,
    private readonly link: Link,
    private readonly id: ConnectionId,
    private readonly owned: WorkerLike | undefined,
  ) {}

  isOpen(): boolean {
    return this.#open;
  }

  /** Closes every table opened through this connection, then the worker if the connection started it. */
  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    for (const t of this.#tables.values()) t.markClosed();
    this.#tables.clear();
    try {
      await this.link.call((api) => api.closeConnection(this.id));
    } finally {
      if (this.owned !== undefined) {
        this.link.fail("its connection was closed");
        await terminate(this.owned);
      }
    }
  }

  display(): string {
    return `Connection(${this.uri})`;
  }

  private async call<T>(work: (api: WorkerApi) => Promise<T>): Promise<T> {
    if (!this.#open) throw createError("CLOSED", `Connection to ${this.uri} is closed.`);
    return this.link.call(work);
  }

  private handle(h: TableHandle): RemoteTable {
    const table = new RemoteTable(h.name, this.link, h.id, h.display);
    this.#tables.set(h.id, table);
    return table;
  }

  /** WebAssembly memory and cache use of the worker-side connection's session. */
  async memoryStats(): Promise<MemoryStats> {
    return this.call((api) => api.memoryStats(this.id));
  }

  async tableNames(options?: TableNamesOptions): Promise<string[]> {
    return this.call((api) => api.tableNames(this.id, options));
  }

  /** As `Connection.storage()`, measured in the worker (same origin, same estimate). */
  async storage(): Promise<StorageReport> {
    return this.call((api) => api.storage(this.id));
  }

  /** As `Connection.requestPersistence()`; browsers expose `persist()` to windows only, so from a worker it is false: ask from the page (`navigator.storage.persist()` covers the whole origin). */
  async requestPersistence(): Promise<boolean> {
    return this.call((api) => api.requestPersistence(this.id));
  }

  /** As `Connection.restoreBackup`; a stream is read here and its bytes are copied to the worker. */
  async restoreBackup(source: BackupSource, options: RestoreBackupOptions): Promise<RemoteTable> {
    const payload = source instanceof ArrayBuffer ? new Uint8Array(source) : typeof (source as ReadableStream).getReader === "function" ? new Uint8Array(await new Response(source as ReadableStream).arrayBuffer()) : source as Blob | Uint8Array;
    return this.handle(await this.call((api) => api.restoreBackup(this.id, payload, options)));
  }

  /** As `Connection.openTable`; the table's embedding function is restored in the worker, by its registry. */
  async openTable(name: string, options?: OpenTableOptions): Promise<RemoteTable> {
    return this.handle(await this.call((api) => api.openTable(this.id, name, options)));
  }

  /**
   * As `Connection.openShardedTable`, with the view and its shards in the worker: shards are
   * named by table name, location or manifest (strings: Table objects cannot cross). The handle
   * takes a table's read calls; writes fail with READ_ONLY.
   */
  async openShardedTable(shards: string | readonly string[], options?: OpenShardedTableOptions): Promise<RemoteTable> {
    if (typeof shards !== "string" && !(Array.isArray(shards) && shards.every((s) => typeof s === "string"))) {
      throw createError("INVALID_ARGUMENT", "openShardedTable() through a worker takes shard names or locations (strings): Table objects cannot move into the worker.");
    }
    return this.handle(await this.call((api) => api.openShardedTable(this.id, shards, options)));
  }

  /** @internal As `Connection.readStoreFile`, read in the worker. */
  async readStoreFile(key: string): Promise<Uint8Array | undefined> {
    return this.call((api) => api.readStoreFile(this.id, key));
  }

  /**
   * As `Connection.createTable`: rows, Arrow data or a schema, or LanceDB's object form. Rows are
   * copied to the worker; Arrow data is converted to columns here and those are copied. An
   * `embeddingFunction` crosses as its `toJSON()` config and is rebuilt by the worker's registry:
   * register user functions in the worker (a script of your own that calls `serve()`).
   */
  async createTable(
    nameOrOptions: string | ({ name: string; data: CreateData } & CreateTableOptions),
    data?: CreateData,
    options: CreateTableOptions = {},
  ): Promise<RemoteTable> {
    if (typeof nameOrOptions === "object" && nameOrOptions !== null) {
      const { name, data: d, ...rest } = nameOrOptions;
      return this.createTable(name, d, rest);
    }
    const opts = toWire(options.schema !== undefined && isArrowSchema(options.schema) ? { ...options, schema: (await arrowConversions()).quiverSchemaOf(options.schema) } : options);
    let payload: readonly Row[] | Schema | ColumnBatch | BatchPull;
    if (isArrowSchema(data)) payload = (await arrowConversions()).quiverSchemaOf(data);
    else if (isBatchStream(data)) payload = proxy(batchPull(data));
    else if (isArrowData(data)) payload = await (await arrowConversions()).arrowToColumns(data);
    else if (isSchema(data) || Array.isArray(data)) payload = data as readonly Row[] | Schema;
    else throw createError("INVALID_ARGUMENT", "createTable needs rows (an array of objects), Arrow data (a Table or RecordBatches) or a schema.");
    return this.handle(await this.call((api) => api.createTable(this.id, nameOrOptions, payload, opts)));
  }

  async createEmptyTable(name: string, tableSchema: Schema | ArrowSchemaLike, options: Omit<CreateTableOptions, "schema"> = {}): Promise<RemoteTable> {
    const s = isArrowSchema(tableSchema) ? (await arrowConversions()).quiverSchemaOf(tableSchema) : tableSchema;
    return this.handle(await this.call((api) => api.createEmptyTable(this.id, name, s, toWire(options))));
  }

  async dropTable(name: string): Promise<void> {
    for (const id of await this.call((api) => api.dropTable(this.id, name))) {
      this.#tables.get(id)?.markClosed();
      this.#tables.delete(id);
    }
  }

  async dropAllTables(): Promise<void> {
    for (const id of await this.call((api) => api.dropAllTables(this.id))) {
      this.#tables.get(id)?.markClosed();
      this.#tables.delete(id);
    }
  }

  /** As `Connection.renameTable`, in the worker; handles on the old name are closed. */
  async renameTable(currentName: string, newName: string, options: { namespacePath?: readonly string[]; newNamespacePath?: readonly string[] } = {}): Promise<void> {
    if ((options.namespacePath?.length ?? 0) > 0 || (options.newNamespacePath?.length ?? 0) > 0) throw createError("UNSUPPORTED", "Quiver databases have no namespaces.");
    for (const id of await this.call((api) => api.renameTable(this.id, currentName, newName))) {
      this.#tables.get(id)?.markClosed();
      this.#tables.delete(id);
    }
  }

  /** As `Connection.cloneTable`, in the worker. */
  async cloneTable(targetTableName: string, source: string, options: CloneTableOptions = {}): Promise<RemoteTable> {
    return this.handle(await this.call((api) => api.cloneTable(this.id, targetTableName, source, options)));
  }
}

/** `Table.tags()` across the worker. */
export type TagsApi = Pick<Tags, TagMethod>;

/** `Table`, with the data in a worker. */
export class RemoteTable {
  #open = true;
  #display: string;

  constructor(
    readonly name: string,
    private readonly link: Link,
    private readonly id: TableId,
    display: string,
  ) {
    this.#display = display;
  }

  isOpen(): boolean {
    return this.#open;
  }

  /** Releases the table in the worker. The table cannot be used afterwards. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.link.call((api) => api.closeTable(this.id)).catch(() => undefined);
  }

  /** @internal The worker closed this table (its connection closed or dropped it). */
  markClosed(): void {
    this.#open = false;
  }

  display(): string {
    return this.#display;
  }

  toString(): string {
    return this.display();
  }

  private async send<T>(work: (api: WorkerApi) => Promise<T>): Promise<T> {
    if (!this.#open) throw createError("CLOSED", `Table "${this.name}" is closed.`);
    return this.link.call(work);
  }

  private async forward<M extends ForwardedTableMethod>(method: M, args: TableArgs<M>): Promise<TableResult<M>> {
    const reply = await this.send((api) => api.callTable(this.id, method, args));
    this.#display = reply.display;
    return reply.value;
  }

  /** The schema as an Arrow Schema, built here from the worker's Quiver schema. */
  async schema(): Promise<ArrowSchema> {
    const s = await this.quiverSchema();
    const { arrowSchema, loadArrow } = await arrowConversions();
    return arrowSchema(await loadArrow(), s);
  }

  async quiverSchema(): Promise<Schema> { return this.forward("quiverSchema", []); }

  /** Every live row as an Arrow Table; the columns are copied from the worker and the Table is built here. */
  async toArrow(): Promise<ArrowTable> {
    const live = await this.liveColumns();
    const { arrowBatch, arrowTable, loadArrow } = await arrowConversions();
    const a = await loadArrow();
    return arrowTable(a, live.schema, live.batches.map((b) => arrowBatch(a, live.schema, b.columns, b.numRows)));
  }

  /** @internal As `Table.liveBatches`: the worker's live columns, copied over whole. */
  async *liveBatches(): AsyncGenerator<LiveColumns["batches"][number]> {
    yield* (await this.liveColumns()).batches;
  }

  /** @internal As `Table.tableConfig`. */
  async tableConfig(): Promise<TableResult<"tableConfig">> { return this.forward("tableConfig", []); }

  /** @internal As `Table.liveColumns`, copied from the worker. */
  async liveColumns(): Promise<LiveColumns> { return this.send((api) => api.liveColumns(this.id)); }
  async version(): Promise<number> { return this.forward("version", []); }
  async listVersions(...args: TableArgs<"listVersions">): Promise<TableResult<"listVersions">> { return this.forward("listVersions", args); }
  async checkout(...args: TableArgs<"checkout">): Promise<void> { return this.forward("checkout", args); }
  async checkoutLatest(): Promise<void> { return this.forward("checkoutLatest", []); }
  async restore(...args: TableArgs<"restore">): Promise<void> { return this.forward("restore", args); }
  async countRows(...args: TableArgs<"countRows">): Promise<number> { return this.forward("countRows", args); }
  async delete(...args: TableArgs<"delete">): Promise<TableResult<"delete">> { return this.forward("delete", args); }
  async update(...args: TableArgs<"update">): Promise<TableResult<"update">> { return this.forward("update", args); }
  async addColumns(...args: TableArgs<"addColumns">): Promise<TableResult<"addColumns">> { return this.forward("addColumns", args); }
  async alterColumns(...args: TableArgs<"alterColumns">): Promise<TableResult<"alterColumns">> { return this.forward("alterColumns", args); }
  async dropColumns(...args: TableArgs<"dropColumns">): Promise<TableResult<"dropColumns">> { return this.forward("dropColumns", args); }
  async optimize(...args: TableArgs<"optimize">): Promise<TableResult<"optimize">> { return this.forward("optimize", args); }
  async listIndices(): Promise<TableResult<"listIndices">> { return this.forward("listIndices", []); }
  async indexStats(...args: TableArgs<"indexStats">): Promise<TableResult<"indexStats">> { return this.forward("indexStats", args); }
  async dropIndex(...args: TableArgs<"dropIndex">): Promise<TableResult<"dropIndex">> { return this.forward("dropIndex", args); }
  async estimateRecall(...args: TableArgs<"estimateRecall">): Promise<TableResult<"estimateRecall">> { return this.forward("estimateRecall", args); }
  async tuneRecall(...args: TableArgs<"tuneRecall">): Promise<TableResult<"tuneRecall">> { return this.forward("tuneRecall", args); }
  async stats(): Promise<TableResult<"stats">> { return this.forward("stats", []); }
  /** @internal As `Table.embedPlan`: the text is embedded in the worker. */
  async embedPlan(...args: TableArgs<"embedPlan">): Promise<TableResult<"embedPlan">> { return this.forward("embedPlan", args); }
  /** @internal As `Table.ftsStatistics`. */
  async ftsStatistics(...args: TableArgs<"ftsStatistics">): Promise<TableResult<"ftsStatistics">> { return this.forward("ftsStatistics", args); }
  /** The key (a CryptoKey, bytes or passphrase) is cloned to the worker; `progress` does not cross. */
  async rekey(key: TableArgs<"rekey">[0]): Promise<TableResult<"rekey">> { return this.forward("rekey", [key]); }
  /** The archive Blob is made in the worker and cloned back; `progress` does not cross. */
  async backup(options: Omit<BackupOptions, "progress"> = {}): Promise<Blob> { return this.forward("backup", [{ version: options.version, includeIndexes: options.includeIndexes }]); }

  /** Rows are copied to the worker (the caller keeps its arrays); `progress` is called from the worker. */
  async add(data: Data, options: AddOptions = {}): Promise<AddResult> {
    const { progress, ...rest } = options;
    if (progress !== undefined && typeof progress !== "function") throw createError("INVALID_ARGUMENT", "add() progress must be a function.");
    const rows = isBatchStream(data) ? proxy(batchPull(data)) : isArrowData(data) ? await (await arrowConversions()).arrowToColumns(data) : data as readonly Row[];
    const reply = await this.send((api) => api.add(this.id, rows, rest, progress === undefined ? undefined : proxy(progress)));
    this.#display = reply.display;
    return reply.value;
  }

  /** Builds the index in the worker; `progress` is called from there. */
  async createIndex(column: string, options: CreateIndexOptions = {}): Promise<{ version: number }> {
    const { progress, ...rest } = options;
    if (progress !== undefined && typeof progress !== "function") throw createError("INVALID_ARGUMENT", "createIndex() progress must be a function.");
    const reply = await this.send((api) => api.createIndex(this.id, column, rest, progress === undefined ? undefined : proxy(progress)));
    this.#display = reply.display;
    return reply.value;
  }

  mergeInsert(on: string | readonly string[]): MergeInsertBuilder {
    const keys = typeof on === "string" ? [on] : [...on];
    return new MergeInsertBuilder(keys, async (plan, rows) => {
      const reply = await this.send((api) => api.mergeInsert(this.id, plan, rows));
      this.#display = reply.display;
      return reply.value;
    });
  }

  async tags(): Promise<TagsApi> {
    if (!this.#open) throw createError("CLOSED", `Table "${this.name}" is closed.`);
    const call = <M extends TagMethod>(method: M, args: Parameters<Tags[M]>) => this.send((api) => api.tags(this.id, method, args));
    return {
      list: () => call("list", []),
      getVersion: (tag) => call("getVersion", [tag]),
      create: (tag, version) => call("create", [tag, version]),
      update: (tag, version) => call("update", [tag, version]),
      delete: (tag) => call("delete", [tag]),
    };
  }

  /** Plans built here own their query vectors, so those move to the worker instead of being copied. */
  /** Builders hand over plans that share vectors with them: copy before transferring. */
  #execute = Object.assign(
    (plan: QueryPlan): Promise<Row[]> => this.send((api) => api.execute(this.id, transferPlan(structuredClone(plan)))),
    {
      tableSchema: () => this.quiverSchema(),
      kit: async () => (await import("../query/on-demand-kit.js")).onDemandKit,
      explain: (plan: QueryPlan, options: ExplainOptions): Promise<string> => this.explain(plan, options),
      stream: (plan: QueryPlan, batch: number): AsyncIterable<Row[]> => this.stream(plan, batch),
    },
  );

  /** As `Table.stream`: pages pulled one at a time from the worker, so a large scan never crosses whole. */
  async *stream(plan: QueryPlan, batch: number): AsyncGenerator<Row[], void, undefined> {
    const id = await this.send((api) => api.openStream(this.id, transferPlan(structuredClone(plan)), batch));
    let done = false;
    try {
      for (;;) {
        const page = await this.send((api) => api.nextPage(id));
        if (page === null) {
          done = true;
          return;
        }
        yield page;
      }
    } finally {
      if (!done) await this.link.call((api) => api.closeStream(id)).catch(() => undefined);
    }
  }

  /** A plain scan; add `.nearestTo(v)` for vector search. */
  query(): Query {
    return new Query(this.#execute);
  }

  /** Nearest-neighbour search for one query vector, or a batch of them. */
  /** As `Table.search`: text queries are embedded or full-text searched inside the worker. */
  search(query: QueryVector | readonly QueryVector[]): VectorQuery;
  search(query: string, queryType: "fts", ftsColumns?: string | readonly string[]): Query;
  search(query: string, queryType?: "auto" | "vector" | "hybrid", ftsColumns?: string | readonly string[]): VectorQuery;
  search(query: QueryVector | readonly QueryVector[] | string, queryType: TextQueryType = "auto", ftsColumns?: string | readonly string[]): VectorQuery | Query {
    return typeof query === "string" ? textSearch(this.#execute, query, queryType, ftsColumns) : new VectorQuery(this.#execute, toQueryVectors(query));
  }

  vectorSearch(vector: QueryVector | readonly QueryVector[]): VectorQuery {
    return this.search(vector);
  }

  /** As `Table.explain`: explainPlan() / analyzePlan() of a plan built elsewhere, run in the worker. */
  async explain(plan: QueryPlan, options: ExplainOptions = {}): Promise<string> {
    return this.send((api) => api.explain(this.id, transferPlan(structuredClone(plan)), options));
  }

  /** As `Table.takeOffsets`: the rows are read in the worker. */
  takeOffsets(offsets: readonly number[]): TakeQuery {
    return new TakeQuery(this.#execute, toTakePlan("offsets", offsets));
  }

  /** As `Table.takeRowIds`. */
  takeRowIds(rowIds: readonly (number | bigint)[]): TakeQuery {
    return new TakeQuery(this.#execute, toTakePlan("rowIds", rowIds));
  }

  /** Runs a plan built elsewhere. The plan is copied: its vectors stay usable by the caller. */
  async execute(plan: QueryPlan): Promise<Row[]> {
    return this.send((api) => api.execute(this.id, plan));
  }
}
