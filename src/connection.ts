/**
 * `connect(uri)` and `Connection`, named as in LanceDB's TypeScript SDK.
 *
 * URIs choose where tables live: `memory://` (private to the connection) or `memory://name` (shared
 * in this JavaScript realm), `idb://name` (IndexedDB), `opfs://name` (Origin Private File System),
 * a path or `file://` URL (Node and Deno), `https://…` (read-only, HTTP range requests).
 * Each table is a folder `<name>.quiver/` of immutable files with one manifest per version.
 */
import { createError } from "./errors.js";
import { columnsToRows, inferSchema, type Row } from "./data/rows.js";
import { arrowConversions, isArrowData, isArrowSchema, isBatchStream, type ArrowSchemaLike, type ColumnBatch } from "./arrow/detect.js";
import type { Column } from "./data/column.js";
import { schema as makeSchema, type Schema } from "./data/schema.js";
import type { KernelFlavor } from "./kernels/index.js";
import { Session, type MemoryStats } from "./session.js";
import type { BlobStore } from "./storage/blob-store.js";
import type { ScanPool, ScanPoolOptions } from "./pool/pool.js";
import { openStore } from "./storage/open-store.js";
import { decodeManifest, encodeManifest, filesOf, TABLE_SUFFIX, tableDir, TEMPORARY_FILE_AGE_MS } from "./storage/manifest.js";
import type { HttpStoreOptions } from "./storage/http-store.js";
import { Dataset } from "./dataset/dataset.js";
/** Cloning and renaming load on first use (and so does the clone check of dropTable). */
const clones = (): Promise<typeof import("./query/on-demand.js")> => import("./query/on-demand.js");
import { onDemandKit } from "./query/on-demand-kit.js";
// Encryption, backups and storage reports load on first use (they are not part of the core's size).
import type { BackupSource, RestoreBackupOptions } from "./table/backup.js";
import type { QuotaGuardOptions } from "./storage/quota.js";
import type { StorageReport } from "./table/storage-report.js";
import type { EncryptionOptions } from "./storage/encryption-key.js";
import { Tags } from "./dataset/tags.js";
import { appendColumnsTransaction, rowsToColumns } from "./table/writes.js";
import { createFromStream, type StreamWriteOptions } from "./table/stream-writes.js";
import { Table, type Data, type TableContext } from "./table.js";
import { checkEmbeddingConfig, embeddingDimension, embedRows, type EmbeddingFunctionConfig, type ResolvedEmbeddingConfig } from "./embeddings/index.js";
import { embeddingTableConfig, type FunctionOptions } from "./table/embedding.js";
import { field as makeField, DataTypes, findField } from "./data/schema.js";
import type { ShardedTable } from "./shard/sharded-table.js";
import { shardKit } from "./shard/kit.js";
import type { OpenShardedTableOptions } from "./shard/open.js";

