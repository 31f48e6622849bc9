/**
 * `connect(uri)` and `Connection`, named as in LanceDB's TypeScript SDK.
 *
 * URIs: `memory://` (a fresh, private database) and `memory://name` (shared by every connection to
 * the same name in this JavaScript realm, until the process ends). Durable backends (idb://, opfs://,
 * file paths, https://) arrive with the storage layer.
 */
import { createError } from "./errors.js";
import { inferSchema, type Row } from "./data/rows.js";
import { schema as makeSchema, type Schema } from "./data/schema.js";
import { loadKernels, type Kernels, type KernelFlavor } from "./kernels/index.js";
import { MemoryDataset, type Dataset } from "./table/dataset.js";
import { Table, type TableContext } from "./table.js";

export interface ConnectionOptions {
  /**
   * Which build of the WebAssembly kernels to use. `auto` (default) picks SIMD when the runtime
   * supports it; `scalar` forces the portable build (slower, for comparison or old engines).
   */
  kernels?: "auto" | KernelFlavor;
}

export interface CreateTableOptions {
  /** `create` (default) fails if the table exists; `overwrite` replaces it. */
  mode?: "create" | "overwrite";
  /** With mode `create`, open the existing table instead of failing. */
  existOk?: boolean;
  /** Explicit schema; rows are checked against it. Inferred from the rows when absent. */
  schema?: Schema;
}

export interface TableNamesOptions {
  /** Only names sorting after this one. */
  startAfter?: string;
  limit?: number;
}

type Databases = Map<string, Dataset>;
const namedMemoryDatabases = new Map<string, Databases>();

function isSchema(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Array.isArray((value as Schema).fields);
}

const TABLE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

function checkName(name: unknown): string {
  if (typeof name !== "string" || !TABLE_NAME.test(name)) {
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
  readonly #tables: Databases;
  readonly #open_tables = new Set<Table>();

  constructor(
    readonly uri: string,
    tables: Databases,
    private readonly options: ConnectionOptions,
  ) {
    this.#tables = tables;
  }

  isOpen(): boolean {
    return this.#open;
  }

  /** Closes every table opened through this connection and frees their WASM memory. */
  close(): void {
    for (const t of this.#open_tables) t.close();
    this.#open_tables.clear();
    this.#open = false;
  }

  display(): string {
    return `Connection(${this.uri})`;
  }

  private checkOpen(): void {
    if (!this.#open) throw createError("CLOSED", `Connection to ${this.uri} is closed.`);
  }

  private context(): TableContext {
    return {
      kernels: () => {
        this.#kernels ??= loadKernels({ flavor: this.options.kernels ?? "auto" }).then((k) => (this.#loaded = k));
        return this.#kernels;
      },
      loadedKernels: () => this.#loaded,
    };
  }

  private handle(name: string, dataset: Dataset): Table {
    const table = new Table(name, dataset, this.context());
    this.#open_tables.add(table);
    return table;
  }

  async tableNames(options: TableNamesOptions = {}): Promise<string[]> {
    this.checkOpen();
    let names = [...this.#tables.keys()].sort();
    if (options.startAfter !== undefined) names = names.filter((n) => n > options.startAfter!);
    if (options.limit !== undefined) names = names.slice(0, options.limit);
    return names;
  }

  async openTable(name: string): Promise<Table> {
    this.checkOpen();
    const dataset = this.#tables.get(checkName(name));
    if (dataset === undefined) throw createError("TABLE_NOT_FOUND", `No table "${name}" in ${this.uri}.`);
    return this.handle(name, dataset);
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
    if (mode === "create" && this.#tables.has(name)) {
      if (options.existOk) return this.openTable(name);
      throw createError("TABLE_EXISTS", `Table "${name}" already exists in ${this.uri}; pass { mode: "overwrite" } to replace it or { existOk: true } to open it.`);
    }
    let rows: readonly Row[] = [];
    let tableSchema: Schema;
    if (isSchema(data)) {
      tableSchema = makeSchema(data.fields);
    } else if (Array.isArray(data)) {
      rows = data;
      tableSchema = options.schema ? makeSchema(options.schema.fields) : inferSchema(rows);
    } else {
      throw createError("INVALID_ARGUMENT", "createTable needs rows (an array of objects) or a schema.");
    }
    const dataset = new MemoryDataset(tableSchema);
    const table = new Table(name, dataset, this.context());
    // Rows are checked and written before the table becomes visible, so a bad row leaves nothing behind.
    if (rows.length > 0) await table.add(rows);
    this.#tables.set(name, dataset);
    this.#open_tables.add(table);
    return table;
  }

  async createEmptyTable(name: string, tableSchema: Schema, options: Omit<CreateTableOptions, "schema"> = {}): Promise<Table> {
    if (!isSchema(tableSchema)) throw createError("INVALID_ARGUMENT", "createEmptyTable needs a schema.");
    return this.createTable(name, tableSchema, options);
  }

  async dropTable(name: string): Promise<void> {
    this.checkOpen();
    if (!this.#tables.delete(checkName(name))) throw createError("TABLE_NOT_FOUND", `No table "${name}" in ${this.uri}.`);
    for (const t of this.#open_tables) if (t.name === name) { t.close(); this.#open_tables.delete(t); }
  }

  async dropAllTables(): Promise<void> {
    for (const name of await this.tableNames()) await this.dropTable(name);
  }
}

export async function connect(uri: string, options: ConnectionOptions = {}): Promise<Connection> {
  if (typeof uri !== "string") throw createError("INVALID_ARGUMENT", `connect() takes a URI string, got ${typeof uri}.`);
  const flavor = options.kernels ?? "auto";
  if (!["auto", "simd", "scalar"].includes(flavor)) {
    throw createError("INVALID_ARGUMENT", `kernels must be "auto", "simd" or "scalar", got ${JSON.stringify(flavor)}.`);
  }
  const m = /^memory:\/\/(.*)$/.exec(uri);
  if (m) {
    const name = m[1]!;
    if (name === "") return new Connection(uri, new Map(), options);
    let tables = namedMemoryDatabases.get(name);
    if (tables === undefined) namedMemoryDatabases.set(name, (tables = new Map()));
    return new Connection(uri, tables, options);
  }
  throw createError(
    "UNSUPPORTED",
    `connect(${JSON.stringify(uri)}): this build stores tables in memory only; use "memory://" or "memory://name".`,
  );
}
