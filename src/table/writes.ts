/**
 * Row changes as transactions. Each function checks and converts everything first, then writes the
 * new data and deletion files, and returns a `Transaction` for `Dataset.commit` — so a bad row or a
 * bad filter writes nothing, and a crash before the commit leaves only unreferenced files.
 * Updates are delete + append: changed rows move into a new fragment, as in Lance.
 */
import { createError } from "../errors.js";
import { buildColumn, concatColumns, readAll, takeColumn, type Column } from "../data/column.js";
import { fewChunks } from "../storage/fragment-file.js";
import { rowsToBatch, type RecordBatch, type Row } from "../data/rows.js";
import { findField, unknownColumn, type Field, type Schema } from "../data/schema.js";
import { compileExpression } from "../filter/index.js";
import { selectAll, selectFilter, type ScalarIndexLookup } from "../query/selection.js";
import type { Dataset, TableState, Transaction } from "../dataset/dataset.js";
import { fragmentSource, selectRows, type Fragment } from "../dataset/fragment.js";
import { yieldToEventLoop } from "../util/yield.js";

export interface WriteProgress {
  /**
   * `embed`: texts are being embedded (tables with an embedding function); `convert`: rows checked
   * and converted; `write`: a stream of record batches had a fragment written (`rowsDone` rows so far).
   */
  readonly phase: "embed" | "convert" | "write";
  readonly rowsDone: number;
  /** Rows in the write; for a stream (whose length is not known until it ends), the rows read so far. */
  readonly rowsTotal: number;
}

/** Rows are checked and converted in chunks of this many, with a progress report after each. */
const CHUNK_ROWS = 16384;


/**
 * Checks and converts `rows` into columns. With a `progress` callback the work is reported chunk by
 * chunk and yields to the event loop between chunks, so a progress bar on a page's main thread
 * repaints; without one it runs straight through.
 */
export async function rowsToColumns(schema: Schema, rows: readonly Row[], progress?: (p: WriteProgress) => void): Promise<Map<string, Column>> {
  const pieces = await rowsToPieces(schema, rows, progress);
  const columns = new Map<string, Column>();
  for (const f of schema.fields) {
    const p = pieces.get(f.name)!;
    columns.set(f.name, p.length === 1 ? p[0]! : concatColumns(f.type, p));
  }
  return columns;
}

/**
 * As `rowsToColumns`, each column left as the pieces of CHUNK_ROWS rows it was converted in: what a
 * data file is written from (writeFragment) without joining them into one more copy.
 */
async function rowsToPieces(schema: Schema, rows: readonly Row[], progress?: (p: WriteProgress) => void): Promise<Map<string, Column[]>> {
  if (!Array.isArray(rows)) rowsToBatch(rows, schema); // throws the typed error for non-arrays
  const batches: RecordBatch[] = [];
  for (let at = 0; at === 0 || at < rows.length; at += CHUNK_ROWS) {
    batches.push(rowsToBatch(rows.slice(at, at + CHUNK_ROWS), schema, at));
    if (progress) {
      progress({ phase: "convert", rowsDone: Math.min(rows.length, at + CHUNK_ROWS), rowsTotal: rows.length });
      if (at + CHUNK_ROWS < rows.length) await yieldToEventLoop();
    }
  }
  return new Map(schema.fields.map((f) => [f.name, batches.map((b) => b.columns.get(f.name)!)]));
}

export async function appendTransaction(
  ds: Dataset, head: TableState, rows: readonly Row[], mode: "append" | "overwrite", progress?: (p: WriteProgress) => void,
): Promise<Transaction> {
  return appendColumnsTransaction(ds, head, await rowsToPieces(head.schema, rows, progress), rows.length, mode);
}

/**
 * As `appendTransaction`, for columns already checked against `head.schema` (e.g. read from Arrow);
 * a column may be given as pieces of consecutive rows.
 */
export async function appendColumnsTransaction(
  ds: Dataset, head: TableState, columns: ReadonlyMap<string, Column | readonly Column[]>, numRows: number, mode: "append" | "overwrite",
): Promise<Transaction> {
  const added = numRows > 0 ? [await ds.writeFragment(head.schema, columns, numRows)] : [];
  return mode === "overwrite"
    ? { type: "overwrite", readVersion: head.version, fragments: [], added }
    : { type: "append", readVersion: head.version, added };
}

/**
 * Rows of each fragment that match `predicate` and are not deleted yet: from scalar indexes where
 * they answer, the filter's columns read and evaluated elsewhere.
 */