export interface ConnectionOptions {
  /**
   * Which build of the WebAssembly kernels to use. `auto` (default) picks SIMD when the runtime
   * supports it; `scalar` forces the portable build (slower, for comparison or old engines).
   */
  kernels?: "auto" | KernelFlavor;
  /**
   * Seconds a table may serve reads before checking storage for versions other writers committed.
   * Default: never (call `checkoutLatest()`); 0: check before every read. A table always sees its
   * own writes.
   */
  readConsistencyInterval?: number;
  /**
   * Worker threads for exact scans (default 1: scans run in the calling thread). With 2 or more,
   * large scans are split across a pool of workers — over shared WebAssembly memory where the
   * runtime allows it (Node; cross-origin-isolated pages), else by message passing, which keeps a
   * copy of the vectors in each worker. Results are identical either way. `createIndex` builds
   * vector indexes on the same workers (CreateIndexOptions.workers).
   */
  workers?: number;
  /** How the scan pool reaches its workers: "auto" (default), "shared" or "message". */
  scanTransport?: "auto" | "shared" | "message";
  /** Starts one scan worker; default: the pool-worker script next to the library (see src/pool/pool.ts). */
  createScanWorker?: ScanPoolOptions["createWorker"];
  /**
   * The session that owns this connection's kernels and caches (see src/session.ts). Default: a
   * new one, closed with the connection. Pass one to several connections to share one budget; it
   * then outlives them (close it yourself). Not combinable with `workers` > 1.
   */
  session?: Session;
  /** Cache budget of the connection's own session, in bytes (default 256 MiB). See SessionOptions. */
  cacheBytes?: number;
  /**
   * Most bytes of WebAssembly memory this connection's kernels may allocate; past it, OUT_OF_MEMORY
   * naming the limit. In-thread default: none below wasm32's 4 GiB. With `workers` > 1 it is also
   * the size of the shared memory, which is reserved up front: default 1 GiB there, limit 4 GiB.
   */
  wasmMemoryLimit?: number;
  /** For `https://` (and `http://`) databases: timeouts, retries, headers, an AbortSignal. See HttpStoreOptions. */
  http?: HttpStoreOptions;
  /**
   * Encryption at rest (AES-256-GCM through Web Crypto; format in docs/FORMAT.md): `key` is a
   * CryptoKey (AES-GCM, 256 bits), 32 raw bytes, or `{ passphrase }` (PBKDF2-SHA-256, 600,000
   * iterations, salt stored in the database). A new, empty database becomes encrypted; a wrong key
   * fails here with WRONG_KEY before anything is read. Costs a key derivation at connect for a
   * passphrase (about half a second) and AES-GCM on every read and write.
   */
  encryption?: EncryptionOptions;
  /**
   * Most bytes this database may hold. Writes that would pass it fail with QUOTA_EXCEEDED before
   * writing (see src/storage/quota.ts); in browsers, writes to idb:// and opfs:// are also checked
   * against the origin's quota (navigator.storage.estimate()) whether or not this is set.
   */
  storageLimit?: number;
}

export interface CreateTableOptions {
  /** `create` (default) fails if the table exists; `overwrite` replaces its contents in a new version. */
  mode?: "create" | "overwrite";
  /** With mode `create`, open the existing table instead of failing. */
  existOk?: boolean;
  /** Explicit schema (Quiver's or an Arrow Schema); rows are checked against it. Inferred from the data when absent. */
  schema?: Schema | ArrowSchemaLike;
  /**
   * Embeds `sourceColumn` into `vectorColumn` (default "vector") on every write, and text queries on
   * `search(text)`. Saved with the table (without secrets) and restored by `openTable`.
   */
  embeddingFunction?: EmbeddingFunctionConfig;
  /**
   * For a stream of record batches (an async iterable): how much is gathered into each fragment
   * (default 64 MiB or 1,048,576 rows). The stream is written as it is read and committed once.
   */
  fragmentBytes?: StreamWriteOptions["fragmentBytes"];
  fragmentRows?: StreamWriteOptions["fragmentRows"];
}

export interface OpenTableOptions {
  /** Options for restoring the table's embedding function, by registry name, e.g. `{ openai: { apiKey } }`. */
  functionOptions?: FunctionOptions;
}

/** Options of `cloneTable`, named as in LanceDB. */
export interface CloneTableOptions {
  /** The version to clone (default: the newest). */
  sourceVersion?: number;
  /** Or the version with this tag. */
  sourceTag?: string;
  /** Default true: share the source's files; false copies them. */
  isShallow?: boolean;
  /** LanceDB's namespaces; Quiver has none (a non-empty path is UNSUPPORTED). */
  targetNamespacePath?: readonly string[];
}

export interface TableNamesOptions {
  /** Only names sorting after this one. */
  startAfter?: string;
  limit?: number;
}

