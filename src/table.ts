/**
 * `Table`: the LanceDB-like facade over a versioned dataset. Reads run against the head version
 * at the time the query executes; writes go through `Dataset.commit`, one new version each.
 */
import { createError } from "./errors.js";
import type { Row } from "./data/rows.js";
import { describeSchema } from "./data/rows.js";
import type { Schema } from "./data/schema.js";
import type { Kernels } from "./kernels/index.js";
import { Query, VectorQuery, toQueryVectors } from "./query/builder.js";
import { countRows, executeQuery } from "./query/execute.js";
import type { QueryPlan, QueryVector } from "./query/plan.js";
import { releaseVectorBlocks } from "./query/vector-blocks.js";
import type { Dataset } from "./table/dataset.js";
import { appendRows, buildFragment, deleteRows, updateRows, type UpdateSpec, type WriteProgress } from "./table/writes.js";

export interface AddOptions {
  /** `append` (default) keeps existing rows; `overwrite` replaces them. */
  mode?: "append" | "overwrite";
  /** Called after each chunk of rows is checked and converted; use it to drive a progress bar. */
  progress?: (progress: WriteProgress) => void;
}

export interface AddResult { version: number }
export interface DeleteResult { version: number; rowsDeleted: number }
export interface UpdateResult { version: number; rowsUpdated: number }

export interface UpdateOptions {
  where?: string;
  values?: Readonly<Record<string, unknown>>;
  valuesSql?: Readonly<Record<string, string>>;
}

export interface TableContext {
  readonly kernels: () => Promise<Kernels>;
  /** Kernels already loaded, if any (used to free WASM memory on close). */
  readonly loadedKernels: () => Kernels | undefined;
}

export class Table {
  #open = true;

  constructor(
    readonly name: string,
    private readonly dataset: Dataset,
    private readonly ctx: TableContext,
  ) {}

  isOpen(): boolean {
    return this.#open;
  }

  /** Releases the WASM memory held for this table's vectors. The table cannot be used afterwards. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    const kernels = this.ctx.loadedKernels();
    if (kernels === undefined) return;
    for (const state of this.dataset.versions()) {
      for (const frag of state.fragments) for (const col of frag.columns.values()) {
        if (col.type.kind === "vector") releaseVectorBlocks(kernels, col);
      }
    }
  }

  private checkOpen(): void {
    if (!this.#open) throw createError("CLOSED", `Table "${this.name}" is closed.`);
  }

  display(): string {
    return `Table(${this.name}, ${describeSchema(this.dataset.head().schema)})`;
  }

  toString(): string {
    return this.display();
  }

  async schema(): Promise<Schema> {
    this.checkOpen();
    return this.dataset.head().schema;
  }

  async version(): Promise<number> {
    this.checkOpen();
    return this.dataset.head().version;
  }

  async countRows(filter?: string): Promise<number> {
    this.checkOpen();
    return countRows(this.dataset.head(), filter);
  }

  async add(rows: readonly Row[], options: AddOptions = {}): Promise<AddResult> {
    this.checkOpen();
    const mode = options.mode ?? "append";
    if (mode !== "append" && mode !== "overwrite") {
      throw createError("INVALID_ARGUMENT", `add() mode must be "append" or "overwrite", got ${JSON.stringify(mode)}.`);
    }
    if (Array.isArray(rows) && rows.length === 0 && mode === "append") return { version: this.dataset.head().version };
    // Rows are converted before the commit so a slow ingest never holds the commit step.
    const head = this.dataset.head();
    const frag = buildFragment(head.nextFragmentId, head.schema, rows, options.progress);
    const state = await this.dataset.commit((h) => {
      if (h.schema !== head.schema) {
        throw createError("COMMIT_CONFLICT", `Table "${this.name}" changed its schema while rows were being added; add them again.`);
      }
      return appendRows(h, frag, mode);
    });
    return { version: state.version };
  }

  async delete(predicate: string): Promise<DeleteResult> {
    this.checkOpen();
    if (typeof predicate !== "string" || predicate.trim() === "") {
      throw createError("INVALID_FILTER", "delete() needs a SQL predicate; to remove every row use delete(\"true\").");
    }
    let rowsDeleted = 0;
    const state = await this.dataset.commit((head) => {
      const { change, deleted } = deleteRows(head, predicate);
      rowsDeleted = deleted;
      return change;
    });
    return { version: state.version, rowsDeleted };
  }

  /**
   * `update({ where, values })` sets columns to literal values; `update({ where, valuesSql })` to SQL
   * expressions of the row (`{ price: "price * 1.1" }`). Also `update(values, { where })`.
   */
  async update(spec: UpdateOptions | Readonly<Record<string, unknown>>, options: { where?: string } = {}): Promise<UpdateResult> {
    this.checkOpen();
    const s = spec as UpdateOptions;
    let update: UpdateSpec;
    if (s.values !== undefined || s.valuesSql !== undefined) {
      if (s.values !== undefined && s.valuesSql !== undefined) {
        throw createError("INVALID_ARGUMENT", "update() takes either values or valuesSql, not both.");
      }
      update = s.values !== undefined ? { where: s.where ?? options.where, values: s.values } : { where: s.where ?? options.where, valuesSql: s.valuesSql! };
    } else {
      update = { where: options.where, values: spec as Record<string, unknown> };
    }
    if (update.where !== undefined && typeof update.where !== "string") throw createError("INVALID_FILTER", "update() where must be a SQL string.");
    let rowsUpdated = 0;
    const state = await this.dataset.commit((head) => {
      const { change, updated } = updateRows(head, update);
      rowsUpdated = updated;
      return change;
    });
    return { version: state.version, rowsUpdated };
  }

  /** A plain scan; add `.nearestTo(v)` for vector search. */
  query(): Query {
    return new Query((plan) => this.execute(plan));
  }

  /** Nearest-neighbour search for one query vector, or a batch of them. */
  search(query: QueryVector | readonly QueryVector[]): VectorQuery {
    if (typeof query === "string") {
      throw createError("UNSUPPORTED", "Text search needs a full-text index or an embedding function on the table; pass a vector instead.");
    }
    return new VectorQuery((plan) => this.execute(plan), toQueryVectors(query));
  }

  /** Same as `search(vector)`, as in LanceDB. */
  vectorSearch(vector: QueryVector | readonly QueryVector[]): VectorQuery {
    return this.search(vector);
  }

  /** Runs a plan built elsewhere (for example by a worker client). */
  async execute(plan: QueryPlan): Promise<Row[]> {
    this.checkOpen();
    return executeQuery({ state: this.dataset.head(), kernels: this.ctx.kernels }, plan);
  }

  async listIndices(): Promise<never[]> {
    this.checkOpen();
    return [];
  }
}
