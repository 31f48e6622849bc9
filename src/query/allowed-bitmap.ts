/**
 * A prefilter's rows as a bitmap over a vector index's positions, which the index applies inside
 * its search (IVF in its scan kernels, HNSW in its graph walk). Loaded with the first prefiltered
 * search through an index.
 */
import type { VectorIndex } from "../ann/index.js";
import type { IndexEntry } from "../storage/manifest.js";
import type { TableState } from "../dataset/dataset.js";
import type { Fragment } from "../dataset/fragment.js";
import type { FragmentRows } from "../scalar/rowmask.js";
import type { rowPositions } from "./live-rows.js";

/** b when the fragment's rows are positions b, b + 1, … in row order (an index built over whole fragments), else −1. */
function baseOf(bases: Map<number, number>, id: number, at: Int32Array): number {
  let base = bases.get(id);
  if (base === undefined) {
    base = at.length > 0 ? at[0]! : -1;
    for (let r = 1; r < at.length && base >= 0; r++) if (at[r] !== base + r) base = -1;
    bases.set(id, base);
  }
  return base;
}

/**
 * The positions of `index` holding the given rows (a prefilter's live, passing rows of each covered
 * fragment, listed or as a bitmap; undefined: none). A fragment bitmap whose rows sit at
 * consecutive positions is shifted in word by word; otherwise each row is mapped through the
 * row → position table kept per index (`table`: live-rows.ts rowPositions, passed in so this module,
 * loaded on demand, shares no chunk with the core). Costs n / 8 bytes plus the fragment
 * bitmaps' words (or the rows given).
 */
export function allowedBitmap(
  index: VectorIndex, state: TableState, entry: IndexEntry, partOf: (frag: Fragment) => FragmentRows | undefined, table: typeof rowPositions,
): Uint8Array {
  const byId = new Map(state.fragments.map((f) => [f.id, f] as const));
  const covered = entry.fragments.map((id) => byId.get(id));
  const { positions, bases } = table(index, covered);
  // Words over positions (bit p & 31 of word p >>> 5, little-endian like the byte view), one spare.
  const words = new Uint32Array((index.size + 31 >>> 5) + 1);
  const set = (p: number | undefined): void => {
    if (p !== undefined && p >= 0) words[p >>> 5]! |= 1 << (p & 31);
  };
  for (const frag of covered) {
    const part = frag && partOf(frag);
    if (part === undefined) continue;
    const at = positions.get(frag!.id)!;
    if (part.rows !== undefined) {
      for (let i = 0; i < part.rows.length; i++) set(at[part.rows[i]!]);
      continue;
    }
    const bits = part.bits;
    const n = Math.min(bits.length, (at.length + 31) >>> 5);
    const base = baseOf(bases, frag!.id, at);
    const w0 = base >>> 5;
    const shift = base & 31;
    for (let w = 0; w < n; w++) {
      let word = bits[w]!;
      if (base < 0) for (; word !== 0; word &= word - 1) set(at[(w << 5) + 31 - Math.clz32(word & -word)]);
      else if (word !== 0) {
        words[w0 + w]! |= word << shift;
        if (shift !== 0) words[w0 + w + 1]! |= word >>> (32 - shift);
      }
    }
  }
  return new Uint8Array(words.buffer, 0, Math.ceil(index.size / 8));
}
