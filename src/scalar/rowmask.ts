/**
 * Row masks: the rows a filter node is TRUE (or FALSE) on, kept per fragment as whichever of two
 * forms is cheaper — ascending row numbers when few, a bitmap when many — so a lookup matching half
 * a table is a few kilobytes of words combined word by word, never a sorted list of row addresses.
 *
 *   parts: fragment id → { rows: Int32Array ascending }          sparse
 *                      | { bits: Uint32Array, count }            dense: row r is bit (r & 31) of word r >>> 5
 *
 * Masks are never changed once built: every operation returns a new mask, and may share parts of
 * its operands. Bitmaps of one fragment may differ in length (a missing word is all zeros).
 */
export type FragmentRows =
  | { readonly rows: Int32Array; readonly bits?: undefined; readonly count?: undefined }
  | { readonly bits: Uint32Array; readonly count: number; readonly rows?: undefined };

/** Row addresses are `fragment id × 2^32 + row` (see dataset/fragment.ts). */
const FRAGMENT = 2 ** 32;

/** A sparse part turns dense once it holds more than one row per this many rows of its bitmap's reach. */
export const DENSE_SHARE = 32;

/** The fragments a mask is built over: their sizes (undefined: not covered), and their rows in all. */
export interface MaskFrame {
  numRows(id: number): number | undefined;
  readonly totalRows: number;
}

const EMPTY_ROWS = new Int32Array(0);

export function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

function countBits(bits: Uint32Array): number {
  let n = 0;
  for (let i = 0; i < bits.length; i++) if (bits[i] !== 0) n += popcount(bits[i]!);
  return n;
}

/** A dense part over `bits`, or nothing when no bit is set. */
function dense(bits: Uint32Array): FragmentRows | undefined {
  const count = countBits(bits);
  return count === 0 ? undefined : { bits, count };
}

/** The rows of a bitmap, ascending. */
export function bitsToRows(bits: Uint32Array, count = countBits(bits)): Int32Array {
  const out = new Int32Array(count);
  let n = 0;
  for (let w = 0; w < bits.length; w++) {
    let word = bits[w]!;
    while (word !== 0) {
      const low = word & -word;
      out[n++] = (w << 5) + 31 - Math.clz32(low);
      word ^= low;
    }
  }
  return out;
}

function rowsToBits(rows: Int32Array, words: number): Uint32Array {
  const last = rows.length === 0 ? -1 : rows[rows.length - 1]!;
  const bits = new Uint32Array(Math.max(words, (last >>> 5) + 1));
  for (let i = 0; i < rows.length; i++) bits[rows[i]! >>> 5]! |= 1 << (rows[i]! & 31);
  return bits;
}

const has = (bits: Uint32Array, r: number): boolean => (r >>> 5) < bits.length && (bits[r >>> 5]! & (1 << (r & 31))) !== 0;

function andParts(a: FragmentRows, b: FragmentRows): FragmentRows | undefined {
  if (a.bits !== undefined && b.bits !== undefined) {
    const out = new Uint32Array(Math.min(a.bits.length, b.bits.length));
    for (let i = 0; i < out.length; i++) out[i] = a.bits[i]! & b.bits[i]!;
    return dense(out);
  }
  if (a.rows !== undefined && b.rows !== undefined) {
    const [x, y] = [a.rows, b.rows];
    const out = new Int32Array(Math.min(x.length, y.length));
    let i = 0, j = 0, n = 0;
    while (i < x.length && j < y.length) {
      if (x[i] === y[j]) { out[n++] = x[i]!; i++; j++; }
      else if (x[i]! < y[j]!) i++;
      else j++;
    }
    return n === 0 ? undefined : { rows: out.slice(0, n) };
  }
  const [rows, bits] = a.rows !== undefined ? [a.rows, b.bits!] : [b.rows!, a.bits!];
  const kept = rows.filter((r) => has(bits, r));
  return kept.length === 0 ? undefined : { rows: kept };
}

