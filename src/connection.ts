/**
 * `connect(uri)` and `Connection`, named as in LanceDB's TypeScript SDK.
 *
 * URIs choose where tables live: `memory://` (private to the connection) or `memory://name` (shared
 * in this JavaScript realm), `idb://name` (IndexedDB), `opfs://name` (Origin Private File System),
 * a path or `file://` URL (Node and Deno), `https://…` (read-only, HTTP range requests).
 * Each table is a folder `<name>.lance/` of immutable files with one manifest per version.
 */
import { createError } from "./errors.js";
import { inferSchema, type Row } from "./data/rows.js";
import { schema as makeSchema, type Schema } from "./data/schema.js";
import { loadKernels, type Kernels, type KernelFlavor } from "./kernels/index.js";
import type { BlobStore } from "./storage/blob-store.js";
import type { ScanPool, ScanPoolOptions } from "./worker/pool.js";
import { openStore } from "./storage/open-store.js";
import { Dataset } from "./table/dataset.js";
import { TEMPORARY_FILE_AGE_MS } from "./table/optimize.js";
import { appendTransaction, rowsToColumns } from "./table/writes.js";
import { Table, type TableContext } from "./table.js";
import { checkEmbeddingConfig, embeddingDimension, embedRows, type EmbeddingFunctionConfig, type ResolvedEmbeddingConfig } from "./embeddings/index.js";
import { embeddingTableConfig, type FunctionOptions } from "./table/embedding.js";
import { field as makeField, DataTypes, findField } from "./data/schema.js";

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
   * copy of the vectors in each worker. Results are identical either way.
   */
  workers?: number;
  /** How the scan pool reaches its workers: "auto" (default), "shared" or "message". */
  scanTransport?: "auto" | "shared" | "message";
  /** Starts one scan worker; default: the pool-worker script next to the library (see src/worker/pool.ts). */
  createScanWorker?: ScanPoolOptions["createWorker"];
}

export interface CreateTableOptions {
  /** `create` (default) fails if the table exists; `overwrite` replaces its contents in a new version. */
  mode?: "create" | "overwrite";
  /** With mode `create`, open the existing table instead of failing. */
  existOk?: boolean;
  /** Explicit schema; rows are checked against it. Inferred from the rows when absent. */
  schema?: Schema;
  /**
   * Embeds `sourceColumn` into `vectorColumn` (default "vector") on every write, and text queries on
   * `search(text)`. Saved with the table (without secrets) and restored by `openTable`.
   */
  embeddingFunction?: EmbeddingFunctionConfig;
}

export interface OpenTableOptions {
  /** Options for restoring the table's embedding function, by registry name, e.g. `{ openai: { apiKey } }`. */
  functionOptions?: FunctionOptions;
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

function isSchema(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Array.isArray((value as Schema).fields);
}

const TABLE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const TABLE_KEY = /^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})\.lance\/_versions\//;

function checkName(name: unknown): string {
  if (typeof name !== "string" || !TABLE_NAME.test(name) || name.endsWith(".lance")) {
    throw createError(
      "INVALID_ARGUMENT",
      `Table name ${JSON.stringify(name)} is invalid: use 1–128 letters, digits, "_", "-" or ".", not starting with "-" or ".".`,
    );
  }
  return name;
}

export class Connection {
  #open = true;
  #kernels: Promise<Kernels> | undefined;
  #loaded: Kernels | undefined;
  #pool: Promise<ScanPool> | undefined;
  readonly #tables = new Set<Table>();
  /** Tables whose folder this connection has swept for stale temporary files. */
  readonly #swept = new Set<string>();

  constructor(
    readonly uri: string,
    private readonly store: BlobStore,
    private readonly options: ConnectionOptions,
  ) {}

  isOpen(): boolean {
    return this.#open;
  }

