/**
 * Merging the answers of several shards into the answer of one table. Every shard is asked for its
 * own best `offset + limit` rows; the union's best `offset + limit` are among them, so sorting the
 * union and cutting once is exact.
 *
 * Ties (equal `_distance` or `_score`) are broken by shard order (the order the view lists its
 * shards), then by the order the shard returned them: the lists are concatenated in shard order
 * and sorted stably.
 */
import type { Row } from "../data/rows.js";
import type { RerankedRow, RowId } from "../rerank/types.js";

/** A result row and the index of the shard it came from. */
export interface ShardRow {
  readonly row: Row;
  readonly shard: number;
}

/** Rows of every shard, best first: by ascending `_distance` or descending `_score`. */
export function rankAcross(lists: readonly (readonly Row[])[], column: "_distance" | "_score"): ShardRow[] {
  const all: ShardRow[] = [];
  lists.forEach((rows, shard) => {
    for (const row of rows) all.push({ row, shard });
  });
  const sign = column === "_distance" ? 1 : -1;
  return all.sort((a, b) => sign * ((a.row[column] as number) - (b.row[column] as number)));
}

/**
 * A batch search's rows split by `_query_index`, in query order (one list when there is a single
 * query vector). Each list keeps the order it had in `rows`.
 */
export function byQuery(rows: readonly ShardRow[], batch: boolean): ShardRow[][] {
  if (!batch) return [[...rows]];
  const groups = new Map<number, ShardRow[]>();
  for (const r of rows) {
    const qi = r.row._query_index as number;
    let list = groups.get(qi);
    if (list === undefined) groups.set(qi, (list = []));
    list.push(r);
  }
  return [...groups.keys()].sort((a, b) => a - b).map((qi) => groups.get(qi)!);
}

/**
 * The rows as results: with row ids asked for, each keeps its shard's `_rowid` and gains `_shard`
 * (row ids are only unique within a shard); without, neither appears.
 */
export function finishRows(rows: readonly ShardRow[], withRowId: boolean): Row[] {
  return rows.map(({ row, shard }) => {
    if (!withRowId) {
      delete row._rowid;
      return row;
    }
    row._shard = shard;
    return row;
  });
}

/**
 * Row identities for rerankers, which merge the vector and full-text lists by `_rowid`: shard row
 * ids repeat across shards, so each (shard, row id) gets a number of its own while reranking, and
 * gets its own `_rowid` (and `_shard`) back afterwards.
 */
export class RerankIds {
  readonly #ids = new Map<string, number>();
  readonly #origin: { shard: number; rowid: RowId }[] = [];

  /** A copy of the row with a `_rowid` unique across shards. */
  tag({ row, shard }: ShardRow): Row {
    const rowid = row._rowid as RowId;
    const key = `${shard}:${String(rowid)}`;
    let id = this.#ids.get(key);
    if (id === undefined) {
      id = this.#origin.length;
      this.#ids.set(key, id);
      this.#origin.push({ shard, rowid });
    }
    return { ...row, _rowid: id };
  }

  /** Reranked rows with their shard's `_rowid` and `_shard` back (or without either). */
  restore(rows: readonly RerankedRow[], withRowId: boolean): Row[] {
    return rows.map((r) => {
      const origin = this.#origin[r._rowid as number];
      const out: Row = { ...r };
      if (!withRowId || origin === undefined) delete out._rowid;
      else {
        out._rowid = origin.rowid;
        out._shard = origin.shard;
      }
      return out;
    });
  }
}
