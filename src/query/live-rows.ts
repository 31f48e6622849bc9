/**
 * Which positions of a vector index are live rows, as a bitmap the index tests per visited node
 * (inside the WASM graph search for HNSW), for queries without a prefilter.
 *
 * Kept per index object and updated as rows are deleted: a new deletion state copies the bitmap
 * (n / 8 bytes) and clears the positions of the rows deleted since, found through a row → position
 * table built once per index. So a delete costs the rows of the fragments it touched, not a pass
 * over the index, and queries never rebuild it. Bitmaps are never changed in place: a query of an
 * older version keeps the one it was given. (A WeakMap on the index: plain JS memory, gone with it.)
 */
import type { VectorIndex } from "../ann/index.js";
import type { IndexEntry } from "../storage/manifest.js";
import type { TableState } from "../dataset/dataset.js";
import { ROW_ID_FRAGMENT, type Fragment } from "../dataset/fragment.js";

interface LiveRows {
  /** The covered fragments this bitmap reflects (undefined: dropped, every row deleted). */
  readonly fragments: ReadonlyMap<number, Fragment | undefined>;
  readonly bits: Uint8Array;
}

interface IndexRows {
  live?: LiveRows;
  /** Fragment id → its rows' positions in the index (−1: not indexed), built on the first update. */
  positions?: Map<number, Int32Array>;
  /** Fragment id → b when row r of the fragment is position b + r for every row (−1: not so), found once per fragment. */
  bases?: Map<number, number>;
}

const perIndex = new WeakMap<VectorIndex, IndexRows>();

/** How often the bitmap of an index was built from scratch or updated (for tests and stats). */
export const liveRowsCounters = { builds: 0, updates: 0 };

function positionsOf(index: VectorIndex, state: IndexRows, covered: readonly (Fragment | undefined)[]): Map<number, Int32Array> {
  if (state.positions !== undefined) return state.positions;
  const positions = new Map<number, Int32Array>();
  for (const f of covered) if (f !== undefined) positions.set(f.id, new Int32Array(f.numRows).fill(-1));
  for (let p = 0; p < index.size; p++) {
    const rowId = index.rowId(p);
    const rows = positions.get(Math.floor(rowId / ROW_ID_FRAGMENT));
    if (rows !== undefined) rows[rowId % ROW_ID_FRAGMENT] = p;
  }
  return (state.positions = positions);
}

function build(index: VectorIndex, byId: ReadonlyMap<number, Fragment>, indexed: ReadonlySet<number>): Uint8Array {
  liveRowsCounters.builds++;
  const bits = new Uint8Array(Math.ceil(index.size / 8));
  for (let p = 0; p < index.size; p++) {
    const rowId = index.rowId(p);
    const frag = byId.get(Math.floor(rowId / ROW_ID_FRAGMENT));
    if (frag !== undefined && indexed.has(frag.id) && (frag.deletions === null || frag.deletions[rowId % ROW_ID_FRAGMENT] === 0)) bits[p >> 3]! |= 1 << (p & 7);
  }
  return bits;
}

/**
 * Rows deleted in `now` that were live in `then` (same fragment, deletions only grown), or
 * undefined when `now` brings rows back (an older version): then the bitmap is rebuilt.
 */
function newlyDeleted(then: Fragment | undefined, now: Fragment | undefined): number[] | "all" | undefined {
  if (then === undefined) return now === undefined ? [] : undefined;
  if (now === undefined) return "all";
  if (then === now || then.deletions === now.deletions || then.deletionFile === now.deletionFile) return [];
  const rows: number[] = [];
  for (let r = 0; r < now.numRows; r++) {
    const was = then.deletions !== null && then.deletions[r] === 1;
    const is = now.deletions !== null && now.deletions[r] === 1;
    if (was && !is) return undefined;
    if (is && !was) rows.push(r);
  }
  return rows;
}

/** The live positions of `index` in `state`, or undefined when every indexed row is live. */
export function liveBitmap(index: VectorIndex, state: TableState, entry: IndexEntry): Uint8Array | undefined {
  const byId = new Map(state.fragments.map((f) => [f.id, f] as const));
  const covered = entry.fragments.map((id) => byId.get(id));
  if (covered.every((f) => f !== undefined && f.deletions === null)) return undefined;
  const rows = perIndex.get(index) ?? {};
  perIndex.set(index, rows);
  const fragments = new Map(entry.fragments.map((id, i) => [id, covered[i]] as const));
  const known = rows.live;
  if (known !== undefined) {
    const changes = entry.fragments.map((id) => newlyDeleted(known.fragments.get(id), fragments.get(id)));
    if (changes.every((c) => c !== undefined && c !== "all" && c.length === 0)) {
      rows.live = { fragments, bits: known.bits };
      return known.bits;
    }
    if (changes.every((c) => c !== undefined) && entry.fragments.every((id) => known.fragments.has(id))) {
      liveRowsCounters.updates++;
      const positions = positionsOf(index, rows, [...known.fragments.values()]);
      const bits = known.bits.slice();
      entry.fragments.forEach((id, i) => {
        const change = changes[i]!;
        const at = positions.get(id);
        if (at === undefined) return;
        const clear = (r: number): void => {
          const p = at[r]!;
          if (p >= 0) bits[p >> 3]! &= ~(1 << (p & 7));
        };
        if (change === "all") for (let r = 0; r < at.length; r++) clear(r);
        else for (const r of change) clear(r);
      });
      rows.live = { fragments, bits };
      return bits;
    }
  }
  const bits = build(index, byId, new Set(entry.fragments));
  rows.live = { fragments, bits };
  return bits;
}

/**
 * The row → position table of `index` for the `covered` fragments (built once per index, and again
 * when a covered fragment is new to it: a fragment dropped when the table was built may be back in
 * an older version), with a cache the caller may keep per fragment beside it (`bases`).
 */
export function rowPositions(index: VectorIndex, covered: readonly (Fragment | undefined)[]): { positions: Map<number, Int32Array>; bases: Map<number, number> } {
  const rows = perIndex.get(index) ?? {};
  perIndex.set(index, rows);
  let positions = positionsOf(index, rows, covered);
  if (covered.some((f) => f !== undefined && !positions.has(f.id))) {
    rows.positions = undefined;
    rows.bases = undefined;
    positions = positionsOf(index, rows, covered);
  }
  return { positions, bases: (rows.bases ??= new Map()) };
}
