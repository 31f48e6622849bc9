/**
 * One query's scan over many resident blocks (the partitions an IVF search probes), with every
 * distance collected in one buffer and a single top-k at the end.
 *
 * WebAssembly memory a session owns (reused from query to query):
 *
 *   query   dim f32 / i16    the query as the scan kernels want it (f32, or rounded for SQ)
 *   lut     M × 256 f32      PQ lookup table, one per query (4-bit PQ: M × 16 f32, then its
 *                            M × 16 u8 quantized copy and [scale, Σ min], assembly/pq4.ts)
 *   dist    capacity f32     distances of every scanned row, blocks back to back; grows, keeping
 *                            what is already there, when a filtered search probes further
 *   top     k i32 + k f32    result of `top`
 *   spread  capacity f32     RaBitQ only: error bound of each row's estimate, parallel to dist
 *   allowed ⌈size / 8⌉ u8    the query's filter as a bitmap over index positions (setAllowed),
 *                            tested inside the scan kernels against each partition's positions
 *
 * A session holds per-query state, so one search uses one session from start to end; an index
 * keeps a small pool so concurrent searches (interleaved at their awaits) never share one.
 */
import { createError } from "../errors.js";
import type { Kernels } from "./kernels.js";
import { Scratch } from "./memory.js";
import { metricCode, ownBlock, type IndexMetric } from "./quantize.js";
import type { VectorBlock } from "./types.js";

export class ScanSession {
  readonly #kernels: Kernels;
  readonly #query: Scratch;
  readonly #lut: Scratch;
  readonly #topIdx: Scratch;
  readonly #topDist: Scratch;
  readonly #allowed: Scratch;
  /** The filter bitmap's pointer for this query, 0: every row. */
  #allowedPtr = 0;
  #scored = 0;
  #dist = 0;
  #spread = 0;
  #capacity = 0;
  #used = 0;

  constructor(kernels: Kernels) {
    this.#kernels = kernels;
    this.#query = new Scratch(kernels.heap);
    this.#lut = new Scratch(kernels.heap);
    this.#topIdx = new Scratch(kernels.heap);
    this.#topDist = new Scratch(kernels.heap);
    this.#allowed = new Scratch(kernels.heap);
  }

  /** Rows scanned since `reset`. */
  get used(): number {
    return this.#used;
  }

  /** Rows whose distance the scans computed since `reset` (rows a filter masks are not scored). */
  get scored(): number {
    return this.#scored;
  }

  /**
   * The query's filter: a bitmap over the index's `size` positions (bit p & 7 of byte p >> 3; bytes
   * past its end count as zeros), copied into WebAssembly memory once for all the partitions the
   * query scans; undefined: every row. Scans given a partition's positions then skip masked rows.
   */
  setAllowed(bits: Uint8Array | undefined, size: number): void {
    if (bits === undefined) {
      this.#allowedPtr = 0;
      return;
    }
    const bytes = Math.ceil(size / 8);
    const ptr = this.#allowed.reserve(bytes);
    const used = Math.min(bits.length, bytes);
    this.#kernels.heap.write(ptr, bits.subarray(0, used));
    this.#kernels.heap.bytes().fill(0, ptr + used, ptr + bytes);
    this.#allowedPtr = ptr;
  }

  /** The vector the f32 and SQ scans compare against. */
  setQuery(values: Float32Array): void {
    const ptr = this.#query.reserve(values.byteLength);
    this.#kernels.heap.write(ptr, values);
  }

