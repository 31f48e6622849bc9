/**
 * Typed access to the index-building kernels (assembly/kmeans.ts, pq.ts, sq.ts): k-means
 * assignment and update, PQ encode/decode, SQ bounds/encode/decode. Inputs are copied into
 * WebAssembly memory in blocks of at most CHUNK_ROWS rows and CHUNK_BYTES, so one call per block does the work
 * and the temporary memory stays bounded however many rows are encoded.
 *
 * Shapes (row-major throughout):
 *   data       n × dim f32
 *   centroids  k × width f32 (width = the column range a k-means session covers)
 *   codebook   M × 256 × dsub f32, dsub = dim / M (M × 16 × dsub for 4-bit codes)
 *   PQ codes   n × M u8;   SQ codes n × dim i8 standing for offset + scale ∘ code
 *   SQ query   dim i16 (qi) with a weight w and a bias: d = bias + w·Σ qi·c + norms[r] (assembly/sq.ts)
 */
import { createError } from "../errors.js";
import { Block } from "./block.js";
import type { Kernels } from "./kernels.js";
import { seedBlockRows, seedCentre, seedRanges, seedSerial, type SeedTask } from "./kmeanspp.js";
import { parallelFor, type HeldRows, type RowParallel } from "./parallel.js";
import type { VectorBlock } from "./types.js";

/** Metrics the index kernels compute natively; cosine is dot over normalized vectors. */
export type IndexMetric = "l2" | "dot";

/** Rows per kernel call when encoding host arrays, at most. */
const CHUNK_ROWS = 65_536;
/**
 * Float32 bytes of host rows per kernel call, at most: what a call borrows of WebAssembly memory.
 * An index build encodes a fragment at a time; a 50K-row fragment of 384-d vectors in one block
 * would be 77 MB, and memory never shrinks: a block larger than the hole the freed k-means
 * sample left grows the memory by all of it.
 */
const CHUNK_BYTES = 16 * 2 ** 20;

/** Rows of `dim` f32 per kernel call, for `n` rows (at least one, however wide). */
function chunkRows(n: number, dim: number): number {
  return Math.min(n, CHUNK_ROWS, Math.ceil(CHUNK_BYTES / (dim * 4)));
}

export function metricCode(metric: IndexMetric): number {
  if (metric !== "l2" && metric !== "dot") throw createError("INVALID_ARGUMENT", `Index kernels take "l2" or "dot", got "${String(metric)}".`);
  return metric === "l2" ? 0 : 1;
}

/** The Block behind a VectorBlock handle, checked to belong to `kernels`. */
export function ownBlock(kernels: Kernels, block: VectorBlock): Block {
  if (!(block instanceof Block) || block.heap !== kernels.heap) throw createError("INVALID_ARGUMENT", "The block was not uploaded to this Kernels instance.");
  if (block.freed) throw createError("INVALID_ARGUMENT", "The block was freed; upload it again.");
  return block;
}

/** A copy of a block's bytes (for serialization and for growing it). */
export function readBlock(kernels: Kernels, block: VectorBlock): Uint8Array {
  const b = ownBlock(kernels, block);
  return kernels.heap.bytes().slice(b.ptr, b.ptr + b.byteLength);
}

function checkRows(data: Float32Array, dim: number, what: string): number {
  if (!(data instanceof Float32Array) || dim < 1 || data.length % dim !== 0) {
    throw createError("DIMENSION_MISMATCH", `${what}: ${data?.length} values are not whole rows of dimension ${dim}.`, { dim });
  }
  return data.length / dim;
}

/** Runs `fn(ptr, rows, firstRow)` over data copied into WebAssembly memory chunk by chunk. */
function chunked(kernels: Kernels, data: Float32Array, dim: number, fn: (ptr: number, rows: number, first: number) => void): void {
  const n = data.length / dim;
  if (n === 0) return;
  const chunk = chunkRows(n, dim);
  const ptr = kernels.heap.alloc(chunk * dim * 4);
  try {
    for (let first = 0; first < n; first += chunk) {
      const rows = Math.min(chunk, n - first);
      kernels.heap.write(ptr, data.subarray(first * dim, (first + rows) * dim));
      fn(ptr, rows, first);
    }
  } finally {
    kernels.heap.free(ptr);
  }
}

