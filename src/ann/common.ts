/**
 * Small pieces every index uses: argument checks, cosine normalization, seeded sampling, the
 * allowed-rows test and the growable row-id table.
 */
import { createError } from "../errors.js";
import type { IndexMetric } from "../kernels/quantize.js";
import type { AllowedRows, DistanceType } from "./types.js";

const DISTANCE_TYPES: readonly DistanceType[] = ["l2", "cosine", "dot"];

export function checkDistanceType(d: DistanceType | undefined): DistanceType {
  const metric = d ?? "l2";
  if (!DISTANCE_TYPES.includes(metric)) {
    throw createError("INVALID_ARGUMENT", `Unknown distanceType "${String(metric)}"; use one of ${DISTANCE_TYPES.join(", ")}.`, { distanceType: metric });
  }
  return metric;
}

/** The metric the kernels compute: cosine is dot product over normalized vectors. */
export function spaceOf(metric: DistanceType): IndexMetric {
  return metric === "l2" ? "l2" : "dot";
}

export function checkPositiveInt(value: number | undefined, name: string, fallback: number, max = 2 ** 31 - 1): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw createError("INVALID_ARGUMENT", `${name} must be an integer from 1 to ${max}, got ${value}.`, { [name]: value });
  }
  return value;
}

/** Checks n × dim vectors (finite) and their row ids; returns n. */
export function checkVectors(vectors: Float32Array, dim: number, rowIds: Float64Array | undefined): number {
  if (!(vectors instanceof Float32Array)) throw createError("INVALID_ARGUMENT", "Vectors must be a Float32Array of n × dim values, row-major.");
  if (vectors.length % dim !== 0) {
    throw createError("DIMENSION_MISMATCH", `${vectors.length} values are not whole vectors of dimension ${dim}.`, { dim, length: vectors.length });
  }
  const n = vectors.length / dim;
  if (rowIds !== undefined && (!(rowIds instanceof Float64Array) || rowIds.length !== n)) {
    throw createError("INVALID_ARGUMENT", `Expected ${n} row ids in a Float64Array, got ${rowIds?.length}.`, { expected: n });
  }
  for (let i = 0; i < vectors.length; i++) {
    if (!Number.isFinite(vectors[i])) {
      throw createError("INVALID_VECTOR", `Vector ${Math.floor(i / dim)} holds ${vectors[i]} at position ${i % dim}; vectors must be finite.`, { row: Math.floor(i / dim) });
    }
  }
  return n;
}

/** The query as f32 of length dim, normalized for cosine (a copy; the caller's array is untouched). */
export function prepareQuery(query: Float32Array | ArrayLike<number>, dim: number, metric: DistanceType): Float32Array {
  if (query == null || query.length !== dim) {
    throw createError("DIMENSION_MISMATCH", `The query has ${query?.length} elements but the index has dimension ${dim}.`, { expected: dim, actual: query?.length });
  }
  const q = query instanceof Float32Array ? query.slice() : Float32Array.from(query as ArrayLike<number>);
  for (let i = 0; i < dim; i++) {
    if (!Number.isFinite(q[i])) throw createError("INVALID_VECTOR", `The query holds ${query[i]} at position ${i}; vectors must be finite.`, { position: i });
  }
  if (metric === "cosine") normalizeRows(q, dim);
  return q;
}

export function checkK(k: number): void {
  if (!Number.isSafeInteger(k) || k < 0) throw createError("INVALID_ARGUMENT", `k must be a non-negative integer, got ${k}.`, { k });
}

/** Scales every row to unit length in place; zero rows stay zero. */
export function normalizeRows(x: Float32Array, dim: number): Float32Array {
  for (let o = 0; o < x.length; o += dim) {
    let s = 0;
    for (let i = 0; i < dim; i++) s += x[o + i]! * x[o + i]!;
    if (s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let i = 0; i < dim; i++) x[o + i]! *= inv;
    }
  }
  return x;
}

