/**
 * Hits — (fragment, row, distance) triples a query produces — and the column views over them that
 * filters and computed columns evaluate on.
 */
import { concatColumns, takeColumn, type Column, type ColumnSource } from "../data/column.js";
import { fragmentSource, type Fragment } from "../dataset/fragment.js";
import type { CompiledFilter } from "../filter/index.js";

export interface Hit {
  readonly frag: Fragment;
  readonly row: number;
  readonly distance?: number;
  /** BM25 score of a full-text hit. */
  readonly score?: number;
  readonly queryIndex?: number;
}

/** The columns of `hits`, in hit order, as a source for expressions and filters (each taken when first asked for). */
export function hitSource(hits: readonly Hit[]): ColumnSource {
  const byFrag = new Map<Fragment, number[]>();
  for (const h of hits) {
    let rows = byFrag.get(h.frag);
    if (rows === undefined) byFrag.set(h.frag, (rows = []));
    rows.push(h.row);
  }
  // Concatenating per-fragment takes groups hits by fragment; `order` maps them back to hit order.
  const order = new Int32Array(hits.length);
  const start = new Map<Fragment, number>();
  let at = 0;
  for (const [frag, rows] of byFrag) { start.set(frag, at); at += rows.length; }
  const seen = new Map<Fragment, number>();
  hits.forEach((h, i) => {
    const k = seen.get(h.frag) ?? 0;
    seen.set(h.frag, k + 1);
    order[i] = start.get(h.frag)! + k;
  });
  const cache = new Map<string, Column>();
  return {
    numRows: hits.length,
    column(name: string): Column {
      let col = cache.get(name);
      if (col === undefined) {
        const parts = [...byFrag].map(([frag, rows]) => takeColumn(frag.columns.get(name)!, rows));
        const type = parts[0]?.type ?? hits[0]?.frag.columns.get(name)?.type;
        col = parts.length === 1 ? takeColumn(parts[0]!, order) : takeColumn(concatColumns(type!, parts), order);
        cache.set(name, col);
      }
      return col;
    },
  };
}

export function filterMask(filter: CompiledFilter | undefined, frag: Fragment): Uint8Array | undefined {
  return filter === undefined ? undefined : filter.evaluate(fragmentSource(frag));
}

