/**
 * Tables between LanceDB (a directory of Lance datasets, read and written by `@lancedb/lancedb`, the
 * user's own install: it is native code and not a dependency of quiverdb) and Quiver, as Arrow
 * record batches: LanceDB's query iterator feeds Quiver's streamed createTable (one commit), and a
 * Quiver table goes to LanceDB a fragment at a time (createTable with the first, add for the rest).
 * Schema metadata travels both ways, so embedding configs survive (LanceDB's `embedding_functions`).
 */
import { createError } from "../errors.js";
import type { ColumnBatch } from "../arrow/detect.js";
import { tabularToColumns } from "../arrow/from-arrow.js";
import { quiverSchemaOf } from "../arrow/types.js";
import { loadArrow } from "../arrow/to-arrow.js";
import { connect } from "../connection.js";
import { embeddingMetadata } from "../arrow/embedding-metadata.js";
import { exportBatch, exportSchema } from "../interop/arrow-ipc.js";

/** The parts of @lancedb/lancedb used here (so its types are not needed to build quiverdb). */
interface LanceTable {
  schema(): Promise<{ fields: unknown[]; metadata: Map<string, string> }>;
  countRows(): Promise<number>;
  query(): AsyncIterable<unknown>;
  add(data: unknown): Promise<unknown>;
  close(): void;
}
interface LanceConnection {
  openTable(name: string): Promise<LanceTable>;
  createTable(name: string, data: unknown, options?: { mode?: "create" | "overwrite" }): Promise<LanceTable>;
  createEmptyTable(name: string, schema: unknown, options?: { mode?: "create" | "overwrite" }): Promise<LanceTable>;
  tableNames(): Promise<string[]>;
  close(): void;
}
interface LanceModule {
  connect(uri: string): Promise<LanceConnection>;
}

const LANCEDB = "@lancedb/lancedb";
export const LANCEDB_INSTALL = "npm install @lancedb/lancedb";

export async function loadLanceDb(): Promise<LanceModule> {
  try {
    return (await import(/* @vite-ignore */ LANCEDB)) as LanceModule;
  } catch (e) {
    throw createError("UNSUPPORTED", `Reading and writing LanceDB tables needs the @lancedb/lancedb package (native, not bundled with quiverdb). Install it next to quiverdb: ${LANCEDB_INSTALL}`, {}, e);
  }
}

export interface TransferProgress {
  readonly rowsDone: number;
  readonly rowsTotal: number;
}

export interface TransferOptions {
  mode?: "create" | "overwrite";
  onProgress?: (p: TransferProgress) => void;
}

/** LanceDB table `table` of `lancedbDir` → a new Quiver table of the same name in `quiverDir`. */
export async function importFromLanceDb(lancedbDir: string, table: string, quiverDir: string, options: TransferOptions = {}): Promise<{ rows: number }> {
  const lancedb = await loadLanceDb();
  const ldb = await lancedb.connect(lancedbDir);
  let source: LanceTable;
  try {
    source = await ldb.openTable(table);
  } catch (e) {
    ldb.close();
    throw createError("TABLE_NOT_FOUND", `No LanceDB table "${table}" in ${lancedbDir}: ${(e as Error).message}`, {}, e);
  }
  const db = await connect(quiverDir);
  try {
    const arrowSchema = await source.schema();
    const metadata = Object.fromEntries(arrowSchema.metadata ?? new Map());
    const total = await source.countRows();
    let rows = 0;
    // Batches from LanceDB's scan may not carry the schema metadata: the first one gets it.
    const batches = (async function* (): AsyncGenerator<ColumnBatch> {
      for await (const b of source.query()) {
        const columns = tabularToColumns(b as never);
        yield rows === 0 ? { ...columns, metadata } : columns;
        rows += columns.numRows;
        options.onProgress?.({ rowsDone: rows, rowsTotal: total });
      }
    })();
    const t = await db.createTable(table, batches as AsyncIterable<never>, { mode: options.mode, schema: quiverSchemaOf(arrowSchema as never) });
    return { rows: await t.countRows() };
  } finally {
    await db.close();
    source.close();
    ldb.close();
  }
}

/** Quiver table `table` of `quiverDir` → a LanceDB table of the same name in `lancedbDir`. */
export async function exportToLanceDb(quiverDir: string, table: string, lancedbDir: string, options: TransferOptions = {}): Promise<{ rows: number }> {
  const lancedb = await loadLanceDb();
  const db = await connect(quiverDir);
  const ldb = await lancedb.connect(lancedbDir);
  try {
    const t = await db.openTable(table);
    const a = await loadArrow();
    const quiver = await t.quiverSchema();
    const schema = exportSchema(a, quiver, embeddingMetadata(await t.tableConfig()));
    const total = await t.countRows();
    let target: LanceTable | undefined;
    let rows = 0;
    try {
      for await (const b of t.liveBatches()) {
        const data = new a.Table([exportBatch(a, schema, quiver, b.columns, b.numRows)]);
        if (target === undefined) target = await ldb.createTable(table, data, { mode: options.mode ?? "create" });
        else await target.add(data);
        rows += b.numRows;
        options.onProgress?.({ rowsDone: rows, rowsTotal: total });
      }
      target ??= await ldb.createEmptyTable(table, schema, { mode: options.mode ?? "create" });
    } finally {
      target?.close();
    }
    return { rows };
  } finally {
    ldb.close();
    await db.close();
  }
}