/** The schema checked against an embedding config: the source column must be text; the vector column is added if absent. */
async function withEmbeddingColumns(s: Schema, cfg: ResolvedEmbeddingConfig): Promise<Schema> {
  const source = findField(s, cfg.sourceColumn);
  if (source === undefined || source.type.kind !== "utf8") {
    throw createError("SCHEMA_MISMATCH", `embeddingFunction.sourceColumn "${cfg.sourceColumn}" must be a text column of the table.`, { column: cfg.sourceColumn });
  }
  const existing = findField(s, cfg.vectorColumn);
  if (existing !== undefined) {
    if (existing.type.kind !== "vector") throw createError("SCHEMA_MISMATCH", `embeddingFunction.vectorColumn "${cfg.vectorColumn}" must be a vector column.`, { column: cfg.vectorColumn });
    return s;
  }
  return makeSchema([...s.fields, makeField(cfg.vectorColumn, DataTypes.vector(await embeddingDimension(cfg)), true)]);
}

/** What `createTable` takes: rows, Arrow data (Table, RecordBatches, async iterable of them) or a schema. */
export type CreateData = Data | Schema | ArrowSchemaLike;

/** A Quiver schema, read from an Arrow one when that is what was given. */
async function toQuiverSchema(s: Schema | ArrowSchemaLike): Promise<Schema> {
  return isArrowSchema(s) ? (await arrowConversions()).quiverSchemaOf(s) : makeSchema((s as Schema).fields);
}

function isSchema(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Array.isArray((value as Schema).fields);
}

const TABLE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const TABLE_KEY = /^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})\.quiver\/_versions\//;

function checkName(name: unknown): string {
  if (typeof name !== "string" || !TABLE_NAME.test(name) || name.endsWith(TABLE_SUFFIX)) {
    throw createError(
      "INVALID_ARGUMENT",
      `Table name ${JSON.stringify(name)} is invalid: use 1–128 letters, digits, "_", "-" or ".", not starting with "-" or ".".`,
    );
  }
  return name;
}