async function matchingRows(ds: Dataset, head: TableState, predicate: string | undefined, scalar?: ScalarIndexLookup): Promise<Map<Fragment, Int32Array>> {
  if (predicate === undefined) {
    const out = new Map<Fragment, Int32Array>();
    for (const frag of head.fragments) if (frag.liveRows > 0) out.set(frag, selectRows(frag));
    return out;
  }
  const ctx = { state: head, scalarIndexes: scalar, ensureColumns: (names: Iterable<string>, fragments?: readonly Fragment[]) => ds.ensureColumns(fragments ? { ...head, fragments } : head, names) };
  return (await selectAll(await selectFilter(ctx, predicate), head.fragments)).rows;
}

/** Deletion files for the matched rows: fragments left with rows are replaced, empty ones removed. */
export async function deletionParts(ds: Dataset, matched: ReadonlyMap<Fragment, ArrayLike<number>>): Promise<{ replaced: Fragment[]; removed: number[] }> {
  const replaced: Fragment[] = [];
  const removed: number[] = [];
  for (const [frag, rows] of matched) {
    const remove = new Uint8Array(frag.numRows);
    for (let i = 0; i < rows.length; i++) remove[rows[i]!] = 1;
    const next = await ds.writeDeletions(frag, remove);
    if (next === null) removed.push(frag.id);
    else replaced.push(next);
  }
  return { replaced, removed };
}

export async function deleteTransaction(ds: Dataset, head: TableState, predicate: string, scalar?: ScalarIndexLookup): Promise<{ tx: Transaction | null; deleted: number }> {
  const matched = await matchingRows(ds, head, predicate, scalar);
  let deleted = 0;
  for (const rows of matched.values()) deleted += rows.length;
  if (deleted === 0) return { tx: null, deleted };
  return { tx: { type: "delete", readVersion: head.version, ...(await deletionParts(ds, matched)) }, deleted };
}

export type UpdateSpec =
  | { readonly where?: string; readonly values: Readonly<Record<string, unknown>> }
  | { readonly where?: string; readonly valuesSql: Readonly<Record<string, string>> };

export async function updateTransaction(ds: Dataset, head: TableState, spec: UpdateSpec, scalar?: ScalarIndexLookup): Promise<{ tx: Transaction | null; updated: number }> {
  const schema = head.schema;
  const literal = "values" in spec ? spec.values : undefined;
  const sql = "valuesSql" in spec ? spec.valuesSql : undefined;
  const targets = Object.keys(literal ?? sql ?? {});
  if (targets.length === 0) throw createError("INVALID_ARGUMENT", "update() needs at least one column in values or valuesSql.");
  const fields = targets.map((name) => findField(schema, name) ?? unknownColumn(schema, name, "update()"));
  const exprs = sql ? fields.map((f) => compileExpression(sql[f.name]!, schema, { targetType: f.type, strict: true })) : undefined;

  const matched = await matchingRows(ds, head, spec.where, scalar);
  // The matched rows are rewritten with every column, read as cheaply as each allows: columns the
  // update overwrites (and no expression reads) are not read at all; fixed-width ones are range-read for the
  // matched rows when those touch few of the column's chunks; the rest are loaded (and cached)
  // only for fragments with a match.
  const targetNames = new Set(targets);
  const exprColumns = new Set((exprs ?? []).flatMap((e) => e.columns));
  let updated = 0;
  const parts: Map<string, Column>[] = [];
  for (const [frag, rows] of matched) {
    updated += rows.length;
    const cols = new Map<string, Column>();
    const needed = schema.fields.filter((f) => !targetNames.has(f.name) || exprColumns.has(f.name));
    const byRow = needed.filter((f) => !frag.columns.has(f.name) && !exprColumns.has(f.name) && fewChunks(f.type, frag.numRows, rows));
    const whole = needed.filter((f) => !byRow.includes(f));
    await ds.ensureColumns({ ...head, fragments: [frag] }, whole.map((f) => f.name));
    for (const f of whole) cols.set(f.name, takeColumn(frag.columns.get(f.name)!, rows));
    for (const f of byRow) cols.set(f.name, await ds.readRows(schema, frag, f.name, rows));
    fields.forEach((f: Field, i) => {
      const values = exprs
        ? readAll(exprs[i]!.evaluate(fragmentSource(frag), rows))
        : new Array<unknown>(rows.length).fill(literal![f.name]);
      cols.set(f.name, buildColumn(f.type, values, f.nullable, { column: f.name, rowOffset: 0 }));
    });
    parts.push(cols);
  }
  if (updated === 0) return { tx: null, updated };

  // New rows are built (and checked) above; only now is anything written.
  const { replaced, removed } = await deletionParts(ds, matched);
  const all = parts.length === 1 ? parts[0]! : new Map(schema.fields.map((f) => [f.name, concatColumns(f.type, parts.map((p) => p.get(f.name)!))] as const));
  const added = [await ds.writeFragment(schema, all, updated)];
  return { tx: { type: "update", readVersion: head.version, replaced, removed, added }, updated };
}
