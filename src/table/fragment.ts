/**
 * A fragment is an immutable set of equally long column chunks plus a deletion map.
 * Deleting rows never touches the columns: it produces a new fragment object sharing them with a
 * new deletion map. Readers holding an older version keep the older object, so versions are cheap.
 */
import { createError } from "../errors.js";
import { nullColumn, type Column, type ColumnSource } from "../data/column.js";
import type { RecordBatch } from "../data/rows.js";
import type { Field, Schema } from "../data/schema.js";

export interface Fragment {
  readonly id: number;
  /** Physical rows, deleted ones included. */
  readonly numRows: number;
  readonly columns: ReadonlyMap<string, Column>;
  /** One byte per physical row, 1 = deleted; `null` when nothing is deleted. */
  readonly deletions: Uint8Array | null;
  /** Rows not deleted. */
  readonly liveRows: number;
}

export function fragmentFromBatch(id: number, batch: RecordBatch): Fragment {
  return { id, numRows: batch.numRows, columns: batch.columns, deletions: null, liveRows: batch.numRows };
}

/** A new fragment with the rows flagged in `remove` (1 = delete) deleted too; `null` if nothing is left. */
export function withDeletions(frag: Fragment, remove: Uint8Array): Fragment | null {
  const deletions = frag.deletions ? frag.deletions.slice() : new Uint8Array(frag.numRows);
  let live = 0;
  for (let i = 0; i < frag.numRows; i++) {
    if (remove[i] === 1) deletions[i] = 1;
    if (deletions[i] === 0) live++;
  }
  if (live === 0) return null;
  return { ...frag, deletions, liveRows: live };
}

/** Positions of rows that are not deleted and, when `mask` is given, have mask[i] = 1. */
export function selectRows(frag: Fragment, mask?: Uint8Array): Int32Array {
  const del = frag.deletions;
  const out = new Int32Array(mask ? frag.numRows : frag.liveRows);
  let n = 0;
  for (let i = 0; i < frag.numRows; i++) {
    if (del !== null && del[i] === 1) continue;
    if (mask !== undefined && mask[i] !== 1) continue;
    out[n++] = i;
  }
  return n === out.length ? out : out.slice(0, n);
}

/** The fragment as a source of columns for the filter evaluator. */
export function fragmentSource(frag: Fragment): ColumnSource {
  return {
    numRows: frag.numRows,
    column(name: string): Column {
      const c = frag.columns.get(name);
      if (c === undefined) throw createError("UNKNOWN_COLUMN", `Column "${name}" is not in fragment ${frag.id}.`, { column: name });
      return c;
    },
  };
}

/** The same rows with a column added, replaced or filled with nulls for a new schema field. */
export function withColumn(frag: Fragment, name: string, column: Column): Fragment {
  if (column.length !== frag.numRows) {
    throw createError("INVALID_ARGUMENT", `Column "${name}" has ${column.length} rows, fragment ${frag.id} has ${frag.numRows}.`);
  }
  const columns = new Map(frag.columns);
  columns.set(name, column);
  return { ...frag, columns };
}

export function withNullColumn(frag: Fragment, f: Field): Fragment {
  return withColumn(frag, f.name, nullColumn(f.type, frag.numRows));
}

export function withoutColumns(frag: Fragment, names: readonly string[]): Fragment {
  const columns = new Map(frag.columns);
  for (const n of names) columns.delete(n);
  return { ...frag, columns };
}

export function checkFragmentSchema(frag: Fragment, s: Schema): void {
  for (const f of s.fields) {
    if (!frag.columns.has(f.name)) throw createError("SCHEMA_MISMATCH", `Fragment ${frag.id} lacks column "${f.name}".`, { column: f.name });
  }
}