  /** Closes every table opened through this connection, frees their WASM memory, the scan pool and the store's handles. */
  async close(): Promise<void> {
    if (!this.#open) return;
    for (const t of this.#tables) t.close();
    this.#tables.clear();
    this.#open = false;
    const pool = this.#pool;
    this.#pool = undefined;
    await (await pool?.catch(() => undefined))?.close();
    await this.store.close();
  }

  /** The scan pool, started on first use (its module loads only then). */
  #scanPool(): Promise<ScanPool> {
    this.#pool ??= import("./worker/pool.js").then(({ createScanPool }) =>
      createScanPool({
        workers: this.options.workers, transport: this.options.scanTransport ?? "auto", flavor: this.options.kernels ?? "auto",
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
      kernels: () => {
        // With a pool, tables use its kernels, so blocks uploaded once are the ones the workers scan.
        const source = (this.options.workers ?? 1) > 1 ? this.#scanPool().then((p) => p.kernels) : loadKernels({ flavor: this.options.kernels ?? "auto" });
        this.#kernels ??= source.then((k) => (this.#loaded = k));
        return this.#kernels;
      },
      scanPool: (this.options.workers ?? 1) > 1 ? () => this.#scanPool() : undefined,
      loadedKernels: () => this.#loaded,
      readConsistencyInterval: this.options.readConsistencyInterval,
    };
  }

  private handle(name: string, dataset: Dataset, extra?: Pick<TableContext, "embeddingFunction" | "functionOptions">): Table {
    const table = new Table(name, dataset, this.context(extra));
    this.#tables.add(table);
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
   * Names of the tables: folders `<name>.lance/` holding a version. With a store that lists folders,
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
    const folders = (await this.store.listFolders("")).filter((f) => f.endsWith(".lance")).map((f) => f.slice(0, -".lance".length));
    const live = await Promise.all(folders.map(async (name) => TABLE_KEY.test(`${name}.lance/_versions/`) && (await Dataset.latestVersion(this.store, name)) !== undefined));
    return folders.filter((_, i) => live[i]).sort();
  }

  async openTable(name: string, options: OpenTableOptions = {}): Promise<Table> {
    this.checkOpen();
    const dataset = await Dataset.open(this.store, checkName(name));
    this.sweepTemporaryFiles(name);
    return this.handle(name, dataset, { functionOptions: options.functionOptions });
  }

  /**
   * Once per table and connection, in the background: temporary files that writers which crashed
   * mid-write left in the table's folder, once they are old enough that no live write owns them.
   */
  private sweepTemporaryFiles(name: string): void {
    if (this.store.readOnly || this.store.removeTemporaryFiles === undefined || this.#swept.has(name)) return;
    this.#swept.add(name);
    this.store.removeTemporaryFiles(`${name}.lance/`, TEMPORARY_FILE_AGE_MS).catch(() => {
      // Best effort: optimize() sweeps again and reports what it removed.
    });
  }

  /**
   * Creates a table from rows (schema inferred or given in options) or from a schema alone.
   * Also accepts LanceDB's object form: `createTable({ name, data, schema?, mode?, existOk? })`.
   */
  async createTable(
    nameOrOptions: string | ({ name: string; data: readonly Row[] | Schema } & CreateTableOptions),
    data?: readonly Row[] | Schema,
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
    if (this.store.readOnly) throw createError("READ_ONLY", `${this.uri} is read-only; tables cannot be created there.`);
    const embedding = options.embeddingFunction === undefined ? undefined : checkEmbeddingConfig(options.embeddingFunction);
    let rows: readonly Row[] = [];
    let tableSchema: Schema;
    if (isSchema(data)) {
      tableSchema = makeSchema(data.fields);
    } else if (Array.isArray(data)) {
      rows = embedding ? await embedRows(embedding, data) : data;
      tableSchema = options.schema ? makeSchema(options.schema.fields) : inferSchema(rows);
    } else {
      throw createError("INVALID_ARGUMENT", "createTable needs rows (an array of objects) or a schema.");
    }
    if (embedding) tableSchema = await withEmbeddingColumns(tableSchema, embedding);
    const config = embedding ? embeddingTableConfig(embedding) : {};

    const exists = (await Dataset.latestVersion(this.store, name)) !== undefined;
    if (exists && mode === "create") {
      if (options.existOk) return this.openTable(name);
      throw createError("TABLE_EXISTS", `Table "${name}" already exists in ${this.uri}; pass { mode: "overwrite" } to replace it or { existOk: true } to open it.`);
    }
    // Rows are checked before anything is written, so a bad row leaves no table behind.
    if (exists) {
      const dataset = await Dataset.open(this.store, name);
      const head = dataset.head();
      const tx = await appendTransaction(dataset, { ...head, schema: tableSchema }, rows, "overwrite");
      await dataset.commit({ ...tx, schema: tableSchema, indices: [], config });
      return this.handle(name, dataset, { embeddingFunction: embedding });
    }
    const columns = await rowsToColumns(tableSchema, rows);
    return this.handle(name, await Dataset.create(this.store, name, tableSchema, { columns, numRows: rows.length }, config), { embeddingFunction: embedding });
  }

  async createEmptyTable(name: string, tableSchema: Schema, options: Omit<CreateTableOptions, "schema"> = {}): Promise<Table> {
    if (!isSchema(tableSchema)) throw createError("INVALID_ARGUMENT", "createEmptyTable needs a schema.");
    return this.createTable(name, tableSchema, options);
  }

  /** Deletes a table and all its versions and files. */
  async dropTable(name: string): Promise<void> {
    this.checkOpen();
    checkName(name);
    if (this.store.readOnly) throw createError("READ_ONLY", `${this.uri} is read-only; tables cannot be dropped there.`);
    if ((await Dataset.latestVersion(this.store, name)) === undefined) throw createError("TABLE_NOT_FOUND", `No table "${name}" in ${this.uri}.`);
    for (const t of this.#tables) if (t.name === name) { t.close(); this.#tables.delete(t); }
    // Manifests go first, so a half-finished drop leaves no readable table behind.
    const files = await this.store.list(`${name}.lance/`);
    const order = (k: string): number => (k.includes("/_versions/") ? 0 : 1);
    files.sort((a, b) => order(a.key) - order(b.key));
    for (const f of files) await this.store.delete(f.key);
  }

  async dropAllTables(): Promise<void> {
    for (const name of await this.tableNames()) await this.dropTable(name);
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
  const interval = options.readConsistencyInterval;
  if (interval !== undefined && (typeof interval !== "number" || !(interval >= 0))) {
    throw createError("INVALID_ARGUMENT", `readConsistencyInterval must be a number of seconds >= 0, got ${String(interval)}.`);
  }
  const store = typeof uri === "string" ? await openStore(uri) : uri;
  return new Connection(store.uri, store, options);
}