function orParts(a: FragmentRows, b: FragmentRows): FragmentRows {
  if (a.rows !== undefined && b.rows !== undefined) {
    const [x, y] = [a.rows, b.rows];
    const reach = Math.max(x[x.length - 1] ?? 0, y[y.length - 1] ?? 0) + 1;
    if ((x.length + y.length) * DENSE_SHARE > reach) return dense(orInto(rowsToBits(x, (reach + 31) >>> 5), y))!;
    const out = new Int32Array(x.length + y.length);
    let i = 0, j = 0, n = 0;
    while (i < x.length || j < y.length) {
      if (j >= y.length || (i < x.length && x[i]! < y[j]!)) out[n++] = x[i++]!;
      else if (i >= x.length || y[j]! < x[i]!) out[n++] = y[j++]!;
      else { out[n++] = x[i++]!; j++; }
    }
    return { rows: out.slice(0, n) };
  }
  if (a.bits !== undefined && b.bits !== undefined) {
    const [long, short] = a.bits.length >= b.bits.length ? [a.bits, b.bits] : [b.bits, a.bits];
    const out = long.slice();
    for (let i = 0; i < short.length; i++) out[i]! |= short[i]!;
    return dense(out)!;
  }
  const [rows, bits] = a.rows !== undefined ? [a.rows, b.bits!] : [b.rows!, a.bits!];
  return dense(orInto(rowsToBits(rows, bits.length), bits))!;
}

/** `into` with `other`'s rows (a row list or a bitmap no longer than `into`) set; returns `into`. */
function orInto(into: Uint32Array, other: Int32Array | Uint32Array): Uint32Array {
  if (other instanceof Uint32Array) for (let i = 0; i < other.length; i++) into[i]! |= other[i]!;
  else for (let i = 0; i < other.length; i++) into[other[i]! >>> 5]! |= 1 << (other[i]! & 31);
  return into;
}

function andNotParts(a: FragmentRows, b: FragmentRows): FragmentRows | undefined {
  if (a.rows !== undefined) {
    if (b.bits !== undefined) {
      const kept = a.rows.filter((r) => !has(b.bits, r));
      return kept.length === 0 ? undefined : kept.length === a.rows.length ? a : { rows: kept };
    }
    const [x, y] = [a.rows, b.rows];
    const out = new Int32Array(x.length);
    let j = 0, n = 0;
    for (let i = 0; i < x.length; i++) {
      while (j < y.length && y[j]! < x[i]!) j++;
      if (j < y.length && y[j] === x[i]) continue;
      out[n++] = x[i]!;
    }
    return n === 0 ? undefined : n === x.length ? a : { rows: out.slice(0, n) };
  }
  const out = a.bits.slice();
  if (b.bits !== undefined) for (let i = 0; i < Math.min(out.length, b.bits.length); i++) out[i]! &= ~b.bits[i]!;
  else for (const r of b.rows) if ((r >>> 5) < out.length) out[r >>> 5]! &= ~(1 << (r & 31));
  return dense(out);
}

export class RowMask {
  /** Fragment id → its rows in the mask; a fragment with none is absent. */
  readonly parts: ReadonlyMap<number, FragmentRows>;
  #size: number | undefined;

  constructor(parts: ReadonlyMap<number, FragmentRows>) {
    this.parts = parts;
  }

  static empty(): RowMask {
    return new RowMask(new Map());
  }

  /** From ascending, duplicate-free row addresses (what index lookups return). */
  static fromAddresses(set: ArrayLike<number>): RowMask {
    const parts = new Map<number, FragmentRows>();
    let i = 0;
    while (i < set.length) {
      const id = Math.floor(set[i]! / FRAGMENT);
      const base = id * FRAGMENT;
      const end = base + FRAGMENT;
      let j = i;
      while (j < set.length && set[j]! < end) j++;
      const rows = new Int32Array(j - i);
      for (let k = i; k < j; k++) rows[k - i] = set[k]! - base;
      parts.set(id, { rows });
      i = j;
    }
    return new RowMask(parts);
  }

  /** Rows in the mask, across fragments. */
  get size(): number {
    if (this.#size === undefined) {
      let n = 0;
      for (const p of this.parts.values()) n += p.rows?.length ?? p.count!;
      this.#size = n;
    }
    return this.#size;
  }

  /** The rows of fragment `id`, ascending. */
  rowsOf(id: number): Int32Array {
    const p = this.parts.get(id);
    return p === undefined ? EMPTY_ROWS : p.rows ?? bitsToRows(p.bits, p.count);
  }

  countOf(id: number): number {
    const p = this.parts.get(id);
    return p === undefined ? 0 : p.rows?.length ?? p.count!;
  }