/** Temporary allocations released together. */
class Temps {
  readonly #kernels: Kernels;
  readonly #ptrs: number[] = [];
  constructor(kernels: Kernels) {
    this.#kernels = kernels;
  }
  alloc(bytes: number): number {
    const p = this.#kernels.heap.alloc(bytes);
    this.#ptrs.push(p);
    return p;
  }
  put(src: ArrayBufferView): number {
    const p = this.alloc(src.byteLength);
    this.#kernels.heap.write(p, src);
    return p;
  }
  free(): void {
    for (const p of this.#ptrs) this.#kernels.heap.free(p);
    this.#ptrs.length = 0;
  }
}

// ── k-means ─────────────────────────────────────────────────────────────────────────────────

/**
 * One k-means problem over a resident block: rows of `dim` floats, of which the session uses the
 * columns [offset, offset + width) (a PQ sub-space; the whole row by default). Holds the per-row
 * buffers the iterations reuse:
 *
 *   assign  n i32    nearest centroid per row, from the last `assign`
 *   dist    n f32    its distance
 *   mind    n f32    k-means++ running minimum distance (kmeanspp.ts)
 */
export class KMeansSession {
  readonly n: number;
  readonly width: number;
  readonly #kernels: Kernels;
  readonly #x: number;
  readonly #dim: number;
  readonly #offset: number;
  readonly #temps: Temps;
  readonly #assign: number;
  readonly #dist: number;
  readonly #mind: number;
  #k = -1;
  #centroids = 0;
  #scratch = 0;
  #sums = 0;
  #counts = 0;

  constructor(kernels: Kernels, block: VectorBlock, dim: number, columns?: { offset: number; width: number }) {
    const b = ownBlock(kernels, block);
    const rows = b.bindDim(dim);
    if (rows === undefined) throw createError("DIMENSION_MISMATCH", `The block does not hold rows of dimension ${dim}.`, { dim });
    const offset = columns?.offset ?? 0;
    const width = columns?.width ?? dim;
    if (!(offset >= 0 && width >= 1 && offset + width <= dim)) throw createError("INVALID_ARGUMENT", `Columns [${offset}, ${offset + width}) are outside rows of dimension ${dim}.`);
    this.#kernels = kernels;
    this.n = rows;
    this.width = width;
    this.#dim = dim;
    this.#x = b.ptr + offset * 4;
    this.#offset = offset;
    this.#temps = new Temps(kernels);
    this.#assign = this.#temps.alloc(rows * 4);
    this.#dist = this.#temps.alloc(rows * 4);
    this.#mind = this.#temps.alloc(rows * 4);
  }

  /** Row r's columns (a copy). */
  row(r: number): Float32Array {
    const p = this.#x + r * this.#dim * 4;
    return this.#kernels.heap.f32(p, this.width).slice();
  }