/** For cosine, a normalized copy; otherwise the input itself. */
export function forSpace(vectors: Float32Array, dim: number, metric: DistanceType): Float32Array {
  return metric === "cosine" ? normalizeRows(vectors.slice(), dim) : vectors;
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1); the same sequence on every engine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` distinct row numbers from [0, n), ascending (all of them when count ≥ n). */
export function sampleRows(n: number, count: number, random: () => number): Int32Array {
  if (count >= n) return Int32Array.from({ length: n }, (_, i) => i);
  // Partial Fisher–Yates: the first `count` slots end up a uniform sample without replacement.
  const pool = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (n - i));
    const t = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = t;
  }
  return pool.subarray(0, count).sort();
}

/** The rows `rows` of x (n × dim), packed (into `out` when given: n_rows × dim f32). */
export function gatherRows(x: Float32Array, dim: number, rows: ArrayLike<number>, out: Float32Array = new Float32Array(rows.length * dim)): Float32Array {
  for (let i = 0; i < rows.length; i++) out.set(x.subarray(rows[i]! * dim, (rows[i]! + 1) * dim), i * dim);
  return out;
}

/** A test on positions, or undefined when every row is allowed. */
export function allowedTest(allowed: AllowedRows | undefined, rowIds: RowIds): ((position: number) => boolean) | undefined {
  if (allowed === undefined) return undefined;
  if (allowed instanceof Uint8Array) return (p) => ((allowed[p >> 3]! >> (p & 7)) & 1) === 1;
  if (typeof allowed === "function") return (p) => allowed(rowIds.get(p), p) === true;
  throw createError("INVALID_ARGUMENT", "allowed must be a function (rowId, position) => boolean or a Uint8Array bitmap over positions.");
}

/**
 * Row ids by position, growing as vectors are added. Ids read from a file stay as runs when they
 * come in runs: a build gathers fragments in order, so the ids by position are a few runs of
 * consecutive ids (1M rows in 20 fragments: 20 runs, 480 bytes, instead of an 8 MB Float64Array).
 *
 *   runs.first  r i32  first position of run r (ascending, runs.first[0] = 0)
 *   runs.id     r f64  the id at that position; position p of run r has id runs.id[r] + p − runs.first[r]
 */
export class RowIds {
  #ids: Float64Array;
  #size = 0;
  /** The ids as runs (then `#ids` is unused), or null when held one by one. */
  #runs: { first: Int32Array; id: Float64Array } | null = null;
  /** The run the last `get` fell in: reads in position order find theirs at once. */
  #run = 0;

  constructor(capacity = 1024) {
    this.#ids = new Float64Array(Math.max(1, capacity));
  }

  static from(ids: Float64Array): RowIds {
    const r = new RowIds(ids.length);
    r.append(ids);
    return r;
  }

  /**
   * Row ids of `ids`, which the caller gives up (a section just read from a file): kept as runs
   * when there are at most one per 16 ids, else `ids` itself, not a copy.
   */
  static adopt(ids: Float64Array): RowIds {
    const r = new RowIds(1);
    r.#size = ids.length;
    r.#runs = runsOf(ids);
    if (r.#runs === null) r.#ids = ids;
    return r;
  }

  get size(): number {
    return this.#size;
  }

  /** Bytes the ids take in memory. */
  get bytes(): number {
    return this.#runs === null ? this.#ids.byteLength : this.#runs.first.byteLength + this.#runs.id.byteLength;
  }

  get(position: number): number {
    const runs = this.#runs;
    if (runs === null) return this.#ids[position]!;
    const { first, id } = runs;
    let r = this.#run;
    if (position < first[r]! || (r + 1 < first.length && position >= first[r + 1]!)) {
      // The last run starting at or before `position`.
      let lo = 0;
      let hi = first.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (first[mid]! <= position) lo = mid;
        else hi = mid - 1;
      }
      this.#run = r = lo;
    }
    return id[r]! + (position - first[r]!);
  }

  /** Appends ids; returns the position of the first. */
  append(ids: Float64Array): number {
    if (this.#runs !== null) {
      // Rows added to an opened index: held one by one from now on.
      this.#ids = this.toArray();
      this.#runs = null;
    }
    const first = this.#size;
    if (first + ids.length > this.#ids.length) {
      const next = new Float64Array(Math.max(first + ids.length, Math.ceil(this.#ids.length * 1.5)));
      next.set(this.#ids.subarray(0, first));
      this.#ids = next;
    }
    this.#ids.set(ids, first);
    this.#size += ids.length;
    return first;
  }

  /** Consecutive ids first, first + 1, … for callers that give none. */
  static sequence(first: number, n: number): Float64Array {
    return Float64Array.from({ length: n }, (_, i) => first + i);
  }

  toArray(): Float64Array {
    if (this.#runs === null) return this.#ids.slice(0, this.#size);
    const out = new Float64Array(this.#size);
    for (let p = 0; p < this.#size; p++) out[p] = this.get(p);
    return out;
  }

  /**
   * The ids as runs, [position of a run's first id, that id] pairs, when there are at most one per
   * 16 ids (how an index file stores them compactly); else null.
   */
  runPairs(): Float64Array | null {
    const runs = this.#runs ?? runsOf(this.#ids.subarray(0, this.#size));
    if (runs === null) return null;
    const pairs = new Float64Array(2 * runs.first.length);
    for (let r = 0; r < runs.first.length; r++) {
      pairs[2 * r] = runs.first[r]!;
      pairs[2 * r + 1] = runs.id[r]!;
    }
    return pairs;
  }

  /**
   * `size` ids from `runPairs()`'s pairs; null when the pairs are malformed (first position not 0,
   * positions not increasing or past `size`, ids not non-negative safe integers).
   */
  static fromRunPairs(pairs: Float64Array, size: number): RowIds | null {
    const count = pairs.length / 2;
    if (!Number.isInteger(count) || (count === 0) !== (size === 0) || (count > 0 && pairs[0] !== 0)) return null;
    const first = new Int32Array(count);
    const id = new Float64Array(count);
    for (let r = 0; r < count; r++) {
      const at = pairs[2 * r]!;
      const value = pairs[2 * r + 1]!;
      if (!Number.isInteger(at) || at >= size || (r > 0 && at <= first[r - 1]!) || !Number.isSafeInteger(value) || value < 0) return null;
      first[r] = at;
      id[r] = value;
    }
    const ids = new RowIds(1);
    ids.#size = size;
    if (count > 0) ids.#runs = { first, id };
    return ids;
  }

  lookup(positions: Int32Array): Float64Array {
    const out = new Float64Array(positions.length);
    for (let i = 0; i < positions.length; i++) out[i] = this.get(positions[i]!);
    return out;
  }
}

/** `ids` as runs of consecutive ids, or null when empty or when there are more than one per 16 ids. */
function runsOf(ids: Float64Array): { first: Int32Array; id: Float64Array } | null {
  const n = ids.length;
  if (n === 0) return null;
  let count = 1;
  for (let p = 1; p < n; p++) if (ids[p] !== ids[p - 1]! + 1 && ++count > n / 16) return null;
  const first = new Int32Array(count);
  const id = new Float64Array(count);
  id[0] = ids[0]!;
  for (let p = 1, r = 0; p < n; p++) {
    if (ids[p] !== ids[p - 1]! + 1) {
      first[++r] = p;
      id[r] = ids[p]!;
    }
  }
  return { first, id };
}

/** The nearest divisor of dim to dim / 4 (so sub-vectors are about 4 floats wide). */
export function defaultSubVectors(dim: number): number {
  const target = Math.max(1, Math.round(dim / 4));
  let best = 1;
  for (let m = 1; m <= dim; m++) {
    if (dim % m === 0 && Math.abs(m - target) < Math.abs(best - target)) best = m;
  }
  return best;
}

/** Every position in [0, n) that passes `test`, ascending. */
export function allowedPositions(test: (position: number) => boolean, n: number): Int32Array {
  const out = new Int32Array(n);
  let count = 0;
  for (let p = 0; p < n; p++) if (test(p)) out[count++] = p;
  return out.slice(0, count);
}

/** Bitmaps' set-bit counts, remembered per bitmap (a cached live-row bitmap is counted once). */
const counts = new WeakMap<Uint8Array, { n: number; count: number }>();

/** Set bits of each byte value. */
const BYTE_BITS = Uint8Array.from({ length: 256 }, (_, b) => (b & 1) + ((b >> 1) & 1) + ((b >> 2) & 1) + ((b >> 3) & 1) + ((b >> 4) & 1) + ((b >> 5) & 1) + ((b >> 6) & 1) + (b >> 7));

/** Set bits among the first `n` of `bits`. */
export function bitCount(bits: Uint8Array, n: number): number {
  const known = counts.get(bits);
  if (known?.n === n) return known.count;
  let count = 0;
  const whole = n >> 3;
  for (let i = 0; i < whole; i++) count += BYTE_BITS[bits[i]!]!;
  for (let p = whole << 3; p < n; p++) count += (bits[p >> 3]! >> (p & 7)) & 1;
  counts.set(bits, { n, count });
  return count;
}