export class Connection {
  #open = true;
  #pool: Promise<ScanPool> | undefined;
  /** Owns kernels and caches; closed with the connection unless the caller passed it in. */
  readonly #session: Session;
  readonly #ownsSession: boolean;
  /**
   * Tables opened and not yet closed, held weakly: a table the app let go of (without close()) is
   * collected, and its entry with it; close() closes the ones still alive.
   */
  readonly #tables = new Set<{ deref(): Table | undefined }>();
  // Older workerd compatibility dates lack WeakRef and FinalizationRegistry: tables are then held
  // until closed (or until the connection closes).
  readonly #forget = typeof FinalizationRegistry === "function"
    ? new FinalizationRegistry<{ deref(): Table | undefined }>((ref) => this.#tables.delete(ref))
    : undefined;
  /** Sharded views opened through this connection and not yet closed. */
  readonly #views = new Set<ShardedTable>();
  /** Tables whose folder this connection has swept for stale temporary files. */
  readonly #swept = new Set<string>();

  constructor(
    readonly uri: string,
    private readonly store: BlobStore,
    private readonly options: ConnectionOptions,
  ) {
    this.#ownsSession = options.session === undefined;
    // With a pool, tables use its kernels, so blocks uploaded once are the ones the workers scan.
    const fromPool = (options.workers ?? 1) > 1 ? () => this.#scanPool().then((p) => p.kernels) : undefined;
    this.#session = options.session ?? new Session({ cacheBytes: options.cacheBytes, kernels: options.kernels, wasmMemoryLimit: options.wasmMemoryLimit }, fromPool);
  }

  isOpen(): boolean {
    return this.#open;
  }

  /**
   * Closes every table opened through this connection and the store's handles, stops the scan
   * pool, and closes the connection's own session, which frees its caches and lets go of its
   * WebAssembly memory (a session passed in stays open).
   */
  async close(): Promise<void> {
    if (!this.#open) return;
    // Closed at once (a call made meanwhile is CLOSED); then what it owns is released.
    this.#open = false;
    const views = [...this.#views];
    for (const ref of this.#tables) ref.deref()?.close();
    this.#tables.clear();
    await Promise.all(views.map((v) => v.close()));
    const pool = this.#pool;
    this.#pool = undefined;
    await (await pool?.catch(() => undefined))?.close();
    await this.store.close();
    if (this.#ownsSession) this.#session.close();
    else this.#session.invalidate(`${this.store.uri}|`);
  }

  /** WebAssembly memory and cache use of this connection's session. */
  memoryStats(): MemoryStats {
    return this.#session.memoryStats();
  }

  /**
   * Usage and quota of the origin (browsers), whether its storage is persistent, and bytes per
   * table and per version, with what `optimize({ cleanupOlderThan })` would free.
   */
  async storage(): Promise<StorageReport> {
    this.checkOpen();
    const [names, { storageReport }] = await Promise.all([this.listTables(), import("./table/extras.js")]);
    return storageReport(this.store, this.#session, names, { Dataset, Tags, filesOf }, this.options.storageLimit);
  }

  /**
   * Asks the browser to keep this origin's storage when space runs low (`navigator.storage.persist()`);
   * resolves whether it is persistent now. Browsers may grant it silently, prompt, or refuse (Chromium
   * decides by site engagement). False where there is no such API (Node, Deno: files are not evicted).
   */
  async requestPersistence(): Promise<boolean> {
    this.checkOpen();
    return (await import("./table/extras.js")).requestPersistence();
  }

  /** The scan pool, started on first use (its module loads only then). */
  #scanPool(): Promise<ScanPool> {
    this.#pool ??= import("./pool/pool.js").then(({ createScanPool }) =>
      createScanPool({
        workers: this.options.workers, transport: this.options.scanTransport ?? "auto", flavor: this.options.kernels ?? "auto",
        ...(this.options.wasmMemoryLimit !== undefined ? { maximumMemoryBytes: this.options.wasmMemoryLimit } : {}),
        ...(this.options.createScanWorker ? { createWorker: this.options.createScanWorker } : {}),
      }));
    return this.#pool;
  }

  display(): string {
    return `Connection(${this.uri})`;
  }

  private checkOpen(): void {
    if (!this.#open) throw createError("CLOSED", `Connection to ${this.uri} is closed.`);
  }

  private context(extra: Pick<TableContext, "embeddingFunction" | "functionOptions"> = {}): TableContext {
    return {
      ...extra,
      kernels: () => this.#session.kernels(),
      scanPool: (this.options.workers ?? 1) > 1 ? () => this.#scanPool() : undefined,
      loadedKernels: () => this.#session.loadedKernels(),
      session: this.#session,
      readConsistencyInterval: this.options.readConsistencyInterval,
    };
  }

  private handle(name: string, dataset: Dataset, extra?: Pick<TableContext, "embeddingFunction" | "functionOptions">): Table {
    const table = new Table(name, dataset, { ...this.context(extra), onClose: () => this.#tables.delete(ref) });
    const ref = typeof WeakRef === "function" ? new WeakRef(table) : { deref: () => table };
    this.#tables.add(ref);
    this.#forget?.register(table, ref);
    return table;
  }

  async tableNames(options: TableNamesOptions = {}): Promise<string[]> {
    this.checkOpen();
    let out = await this.listTables();
    if (options.startAfter !== undefined) out = out.filter((n) => n > options.startAfter!);
    if (options.limit !== undefined) out = out.slice(0, options.limit);
    return out;
  }

  /**
   * Names of the tables: folders `<name>.quiver/` holding a version. With a store that lists folders,
   * that is one listing of the root plus one of each table's `_versions/` (bounded by the version
   * floor), not a listing of every file in the database.
   */
  private async listTables(): Promise<string[]> {
    if (this.store.listFolders === undefined) {
      const names = new Set<string>();
      for (const info of await this.store.list("")) {
        const m = TABLE_KEY.exec(info.key);
        if (m) names.add(m[1]!);
      }
      return [...names].sort();
    }
    const folders = (await this.store.listFolders("")).filter((f) => f.endsWith(TABLE_SUFFIX)).map((f) => f.slice(0, -TABLE_SUFFIX.length));
    const live = await Promise.all(folders.map(async (name) => TABLE_KEY.test(`${tableDir(name)}_versions/`) && (await Dataset.latestVersion(this.store, name)) !== undefined));
    return folders.filter((_, i) => live[i]).sort();
  }

  async openTable(name: string, options: OpenTableOptions = {}): Promise<Table> {
    this.checkOpen();
    const dataset = await Dataset.open(this.store, checkName(name), this.#session).catch((e) => this.explainUnreadable(e, name));
    this.sweepTemporaryFiles(name);
    return this.handle(name, dataset, { functionOptions: options.functionOptions });
  }

  /**
   * A table that does not decode in a database with a key check file was opened without its key:
   * WRONG_KEY. A table that is not there but was published as shards: say how to open it.
   */
  private async explainUnreadable(error: unknown, name: string): Promise<never> {
    const code = (error as { code?: string }).code;
    if (code === "CORRUPT_FILE" && !("keyring" in this.store)) await (await import("./table/extras.js")).explainUnreadable(this.store, error);
    if (code === "TABLE_NOT_FOUND") await (await import("./shard/open.js")).explainMissing(this, name, error);
    throw error;
  }

  /** @internal A file of this database's store (a shard manifest), or undefined when there is none. */
  async readStoreFile(key: string): Promise<Uint8Array | undefined> {
    this.checkOpen();
    return this.store.get(key).catch((e: { code?: string }) => {
      if (e?.code === "NOT_FOUND") return undefined;
      throw e;
    });
  }

  /**
   * Several tables with one schema read as one table (src/shard/): `shards` lists table names of
   * this database, table locations (`https://host/db/docs-0`, `./dir/docs-1`) or open Tables, or is
   * the name or location of a shard manifest that `npx quiverdb publish … --shards N` wrote.
   * Queries run on every shard at once and are merged as one table would answer them (vector,
   * full text with BM25 statistics over all shards, hybrid); writes fail with READ_ONLY. The view
   * closes with this connection, and closes what it opened.
   */
  async openShardedTable(shards: string | readonly (string | Table)[], options: OpenShardedTableOptions = {}): Promise<ShardedTable> {
    this.checkOpen();
    return (await import("./shard/open.js")).openShardedTable({ ...shardKit, connect }, { connection: this, options: this.options, session: this.#session, views: this.#views }, shards, options);
  }

  /**
   * Once per table and connection, in the background: temporary files that writers which crashed
   * mid-write left in the table's folder, once they are old enough that no live write owns them.
   */
  private sweepTemporaryFiles(name: string): void {
    if (this.store.readOnly || this.store.removeTemporaryFiles === undefined || this.#swept.has(name)) return;
    this.#swept.add(name);
    this.store.removeTemporaryFiles(tableDir(name), TEMPORARY_FILE_AGE_MS).catch(() => {
      // Best effort: optimize() sweeps again and reports what it removed.
    });
  }

  /**
   * Creates a table from rows (schema inferred or given in options) or from a schema alone.
   * Also accepts LanceDB's object form: `createTable({ name, data, schema?, mode?, existOk? })`.
   */
  async createTable(
    nameOrOptions: string | ({ name: string; data: CreateData } & CreateTableOptions),
    data?: CreateData,
    options: CreateTableOptions = {},
  ): Promise<Table> {
    this.checkOpen();
    if (typeof nameOrOptions === "object" && nameOrOptions !== null) {
      const { name, data: d, ...rest } = nameOrOptions;
      return this.createTable(name, d, rest);
    }
    const name = checkName(nameOrOptions);
    const mode = options.mode ?? "create";
    if (mode !== "create" && mode !== "overwrite") {
      throw createError("INVALID_ARGUMENT", `createTable mode must be "create" or "overwrite", got ${JSON.stringify(mode)}.`);
    }
    this.#checkWritable("created");
    const embedding = options.embeddingFunction === undefined ? undefined : checkEmbeddingConfig(options.embeddingFunction);
    const given = options.schema === undefined ? undefined : await toQuiverSchema(options.schema);
    if (embedding === undefined && isBatchStream(data)) return this.createFromStream(name, data, given, options);
    let rows: readonly Row[] = [];
    /** Columns read from Arrow, fitted to the table schema once it is known. */
    let arrow: ColumnBatch | undefined;
    let tableSchema: Schema;
    if (isArrowSchema(data)) {
      tableSchema = await toQuiverSchema(data);
    } else if (isArrowData(data)) {
      arrow = await (await arrowConversions()).arrowToColumns(data);
      tableSchema = given ?? makeSchema(arrow.schema.fields);
      if (embedding && !arrow.columns.has(embedding.vectorColumn)) {
        // The embedding function works on rows: the text column is read out so it can be embedded.
        rows = await embedRows(embedding, columnsToRows(arrow.columns, arrow.schema.fields.map((f) => f.name), Array.from({ length: arrow.numRows }, (_, i) => i)));
        arrow = undefined;
      }
    } else if (isSchema(data)) {
      tableSchema = makeSchema(data.fields);
    } else if (Array.isArray(data)) {
      rows = embedding ? await embedRows(embedding, data) : data;
      tableSchema = given ?? inferSchema(rows);
    } else {
      throw createError("INVALID_ARGUMENT", "createTable needs rows (an array of objects), Arrow data (a Table or RecordBatches) or a schema.");
    }
    if (embedding) tableSchema = await withEmbeddingColumns(tableSchema, embedding);
    // Without a live function, configs the Arrow schema metadata names (LanceDB's, or an exported Quiver table's) are kept.
    const config = embedding ? embeddingTableConfig(embedding) : arrow?.metadata ? (await arrowConversions()).embeddingConfigFromMetadata(arrow.metadata) : {};

    const exists = (await Dataset.latestVersion(this.store, name)) !== undefined;
    if (exists && mode === "create") {
      if (options.existOk) return this.openTable(name);
      throw createError("TABLE_EXISTS", `Table "${name}" already exists in ${this.uri}; pass { mode: "overwrite" } to replace it or { existOk: true } to open it.`);
    }
    // Rows are checked before anything is written, so a bad row leaves no table behind.
    const columns: Map<string, Column> = arrow ? (await arrowConversions()).fitColumns(arrow, tableSchema) : await rowsToColumns(tableSchema, rows);
    const numRows = arrow ? arrow.numRows : rows.length;
    if (exists) {
      const dataset = await Dataset.open(this.store, name, this.#session);
      const head = dataset.head();
      const tx = await appendColumnsTransaction(dataset, { ...head, schema: tableSchema }, columns, numRows, "overwrite");
      await dataset.commit({ ...tx, schema: tableSchema, indices: [], config });
      return this.handle(name, dataset, { embeddingFunction: embedding });
    }
    return this.handle(name, await Dataset.create(this.store, name, this.#session, tableSchema, { columns, numRows }, config), { embeddingFunction: embedding });
  }

  /** `createTable` from a stream of record batches: see src/table/stream-writes.ts. */
  private async createFromStream(name: string, data: AsyncIterable<unknown>, given: Schema | undefined, options: CreateTableOptions): Promise<Table> {
    const mode = options.mode ?? "create";
    if (mode === "create" && (await Dataset.latestVersion(this.store, name)) !== undefined) {
      if (options.existOk) return this.openTable(name);
      throw createError("TABLE_EXISTS", `Table "${name}" already exists in ${this.uri}; pass { mode: "overwrite" } to replace it or { existOk: true } to open it.`);
    }
    const dataset = await createFromStream(this.store, this.#session, name, data, given, options);
    return this.handle(name, dataset);
  }

  /** A table with no rows: `schema` is Quiver's (`schema([field(…)])`) or an Arrow Schema. */
  async createEmptyTable(name: string, tableSchema: Schema | ArrowSchemaLike, options: Omit<CreateTableOptions, "schema"> = {}): Promise<Table> {
    if (!isSchema(tableSchema)) throw createError("INVALID_ARGUMENT", "createEmptyTable needs a schema.");
    return this.createTable(name, tableSchema, options);
  }

  /**
   * Deletes a table and all its versions and files. A table that shallow clones share files with
   * cannot be dropped (INVALID_ARGUMENT naming them); dropping a clone lets its source's cleanup
   * free the files the clone held.
   */
  async dropTable(name: string): Promise<void> {
    this.checkOpen();
    checkName(name);
    this.#checkWritable("dropped");
    if ((await Dataset.latestVersion(this.store, name)) === undefined) throw createError("TABLE_NOT_FOUND", `No table "${name}" in ${this.uri}.`);
    const { checkNoClones, releaseClone } = await clones();
    await checkNoClones(onDemandKit, this.store, name, "drop");
    const config = (await Dataset.open(this.store, name, this.#session)).head().config;
    this.#closeHandles(name);
    // Manifests go first, so a half-finished drop leaves no readable table behind.
    const files = await this.store.list(tableDir(name));
    const order = (k: string): number => (k.includes("/_versions/") ? 0 : 1);
    files.sort((a, b) => order(a.key) - order(b.key));
    for (const f of files) await this.store.delete(f.key);
    await releaseClone(this.store, config);
  }

  /**
   * Recreates a table from an archive made by `table.backup()` (a Blob or File, bytes or a stream),
   * at the version it was backed up at, with its tags. Every checksum is verified before anything
   * is written; a damaged or truncated archive is CORRUPT_FILE and creates nothing. A sealed
   * (encrypted) archive opens with this connection's keys or `options.encryption`.
   */
  async restoreBackup(source: BackupSource, options: RestoreBackupOptions): Promise<Table> {
    this.checkOpen();
    const name = checkName(options?.name);
    const { restoreBackup } = await import("./table/extras.js");
    await restoreBackup(this.store, source, { ...options, name }, async () => (await Dataset.latestVersion(this.store, name)) !== undefined, { decodeManifest, encodeManifest });
    return this.openTable(name);
  }

  /** Drops every table (clones before the tables they share files with). */
  async dropAllTables(): Promise<void> {
    await (await clones()).dropInOrder(onDemandKit, this.store, await this.tableNames(), (name) => this.dropTable(name));
  }

  #checkWritable(done: string): void {
    if (this.store.readOnly) throw createError("READ_ONLY", `${this.uri} is read-only; tables cannot be ${done} there.`);
  }

  /** Closes this connection's handles on `name` and drops what the session cached for it. */
  #closeHandles(name: string): void {
    for (const ref of [...this.#tables]) {
      const t = ref.deref();
      if (t?.name === name) t.close();
    }
    this.#session.invalidate(`${this.store.uri}|${tableDir(name)}`);
  }

  /**
   * Renames a table (LanceDB's `renameTable`). Memory and file-system databases move the table's
   * folder in one atomic rename; other stores (IndexedDB, OPFS, Durable Objects, Deno KV) copy
   * every file and then delete the old ones, so a crash leaves the old table, the new one, or both,
   * never neither (src/dataset/clone.ts). Handles on the old name through this connection are
   * closed; other writers must not write the table while it is renamed. A table that shallow
   * clones share files with cannot be renamed.
   */
  async renameTable(currentName: string, newName: string, options: { namespacePath?: readonly string[]; newNamespacePath?: readonly string[] } = {}): Promise<void> {
    this.checkOpen();
    checkName(currentName);
    checkName(newName);
    this.#checkWritable("renamed");
    await (await clones()).renameTable(onDemandKit, this.store, currentName, newName, options, () => this.#closeHandles(currentName));
  }

  /**
   * A new table `targetTableName` holding a version of `source` (LanceDB's `cloneTable`): the
   * newest, `sourceVersion` or the version tagged `sourceTag`. Shallow (default): the clone names
   * the source's immutable files instead of copying them, and markers keep those files through
   * the source's cleanups (docs/FORMAT.md). `isShallow: false` copies the files. `source` is a table
   * of this database, by name (or as this connection's URI followed by "/name").
   */
  async cloneTable(targetTableName: string, source: string, options: CloneTableOptions = {}): Promise<Table> {
    this.checkOpen();
    checkName(targetTableName);
    this.#checkWritable("created");
    await (await clones()).cloneTable(onDemandKit, this.store, this.#session, TABLE_NAME, source, targetTableName, options);
    return this.openTable(targetTableName);
  }
}

function isBlobStore(value: unknown): value is BlobStore {
  return typeof value === "object" && value !== null && ["get", "getRange", "head", "put", "putIfAbsent", "list", "delete"].every((m) => typeof (value as Record<string, unknown>)[m] === "function");
}

/** Opens a database at `uri` (see the list at the top of this file), or on a BlobStore of your own. */
export async function connect(uri: string | BlobStore, options: ConnectionOptions = {}): Promise<Connection> {
  if (typeof uri !== "string" && !isBlobStore(uri)) throw createError("INVALID_ARGUMENT", `connect() takes a URI string or a BlobStore, got ${typeof uri}.`);
  const flavor = options.kernels ?? "auto";
  if (!["auto", "simd", "scalar"].includes(flavor)) {
    throw createError("INVALID_ARGUMENT", `kernels must be "auto", "simd" or "scalar", got ${JSON.stringify(flavor)}.`);
  }
  if (options.workers !== undefined && !(Number.isInteger(options.workers) && options.workers >= 1 && options.workers <= 64)) {
    throw createError("INVALID_ARGUMENT", `workers must be an integer from 1 to 64, got ${String(options.workers)}.`);
  }
  if (options.session !== undefined) {
    if (!(options.session instanceof Session)) throw createError("INVALID_ARGUMENT", "session must be a Session (new Session({ cacheBytes })).");
    if (options.session.closed) throw createError("CLOSED", "The session passed to connect() is closed.");
    if ((options.workers ?? 1) > 1) throw createError("INVALID_ARGUMENT", "A shared session cannot be combined with workers > 1 (the scan pool brings its own kernels).");
  }
  const interval = options.readConsistencyInterval;
  if (interval !== undefined && (typeof interval !== "number" || !(interval >= 0))) {
    throw createError("INVALID_ARGUMENT", `readConsistencyInterval must be a number of seconds >= 0, got ${String(interval)}.`);
  }
  const opened = typeof uri === "string" ? await openStore(uri, { http: options.http }) : uri;
  const estimates = typeof (globalThis as { navigator?: { storage?: { estimate?: unknown } } }).navigator?.storage?.estimate === "function";
  let store = opened;
  let guard: QuotaGuardOptions | undefined;
  if (options.encryption !== undefined || options.storageLimit !== undefined || estimates) {
    ({ store, guard } = await (await import("./table/extras.js")).wrapStore(opened, options, typeof uri === "string"));
  }
  const connection = new Connection(store.uri, store, options);
  if (guard !== undefined) guard.reclaimable = async () => (await connection.storage()).reclaimableBytes;
  return connection;
}