  /**
   * k-means++ centres (k × width, a copy) drawn by `draws` (k values in [0, 1); kmeanspp.ts):
   * across `parallel`'s threads when it runs on these kernels' shared memory, else on this thread —
   * the same centres either way.
   */
  async seed(k: number, metric: IndexMetric, draws: Float64Array, parallel?: RowParallel): Promise<Float32Array> {
    if (draws.length !== k || k < 1 || k > this.n) throw createError("INVALID_ARGUMENT", `Seeding ${k} centres from ${this.n} rows takes ${k} draws, got ${draws.length}.`);
    this.#ensureCentroids(k);
    const heap = this.#kernels.heap;
    const temps = new Temps(this.#kernels);
    try {
      heap.f32(this.#mind, this.n).fill(Infinity);
      const rounds = temps.alloc((1 + k) * 4);
      heap.i32(rounds, 1 + k).fill(0)[0] = 1;
      const block = seedBlockRows(this.n);
      const task: SeedTask = {
        kernel: "kmeanspp_seed", x: this.#x, n: this.n, block, stride: this.#dim, width: this.width, metric: metricCode(metric), k,
        mind: this.#mind, sums: temps.alloc(Math.ceil(this.n / block) * 8), centroids: this.#centroids, draws: temps.put(draws), rounds,
      };
      const w = this.#kernels.exports;
      seedCentre(w, task, 0, Math.floor(draws[0]! * this.n));
      const p = parallelFor(this.#kernels, parallel);
      if (p?.transport === "shared" && k > 1) await p.runRows(task, seedRanges(task));
      else seedSerial(w, task);
      return heap.f32(this.#centroids, k * this.width).slice();
    } finally {
      temps.free();
    }
  }

  /** Nearest of k centroids (k × width) for every row; also kept for `update`. */
  assign(centroids: Float32Array, k: number, metric: IndexMetric): { assign: Int32Array; dist: Float32Array } {
    if (centroids.length !== k * this.width) throw createError("DIMENSION_MISMATCH", `Expected ${k} × ${this.width} centroid values, got ${centroids.length}.`);
    this.#ensureCentroids(k);
    const heap = this.#kernels.heap;
    heap.write(this.#centroids, centroids);
    this.#kernels.exports.kmeans_assign(this.#x, this.n, this.width, this.#dim, this.#centroids, k, metricCode(metric), this.#scratch, this.#assign, this.#dist);
    return { assign: heap.i32(this.#assign, this.n).slice(), dist: heap.f32(this.#dist, this.n).slice() };
  }

  /** Every row, all `dim` columns (a copy): what message-passing workers are sent to hold. */
  wholeRows(): Float32Array {
    return this.#kernels.heap.f32(this.#x - this.#offset * 4, this.n * this.#dim).slice();
  }

  /**
   * `assign` with the rows split over `parallel`'s threads when it runs on these kernels' memory
   * (else on this thread): every row's nearest centroid and distance come out the same either way.
   * Over message passing, `held` is `wholeRows()` as the workers hold it; the answer is also kept
   * here for `update`.
   */
  async assignOn(parallel: RowParallel | undefined, centroids: Float32Array, k: number, metric: IndexMetric, held?: HeldRows): Promise<{ assign: Int32Array; dist: Float32Array }> {
    const p = parallelFor(this.#kernels, parallel);
    if (p === undefined || (p.transport === "message" && held === undefined)) return this.assign(centroids, k, metric);
    if (centroids.length !== k * this.width) throw createError("DIMENSION_MISMATCH", `Expected ${k} × ${this.width} centroid values, got ${centroids.length}.`);
    const heap = this.#kernels.heap;
    if (held !== undefined) {
      const result = await held.assign(centroids, k, metricCode(metric), this.#offset, this.width);
      heap.write(this.#assign, result.assign);
      heap.write(this.#dist, result.dist);
      return result;
    }
    this.#ensureCentroids(k);
    heap.write(this.#centroids, centroids);
    await p.runRows({ kernel: "kmeans_assign", x: this.#x, stride: this.#dim, width: this.width, c: this.#centroids, k, metric: metricCode(metric), assign: this.#assign, dist: this.#dist }, this.n);
    return { assign: heap.i32(this.#assign, this.n).slice(), dist: heap.f32(this.#dist, this.n).slice() };
  }

  /** Per-centroid sums (k × width) and counts of the rows by the last assignment. */
  update(k: number): { sums: Float32Array; counts: Int32Array } {
    this.#ensureCentroids(k);
    const heap = this.#kernels.heap;
    heap.f32(this.#sums, k * this.width).fill(0);
    heap.i32(this.#counts, k).fill(0);
    this.#kernels.exports.kmeans_update(this.#x, this.n, this.width, this.#dim, this.#assign, this.#sums, this.#counts);
    return { sums: heap.f32(this.#sums, k * this.width).slice(), counts: heap.i32(this.#counts, k).slice() };
  }

  free(): void {
    this.#temps.free();
    for (const p of [this.#centroids, this.#scratch, this.#sums, this.#counts]) this.#kernels.heap.free(p);
    this.#centroids = this.#scratch = this.#sums = this.#counts = 0;
  }

  #ensureCentroids(k: number): void {
    if (k <= this.#k) return;
    const heap = this.#kernels.heap;
    for (const p of [this.#centroids, this.#scratch, this.#sums, this.#counts]) heap.free(p);
    this.#centroids = this.#scratch = this.#sums = this.#counts = 0;
    this.#centroids = heap.alloc(k * this.width * 4);
    this.#scratch = heap.alloc(k * (this.width + 1) * 4);
    this.#sums = heap.alloc(k * this.width * 4);
    this.#counts = heap.alloc(k * 4);
    this.#k = k;
  }
}

/** Nearest of k centroids (k × dim) for each row of data, in chunks: one kernel call per chunk. */
export function assignNearest(kernels: Kernels, data: Float32Array, dim: number, centroids: Float32Array, metric: IndexMetric): { assign: Int32Array; dist: Float32Array } {
  const n = checkRows(data, dim, "assignNearest");
  const k = checkRows(centroids, dim, "assignNearest centroids");
  const assign = new Int32Array(n);
  const dist = new Float32Array(n);
  const t = new Temps(kernels);
  try {
    const c = t.put(centroids);
    const scratch = t.alloc(k * (dim + 1) * 4);
    const chunk = chunkRows(n, dim);
    const a = t.alloc(chunk * 4);
    const d = t.alloc(chunk * 4);
    chunked(kernels, data, dim, (x, rows, first) => {
      kernels.exports.kmeans_assign(x, rows, dim, dim, c, k, metricCode(metric), scratch, a, d);
      assign.set(kernels.heap.i32(a, rows), first);
      dist.set(kernels.heap.f32(d, rows), first);
    });
  } finally {
    t.free();
  }
  return { assign, dist };
}

// ── product quantization ────────────────────────────────────────────────────────────────────

function checkCodebook(dim: number, M: number, codebook: Float32Array, ksub = 256): number {
  if (!Number.isInteger(M) || M < 1 || dim % M !== 0) throw createError("INVALID_ARGUMENT", `numSubVectors ${M} must divide the dimension ${dim}.`, { dim, numSubVectors: M });
  if (codebook.length !== ksub * dim) throw createError("DIMENSION_MISMATCH", `A codebook for dimension ${dim} holds M × ${ksub} × dsub = ${ksub * dim} floats, got ${codebook.length}.`);
  return dim / M;
}

/**
 * n × M codes: each sub-vector's nearest of its sub-space's `ksub` centroids (256: 8-bit codes,
 * 16: 4-bit codes, still one per byte; src/ann/pq4.ts packs them for the fast scan).
 */
export function pqEncode(kernels: Kernels, data: Float32Array, dim: number, M: number, codebook: Float32Array, ksub: 16 | 256 = 256): Uint8Array {
  const n = checkRows(data, dim, "pqEncode");
  checkCodebook(dim, M, codebook, ksub);
  const codes = new Uint8Array(n * M);
  const t = new Temps(kernels);
  try {
    const book = t.put(codebook);
    const scratch = t.alloc(ksub * (dim + M) * 4);
    const out = t.alloc(chunkRows(n, dim) * M);
    const encode = ksub === 16 ? kernels.exports.pq4_encode : kernels.exports.pq_encode;
    chunked(kernels, data, dim, (x, rows, first) => {
      encode(x, rows, dim, M, book, scratch, out);
      codes.set(kernels.heap.bytes().subarray(out, out + rows * M), first * M);
    });
  } finally {
    t.free();
  }
  return codes;
}

/** n × dim reconstruction from n × M codes. */
export function pqDecode(kernels: Kernels, codes: Uint8Array, dim: number, M: number, codebook: Float32Array): Float32Array {
  const dsub = checkCodebook(dim, M, codebook);
  if (codes.length % M !== 0) throw createError("DIMENSION_MISMATCH", `${codes.length} code bytes are not whole rows of ${M}.`);
  const n = codes.length / M;
  const out = new Float32Array(n * dim);
  if (n === 0) return out;
  const t = new Temps(kernels);
  try {
    const book = t.put(codebook);
    const chunk = chunkRows(n, dim);
    const src = t.alloc(chunk * M);
    const dst = t.alloc(chunk * dim * 4);
    for (let first = 0; first < n; first += chunk) {
      const rows = Math.min(chunk, n - first);
      kernels.heap.write(src, codes.subarray(first * M, (first + rows) * M));
      kernels.exports.pq_decode(src, rows, M, dsub, book, dst);
      out.set(kernels.heap.f32(dst, rows * dim), first * dim);
    }
  } finally {
    t.free();
  }
  return out;
}

// ── scalar quantization ─────────────────────────────────────────────────────────────────────

/** Per-dimension minimum (lo) and maximum (hi) over the rows. */
export function sqBounds(kernels: Kernels, data: Float32Array, dim: number): { lo: Float32Array; hi: Float32Array } {
  checkRows(data, dim, "sqBounds");
  const t = new Temps(kernels);
  try {
    const lo = t.put(new Float32Array(dim).fill(Infinity));
    const hi = t.put(new Float32Array(dim).fill(-Infinity));
    chunked(kernels, data, dim, (x, rows) => kernels.exports.sq_bounds(x, rows, dim, lo, hi));
    return { lo: kernels.heap.f32(lo, dim).slice(), hi: kernels.heap.f32(hi, dim).slice() };
  } finally {
    t.free();
  }
}

/** n × dim int8 codes: clamp(round((x − offset) · invScale), −128, 127). */
export function sqEncode(kernels: Kernels, data: Float32Array, dim: number, offset: Float32Array, invScale: Float32Array): Int8Array {
  const n = checkRows(data, dim, "sqEncode");
  if (offset.length !== dim || invScale.length !== dim) throw createError("DIMENSION_MISMATCH", `SQ parameters must hold ${dim} values each.`);
  const codes = new Int8Array(n * dim);
  const t = new Temps(kernels);
  try {
    const off = t.put(offset);
    const inv = t.put(invScale);
    const out = t.alloc(chunkRows(n, dim) * dim);
    chunked(kernels, data, dim, (x, rows, first) => {
      kernels.exports.sq_encode(x, rows, dim, off, inv, out);
      const bytes = kernels.heap.bytes();
      codes.set(new Int8Array(bytes.buffer, out, rows * dim), first * dim);
    });
  } finally {
    t.free();
  }
  return codes;
}

/** n × dim f32 = offset + scale ∘ codes. */
export function sqDecode(kernels: Kernels, codes: Int8Array, dim: number, offset: Float32Array, scale: Float32Array): Float32Array {
  if (codes.length % dim !== 0) throw createError("DIMENSION_MISMATCH", `${codes.length} codes are not whole rows of ${dim}.`);
  const n = codes.length / dim;
  const out = new Float32Array(n * dim);
  if (n === 0) return out;
  const t = new Temps(kernels);
  try {
    const off = t.put(offset);
    const sc = t.put(scale);
    const chunk = chunkRows(n, dim);
    const src = t.alloc(chunk * dim);
    const dst = t.alloc(chunk * dim * 4);
    for (let first = 0; first < n; first += chunk) {
      const rows = Math.min(chunk, n - first);
      kernels.heap.write(src, codes.subarray(first * dim, (first + rows) * dim));
      kernels.exports.sq_decode(src, rows, dim, off, sc, dst);
      out.set(kernels.heap.f32(dst, rows * dim), first * dim);
    }
  } finally {
    t.free();
  }
  return out;
}

/** Largest |qi|: 2^14 − 1 keeps Σ qi·c in i32 for dim ≤ 8192 (assembly/sq.ts). */
const QI_MAX = 16_383;

/**
 * Rounds a query for the SQ kernels: a = q ∘ scale (dot) or (q − offset) ∘ scale (l2) becomes
 * qi = round(a / α) with α = max|a| / QI_MAX; w = −α (dot) or −2α (l2); bias = 1 − q·offset (dot)
 * or ‖q − offset‖² (l2). Then d(q, x̂_r) = bias + w·Σ qi·c_r + (l2: ‖scale ∘ c_r‖²).
 */
export function sqPrepareQuery(q: Float32Array, offset: Float32Array, scale: Float32Array, metric: IndexMetric): { qi: Int16Array; w: number; bias: number } {
  const dim = q.length;
  const a = new Float64Array(dim);
  let bias = 0;
  let max = 0;
  for (let i = 0; i < dim; i++) {
    const base = metric === "l2" ? q[i]! - offset[i]! : q[i]!;
    a[i] = base * scale[i]!;
    bias += metric === "l2" ? base * base : q[i]! * offset[i]!;
    max = Math.max(max, Math.abs(a[i]!));
  }
  const inv = max > 0 ? QI_MAX / max : 1;
  const alpha = max > 0 ? max / QI_MAX : 1;
  const qi = new Int16Array(dim);
  for (let i = 0; i < dim; i++) qi[i] = Math.round(a[i]! * inv);
  return metric === "l2" ? { qi, w: -2 * alpha, bias } : { qi, w: -alpha, bias: 1 - bias };
}

/** ‖scale ∘ c_r‖² for each row of SQ codes (the per-row term of l2). */
export function sqNorms(kernels: Kernels, codes: Int8Array, dim: number, scale: Float32Array): Float32Array {
  if (codes.length % dim !== 0) throw createError("DIMENSION_MISMATCH", `${codes.length} codes are not whole rows of ${dim}.`);
  const n = codes.length / dim;
  const out = new Float32Array(n);
  if (n === 0) return out;
  const t = new Temps(kernels);
  try {
    const sc = t.put(scale);
    const chunk = chunkRows(n, dim);
    const src = t.alloc(chunk * dim);
    const dst = t.alloc(chunk * 4);
    for (let first = 0; first < n; first += chunk) {
      const rows = Math.min(chunk, n - first);
      kernels.heap.write(src, codes.subarray(first * dim, (first + rows) * dim));
      kernels.exports.sq_norms(src, rows, dim, sc, dst);
      out.set(kernels.heap.f32(dst, rows), first);
    }
  } finally {
    t.free();
  }
  return out;
}