  /**
   * Builds the PQ lookup table for q against a resident codebook (M × 256 × dsub f32):
   * "l2" → ‖q_m − c_mj‖², "dot" → w · q_m·c_mj.
   */
  setLut(mode: "l2" | "dot", q: Float32Array, codebook: VectorBlock, M: number, w = -1): void {
    const book = ownBlock(this.#kernels, codebook);
    if (book.byteLength !== q.length * 256 * 4 || q.length % M !== 0) {
      throw createError("DIMENSION_MISMATCH", `A codebook of ${book.byteLength / 4} floats does not fit a query of dimension ${q.length} with ${M} sub-vectors.`);
    }
    const qPtr = this.#query.reserve(q.byteLength);
    const lut = this.#lut.reserve(M * 256 * 4);
    this.#kernels.heap.write(qPtr, q);
    const dsub = q.length / M;
    if (mode === "l2") this.#kernels.exports.pq_lut_l2(qPtr, M, dsub, book.ptr, lut);
    else this.#kernels.exports.pq_lut_dot(qPtr, M, dsub, book.ptr, w, lut);
  }

  /**
   * The 4-bit PQ tables for q against a resident codebook (M × 16 × dsub f32), quantized to u8
   * (assembly/pq4.ts): w = 0 → ‖q_m − c_mj‖², else w · q_m·c_mj. Returns [scale, Σ_m min_m]:
   * a row's distance is bias + Σ min + scale · Σ qlut (+ its norm).
   */
  setLut4(q: Float32Array, codebook: VectorBlock, M: number, w: number): [number, number] {
    const book = ownBlock(this.#kernels, codebook);
    if (book.byteLength !== q.length * 16 * 4 || q.length % M !== 0 || M > 256) {
      throw createError("DIMENSION_MISMATCH", `A 4-bit codebook of ${book.byteLength / 4} floats does not fit a query of dimension ${q.length} with ${M} sub-vectors (at most 256).`);
    }
    const qPtr = this.#query.reserve(q.byteLength);
    const lut = this.#lut.reserve(M * 80 + 8);
    this.#kernels.heap.write(qPtr, q);
    const consts = lut + M * 80;
    this.#kernels.exports.pq4_lut(qPtr, M, q.length / M, book.ptr, w, lut, lut + M * 64, consts);
    const c = this.#kernels.heap.f32(consts, 2);
    return [c[0]!, c[1]!];
  }

  /**
   * Fast-scan distances offset + scale · Σ qlut + norms[r] for the first `rows` rows of 4-bit codes
   * in the blocked layout (src/ann/pq4.ts), against the tables of the last `setLut4`.
   */
  scanPq4(codes: VectorBlock, rows: number, M: number, offset: number, scale: number, norms?: VectorBlock, positions?: VectorBlock | null): number {
    const c = ownBlock(this.#kernels, codes);
    if (c.byteLength < Math.ceil(rows / 32) * M * 16) throw createError("DIMENSION_MISMATCH", `${rows} rows of ${M} 4-bit codes do not fit a block of ${c.byteLength} bytes.`);
    const nPtr = norms ? ownBlock(this.#kernels, norms).ptr : 0;
    const [pos, allowed] = this.#mask(positions, rows);
    // The kernel writes whole blocks of 32: room for the tail's padding past the rows.
    this.#ensure(this.#used + Math.ceil(rows / 32) * 32);
    const out = this.#append(rows);
    this.#scored += this.#kernels.exports.pq4_scan(this.#lut.reserve(0) + M * 64, c.ptr, rows, M, offset, scale, nPtr, pos, allowed, this.#dist + out * 4);
    return out;
  }

  /** Empties the distance buffer, making room for `rows` distances up front. */
  reset(rows: number): void {
    this.#used = 0;
    this.#scored = 0;
    this.#ensure(rows);
  }

  /**
   * d(query, x_r) for the first `rows` rows of an f32 block (dim = rows' width); returns their start.
   * With `positions` (the rows' index positions, `rows` i32) and a filter set, masked rows are
   * skipped and get NaN, as in every scan below.
   */
  scanF32(metric: IndexMetric, block: VectorBlock, rows: number, dim: number, positions?: VectorBlock | null): number {
    const b = ownBlock(this.#kernels, block);
    const [pos, allowed] = this.#mask(positions, rows);
    const out = this.#append(rows);
    this.#scored += this.#kernels.exports.f32_scan(this.#query.reserve(dim * 4), b.ptr, rows, dim, metricCode(metric), pos, allowed, this.#dist + out * 4);
    return out;
  }

  /** ADC distances bias + norms[r] + Σ lut for the first `rows` rows of an n × M code block. */
  scanPq(codes: VectorBlock, rows: number, M: number, bias: number, norms?: VectorBlock, positions?: VectorBlock | null): number {
    const c = ownBlock(this.#kernels, codes);
    const nPtr = norms ? ownBlock(this.#kernels, norms).ptr : 0;
    const [pos, allowed] = this.#mask(positions, rows);
    const out = this.#append(rows);
    this.#scored += this.#kernels.exports.pq_adc(this.#lut.reserve(0), c.ptr, rows, M, bias, nPtr, pos, allowed, this.#dist + out * 4);
    return out;
  }

  /** The SQ query (rounded to i16, see sqPrepareQuery) the SQ scans compare against. */
  setSqQuery(qi: Int16Array): void {
    const ptr = this.#query.reserve(qi.byteLength);
    this.#kernels.heap.write(ptr, qi);
  }

  /** SQ distances bias + w·Σ qi·c_r + norms[r] for the first `rows` rows of an n × dim i8 block. */
  scanSq(codes: VectorBlock, rows: number, dim: number, w: number, bias: number, norms?: VectorBlock, positions?: VectorBlock | null): number {
    const c = ownBlock(this.#kernels, codes);
    const nPtr = norms ? ownBlock(this.#kernels, norms).ptr : 0;
    const [pos, allowed] = this.#mask(positions, rows);
    const out = this.#append(rows);
    this.#scored += this.#kernels.exports.sq_ip(this.#query.reserve(0), c.ptr, rows, dim, w, bias, nPtr, pos, allowed, this.#dist + out * 4);
    return out;
  }

  /**
   * RaBitQ estimates of the first `rows` rows of an n × (bytes + 8) code block against the query
   * bit planes `planes` (4 × bytes, see assembly/rabitq.ts), and each estimate's error bound.
   */
  scanRq(codes: VectorBlock, rows: number, planes: Uint8Array, c: { cg: number; c0: number; cS: number; cP: number; c1: number; ce: number }, positions?: VectorBlock | null): number {
    const code = ownBlock(this.#kernels, codes);
    const bytes = planes.byteLength / 4;
    if (code.byteLength < rows * (bytes + 8)) throw createError("DIMENSION_MISMATCH", `${rows} RaBitQ codes of ${bytes + 8} bytes do not fit a block of ${code.byteLength} bytes.`);
    const [pos, allowed] = this.#mask(positions, rows);
    const q = this.#query.reserve(planes.byteLength);
    this.#kernels.heap.write(q, planes);
    const out = this.#append(rows);
    // The bound widths sit beside the distances; #ensure grows both once this exists.
    if (this.#spread === 0) this.#spread = this.#kernels.heap.alloc(this.#capacity * 4);
    this.#scored += this.#kernels.exports.rq_scan(q, code.ptr, rows, bytes, c.cg, c.c0, c.cS, c.cP, c.c1, c.ce, pos, allowed, this.#dist + out * 4, this.#spread + out * 4);
    return out;
  }

  /** The error bound of the estimate at buffer position i (after scanRq). */
  spreadAt(i: number): number {
    return this.#kernels.heap.f32(this.#spread + i * 4, 1)[0]!;
  }

  /**
   * Marks rows [start, start + count) for which keep(i) is false as never-selected; returns how many
   * stay. For filters that are not a bitmap (a predicate per row); bitmaps are applied in the scans.
   */
  mask(start: number, count: number, keep: (i: number) => boolean): number {
    const d = this.#kernels.heap.f32(this.#dist + start * 4, count);
    let kept = 0;
    for (let i = 0; i < count; i++) {
      if (keep(i)) kept++;
      else d[i] = NaN; // topk never selects NaN
    }
    return kept;
  }

  /** The k smallest distances scanned so far: positions in the buffer (scan order) and values. */
  top(k: number): { index: Int32Array; distance: Float32Array } {
    const kk = Math.min(k, this.#used);
    if (kk <= 0) return { index: new Int32Array(0), distance: new Float32Array(0) };
    const idx = this.#topIdx.reserve(kk * 4);
    const dist = this.#topDist.reserve(kk * 4);
    const count = this.#kernels.exports.topk(this.#dist, this.#used, kk, -Infinity, Infinity, idx, dist);
    return { index: this.#kernels.heap.i32(idx, count).slice(), distance: this.#kernels.heap.f32(dist, count).slice() };
  }

  release(): void {
    for (const s of [this.#query, this.#lut, this.#topIdx, this.#topDist, this.#allowed]) s.release();
    this.#allowedPtr = 0;
    this.#kernels.heap.free(this.#dist);
    this.#kernels.heap.free(this.#spread);
    this.#dist = 0;
    this.#spread = 0;
    this.#capacity = 0;
    this.#used = 0;
  }

  /** [positions, allowed] pointers for a scan of `rows` rows: both 0 unless a filter is set and the rows' positions are given. */
  #mask(positions: VectorBlock | null | undefined, rows: number): [number, number] {
    if (this.#allowedPtr === 0 || !positions) return [0, 0];
    const p = ownBlock(this.#kernels, positions);
    if (p.byteLength < rows * 4) throw createError("DIMENSION_MISMATCH", `${rows} rows need ${rows * 4} bytes of positions; the block holds ${p.byteLength}.`);
    return [p.ptr, this.#allowedPtr];
  }

  #append(rows: number): number {
    this.#ensure(this.#used + rows);
    const start = this.#used;
    this.#used += rows;
    return start;
  }

  #ensure(rows: number): void {
    if (rows <= this.#capacity) return;
    const heap = this.#kernels.heap;
    const capacity = Math.max(rows, Math.ceil(this.#capacity * 1.5), 1024);
    const next = heap.alloc(capacity * 4);
    if (this.#used > 0) heap.bytes().copyWithin(next, this.#dist, this.#dist + this.#used * 4);
    heap.free(this.#dist);
    this.#dist = next;
    if (this.#spread !== 0) {
      const spread = heap.alloc(capacity * 4);
      if (this.#used > 0) heap.bytes().copyWithin(spread, this.#spread, this.#spread + this.#used * 4);
      heap.free(this.#spread);
      this.#spread = spread;
    }
    this.#capacity = capacity;
  }
}

/**
 * d(q, x_r) for each row of a host array (n × dim f32): l2, 1 − q·x, or 1 − cos. One temporary
 * allocation and one kernel call — the re-ranking step of a search, over a few dozen rows.
 */
export function exactDistances(kernels: Kernels, metric: "l2" | "dot" | "cosine", q: Float32Array, vectors: Float32Array, dim: number): Float32Array {
  if (q.length !== dim || vectors.length % dim !== 0) {
    throw createError("DIMENSION_MISMATCH", `Expected a query of ${dim} values and whole rows of ${dim}; got ${q.length} and ${vectors.length}.`, { dim });
  }
  const n = vectors.length / dim;
  const heap = kernels.heap;
  const ptr = heap.alloc(vectors.byteLength + q.byteLength + n * 4);
  try {
    const qPtr = ptr + vectors.byteLength;
    const out = qPtr + q.byteLength;
    heap.write(ptr, vectors);
    heap.write(qPtr, q);
    const w = kernels.exports;
    if (metric === "l2") w.l2_f32(qPtr, ptr, n, dim, out);
    else if (metric === "dot") w.dot_f32(qPtr, ptr, n, dim, out);
    else w.cosine_f32(qPtr, ptr, n, dim, out);
    return heap.f32(out, n).slice();
  } finally {
    heap.free(ptr);
  }
}