  /** Every row address, ascending (fragments in id order). */
  toAddresses(): Float64Array {
    const out = new Float64Array(this.size);
    let n = 0;
    for (const id of [...this.parts.keys()].sort((a, b) => a - b)) for (const r of this.rowsOf(id)) out[n++] = id * FRAGMENT + r;
    return out;
  }

  and(other: RowMask): RowMask {
    const parts = new Map<number, FragmentRows>();
    for (const [id, a] of this.parts) {
      const b = other.parts.get(id);
      const p = b === undefined ? undefined : andParts(a, b);
      if (p !== undefined) parts.set(id, p);
    }
    return new RowMask(parts);
  }

  or(other: RowMask): RowMask {
    const parts = new Map(this.parts);
    for (const [id, b] of other.parts) {
      const a = parts.get(id);
      parts.set(id, a === undefined ? b : orParts(a, b));
    }
    return new RowMask(parts);
  }

  /** Rows of this mask not in `other`. */
  andNot(other: RowMask): RowMask {
    const parts = new Map<number, FragmentRows>();
    for (const [id, a] of this.parts) {
      const b = other.parts.get(id);
      const p = b === undefined ? a : andNotParts(a, b);
      if (p !== undefined) parts.set(id, p);
    }
    return new RowMask(parts);
  }
}

/** Builds a mask row by row, dense per fragment (sized by `numRows`): for large lookups whose rows come unsorted or in several lists. */
export class DenseMaskBuilder {
  readonly #bits = new Map<number, Uint32Array>();
  readonly #numRows: (id: number) => number | undefined;

  constructor(numRows: (id: number) => number | undefined) {
    this.#numRows = numRows;
  }

  /** Sets rows `rows[i]` of fragments `fragments[i]` for i in [from, to); fragments `numRows` does not know are left out. */
  add(fragments: Uint32Array, rows: Uint32Array, from: number, to: number): void {
    let id = -1;
    let bits: Uint32Array | undefined;
    for (let i = from; i < to; i++) {
      if (fragments[i] !== id) {
        id = fragments[i]!;
        bits = this.#bits.get(id);
        if (bits === undefined) {
          const n = this.#numRows(id);
          if (n !== undefined) this.#bits.set(id, (bits = new Uint32Array((n + 31) >>> 5)));
        }
      }
      if (bits === undefined) continue;
      const r = rows[i]!;
      if ((r >>> 5) < bits.length) bits[r >>> 5]! |= 1 << (r & 31);
    }
  }

  /** Sets the rows of row addresses `addresses` (any order); fragments `numRows` does not know are left out. */
  addAddresses(addresses: Float64Array, from: number, to: number): void {
    let base = -FRAGMENT; // no fragment yet
    let bits: Uint32Array | undefined;
    for (let i = from; i < to; i++) {
      const a = addresses[i]!;
      if (a < base || a >= base + FRAGMENT) {
        const id = Math.floor(a / FRAGMENT);
        base = id * FRAGMENT;
        bits = this.#bits.get(id);
        if (bits === undefined) {
          const n = this.#numRows(id);
          if (n !== undefined) this.#bits.set(id, (bits = new Uint32Array((n + 31) >>> 5)));
        }
      }
      if (bits === undefined) continue;
      const r = a - base;
      if ((r >>> 5) < bits.length) bits[r >>> 5]! |= 1 << (r & 31);
    }
  }

  finish(): RowMask {
    const parts = new Map<number, FragmentRows>();
    for (const [id, bits] of this.#bits) {
      const p = dense(bits);
      if (p !== undefined) parts.set(id, p);
    }
    return new RowMask(parts);
  }
}

/**
 * The union of runs of ascending row addresses (`addresses[from .. to)` per run: a BITMAP or
 * LABEL_LIST index's value groups) as a mask over `frame`: set straight into per-fragment bitmaps
 * when the runs hold more than one row in DENSE_SHARE of the frame's rows, else merged as lists.
 */
export function addressRunsMask(addresses: Float64Array, runs: readonly (readonly [number, number])[], frame: MaskFrame): RowMask {
  const total = runs.reduce((n, [from, to]) => n + to - from, 0);
  if (total * DENSE_SHARE <= frame.totalRows) {
    return runs.reduce((mask, [from, to]) => mask.or(RowMask.fromAddresses(addresses.subarray(from, to))), RowMask.empty());
  }
  const builder = new DenseMaskBuilder((id) => frame.numRows(id));
  for (const [from, to] of runs) builder.addAddresses(addresses, from, to);
  return builder.finish();
}
