/**
 * A fragment: an immutable data file of equally long columns, plus a deletion map.
 * Deleting rows never touches the data file: it produces a new fragment object (and deletion file)
 * sharing the data with the old one. Readers holding an older version keep the older object, so
 * versions are cheap. Columns are read from the file on first use and cached in `columns`, a map
 * shared by every fragment object over the same data file.
 */
import { createError } from "../errors.js";
import type { Column, ColumnSource } from "../data/column.js";

/** Row ids are `fragment id × ROW_ID_FRAGMENT + row within the fragment`: stable until compaction. */
export const ROW_ID_FRAGMENT = 2 ** 32;

/** One data file of a fragment and which table columns it holds. */
export interface DataFile {
  /** Store key. */
  readonly key: string;
  readonly size: number;
  /** Table column name → the column's name inside the file (they differ after a rename). */
  readonly columns: Readonly<Record<string, string>>;
}

export interface Fragment {
  readonly id: number;
  /** Physical rows, deleted ones included. */
  readonly numRows: number;
  /**
   * The fragment's data files: one when written, one more per `addColumns` or column rewrite.
   * Every file holds all `numRows` rows of its columns.
   */
  readonly files: readonly DataFile[];
  /** Columns loaded so far (see `Dataset.ensureColumns`), shared between versions. */
  readonly columns: Map<string, Column>;
  /** One byte per physical row, 1 = deleted; `null` when nothing is deleted. */
  readonly deletions: Uint8Array | null;
  /** Store key of the deletion file, `null` when nothing is deleted. */
  readonly deletionFile: string | null;
  /** Rows not deleted. */
  readonly liveRows: number;
}

/** Rows flagged in `remove` (1 = delete) added to the fragment's deletions; `null` when nothing would be left. */
export function mergeDeletions(frag: Fragment, remove: Uint8Array): { deletions: Uint8Array; live: number } | null {
  const deletions = frag.deletions ? frag.deletions.slice() : new Uint8Array(frag.numRows);
  let live = 0;
  for (let i = 0; i < frag.numRows; i++) {
    if (remove[i] === 1) deletions[i] = 1;
    if (deletions[i] === 0) live++;
  }
  return live === 0 ? null : { deletions, live };
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

/** The fragment as a source of columns for the filter evaluator. Columns must be loaded first. */
export function fragmentSource(frag: Fragment): ColumnSource {
  return {
    numRows: frag.numRows,
    column(name: string): Column {
      const c = frag.columns.get(name);
      if (c === undefined) throw createError("UNKNOWN_COLUMN", `Column "${name}" is not loaded for fragment ${frag.id}.`, { column: name });
      return c;
    },
  };
}
