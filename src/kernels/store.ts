/**
 * A growable set of vectors resident in WebAssembly memory, stored as f32, int8 SQ codes or 8-bit
 * PQ codes, with "distances from the current query to rows ids[0..count)" as one kernel call.
 * This is the storage under the HNSW graph (src/ann/hnsw.ts): one call per expanded node.
 *
 * WebAssembly memory it owns:
 *
 *   rows    capacity × rowBytes        f32: dim·4, sq: dim, pq: M bytes per row; grows ×1.5
 *   query   dim f32 (f32, pq) or dim i16 (sq: the query rounded by sqPrepareQuery)
 *   norms   capacity f32               sq with l2 only: ‖scale ∘ c_r‖² per row
 *   lut     M × 256 f32                pq only
 *   offset, scale, invScale  dim f32   sq only;  codebook  M × 256 × dsub f32  pq only
 *   ids     idsCapacity i32, out idsCapacity f32    one batch of a `distances` call
 *
 * `distances` is the hot path: it writes ids through a cached Int32Array view and reads results
 * through a cached Float32Array view, rebuilt only when memory has grown (which detaches views).
 */
import { createError } from "../errors.js";
import type { Kernels } from "./kernels.js";
import { metricCode, sqPrepareQuery, type IndexMetric } from "./quantize.js";

export type StoreSpec =
  | { kind: "f32"; dim: number; metric: IndexMetric }
  | { kind: "sq"; dim: number; metric: IndexMetric; offset: Float32Array; scale: Float32Array }
  | { kind: "pq"; dim: number; metric: IndexMetric; M: number; codebook: Float32Array };

export class VectorStore {
  readonly spec: StoreSpec;
  readonly dim: number;
  /** Bytes per stored row. */
  readonly rowBytes: number;
  readonly #kernels: Kernels;
  readonly #l2: boolean;
  #size = 0;
  #capacity = 0;
  #rows = 0;
  #query = 0;
  #lut = 0;
  #params = 0; // sq: offset | scale | invScale;  pq: codebook
  #ids = 0;
  #out = 0;
  #idsCapacity = 0;
  #bias = 0;
  #w = 0;
  #norms = 0;
  #buffer: ArrayBuffer | null = null;
  #idsView: Int32Array = new Int32Array(0);
  #outView: Float32Array = new Float32Array(0);

  constructor(kernels: Kernels, spec: StoreSpec, capacity = 1024) {
    const { dim } = spec;
    if (!Number.isInteger(dim) || dim < 1) throw createError("INVALID_ARGUMENT", `Store dimension must be a positive integer, got ${dim}.`);
    metricCode(spec.metric);
    this.#kernels = kernels;
    this.spec = spec;
    this.dim = dim;
    this.#l2 = spec.metric === "l2";
    const heap = kernels.heap;
    if (spec.kind === "f32") this.rowBytes = dim * 4;
    else if (spec.kind === "sq") {
      if (spec.offset.length !== dim || spec.scale.length !== dim) throw createError("DIMENSION_MISMATCH", `SQ parameters must hold ${dim} values each.`);
      this.rowBytes = dim;
      this.#params = heap.alloc(dim * 12);
      const inv = spec.scale.map((s) => (s > 0 ? 1 / s : 0));
      heap.write(this.#params, spec.offset);
      heap.write(this.#params + dim * 4, spec.scale);
      heap.write(this.#params + dim * 8, inv);
    } else {
      if (dim % spec.M !== 0 || spec.codebook.length !== 256 * dim) throw createError("DIMENSION_MISMATCH", `A PQ codebook for dimension ${dim} with ${spec.M} sub-vectors holds ${256 * dim} floats.`);
      this.rowBytes = spec.M;
      this.#params = heap.alloc(spec.codebook.byteLength);
      heap.write(this.#params, spec.codebook);
      this.#lut = heap.alloc(spec.M * 256 * 4);
    }
    this.#query = heap.alloc(dim * 4);
    this.#grow(Math.max(1, capacity));
    this.#reserveIds(64);
  }

  get size(): number {
    return this.#size;
  }

  /** Bytes of WebAssembly memory the stored rows occupy. */
  get bytes(): number {
    return this.#size * (this.rowBytes + (this.#norms ? 4 : 0));
  }

  /** Encodes and appends n × dim vectors; returns the id of the first. */
  append(vectors: Float32Array): number {
    if (vectors.length % this.dim !== 0) throw createError("DIMENSION_MISMATCH", `${vectors.length} values are not whole vectors of dimension ${this.dim}.`);
    const n = vectors.length / this.dim;
    const first = this.#size;
    this.#grow(first + n);
    const heap = this.#kernels.heap;
    const dst = this.#rows + first * this.rowBytes;
    const spec = this.spec;
    if (spec.kind === "f32") heap.write(dst, vectors);
    else {
      const tmp = heap.alloc(vectors.byteLength);
      try {
        heap.write(tmp, vectors);
        if (spec.kind === "sq") {
          this.#kernels.exports.sq_encode(tmp, n, this.dim, this.#params, this.#params + this.dim * 8, dst);
          if (this.#l2) this.#kernels.exports.sq_norms(dst, n, this.dim, this.#params + this.dim * 4, this.#norms + first * 4);
        }
        else {
          const cnorm = heap.alloc(256 * (this.dim + spec.M) * 4);
          this.#kernels.exports.pq_encode(tmp, n, this.dim, spec.M, this.#params, cnorm, dst);
          heap.free(cnorm);
        }
      } finally {
        heap.free(tmp);
      }
    }
    this.#size += n;
    return first;
  }

  /** Appends rows already in this store's encoding (rowBytes each), e.g. read back from a file. */
  appendEncoded(rows: Uint8Array): number {
    if (rows.length % this.rowBytes !== 0) throw createError("CORRUPT_FILE", `${rows.length} bytes are not whole rows of ${this.rowBytes} bytes.`);
    const n = rows.length / this.rowBytes;
    const first = this.#size;
    this.#grow(first + n);
    this.#kernels.heap.write(this.#rows + first * this.rowBytes, rows);
    if (this.spec.kind === "sq" && this.#l2) this.#kernels.exports.sq_norms(this.#rows + first * this.rowBytes, n, this.dim, this.#params + this.dim * 4, this.#norms + first * 4);
    this.#size += n;
    return first;
  }

  /** A copy of the stored rows in this store's encoding. */
  encoded(): Uint8Array {
    return this.#kernels.heap.bytes().slice(this.#rows, this.#rows + this.#size * this.rowBytes);
  }

  /** Row i as f32 (decoded for sq and pq). */
  vector(i: number): Float32Array {
    this.#checkRow(i);
    const heap = this.#kernels.heap;
    const spec = this.spec;
    if (spec.kind === "f32") return heap.f32(this.#rows + i * this.rowBytes, this.dim).slice();
    const out = heap.alloc(this.dim * 4);
    try {
      if (spec.kind === "sq") this.#kernels.exports.sq_decode(this.#rows + i * this.rowBytes, 1, this.dim, this.#params, this.#params + this.dim * 4, out);
      else this.#kernels.exports.pq_decode(this.#rows + i * this.rowBytes, 1, spec.M, this.dim / spec.M, this.#params, out);
      return heap.f32(out, this.dim).slice();
    } finally {
      heap.free(out);
    }
  }

  /** Makes q (dim f32) the query of the following `distances` calls. */
  setQuery(q: Float32Array): void {
    if (q.length !== this.dim) throw createError("DIMENSION_MISMATCH", `The query has ${q.length} elements but the vectors have dimension ${this.dim}.`, { expected: this.dim, actual: q.length });
    const spec = this.spec;
    const heap = this.#kernels.heap;
    if (spec.kind === "f32") heap.write(this.#query, q);
    else if (spec.kind === "sq") {
      const { qi, w, bias } = sqPrepareQuery(q, spec.offset, spec.scale, spec.metric);
      heap.write(this.#query, qi);
      this.#w = w;
      this.#bias = bias;
    } else {
      heap.write(this.#query, q);
      if (this.#l2) this.#kernels.exports.pq_lut_l2(this.#query, spec.M, this.dim / spec.M, this.#params, this.#lut);
      else this.#kernels.exports.pq_lut_dot(this.#query, spec.M, this.dim / spec.M, this.#params, -1, this.#lut);
      this.#bias = this.#l2 ? 0 : 1;
    }
  }

  /** Makes stored row i the query (graph construction compares stored rows with each other). */
  setQueryRow(i: number): void {
    this.#checkRow(i);
    if (this.spec.kind === "f32") {
      this.#kernels.heap.bytes().copyWithin(this.#query, this.#rows + i * this.rowBytes, this.#rows + (i + 1) * this.rowBytes);
    } else {
      this.setQuery(this.vector(i));
    }
  }

  /** out[j] = d(query, row ids[j]) for j < count: one kernel call. Ids are not range-checked. */
  distances(ids: Int32Array, count: number, out: Float32Array): void {
    if (count > this.#idsCapacity) this.#reserveIds(count);
    if (this.#kernels.heap.bytes().buffer !== this.#buffer) this.#views();
    const idsView = this.#idsView;
    for (let j = 0; j < count; j++) idsView[j] = ids[j]!;
    const w = this.#kernels.exports;
    const spec = this.spec;
    if (spec.kind === "f32") {
      if (this.#l2) w.l2_f32_gather(this.#query, this.#rows, this.#ids, count, this.dim, this.#out);
      else w.dot_f32_gather(this.#query, this.#rows, this.#ids, count, this.dim, this.#out);
    } else if (spec.kind === "sq") {
      w.sq_ip_gather(this.#query, this.#rows, this.#ids, count, this.dim, this.#w, this.#bias, this.#norms, this.#out);
    } else {
      w.pq_adc_gather(this.#lut, this.#rows, this.#ids, count, spec.M, this.#bias, 0, this.#out);
    }
    const outView = this.#outView;
    for (let j = 0; j < count; j++) out[j] = outView[j]!;
  }

  /**
   * The rows and the prepared query as the kernels that read the store take them (graph.ts):
   * kind 0 f32 / 1 sq / 2 pq, metric 0 l2 / 1 dot, aux = SQ row norms (or 0) or PQ lookup table.
   */
  kernelArgs(): { size: number; kind: number; metric: number; rows: number; dim: number; M: number; query: number; aux: number; w: number; bias: number } {
    const spec = this.spec;
    const kind = spec.kind === "f32" ? 0 : spec.kind === "sq" ? 1 : 2;
    const aux = spec.kind === "sq" ? this.#norms : spec.kind === "pq" ? this.#lut : 0;
    return { size: this.#size, kind, metric: this.#l2 ? 0 : 1, rows: this.#rows, dim: this.dim, M: spec.kind === "pq" ? spec.M : 0, query: this.#query, aux, w: this.#w, bias: this.#bias };
  }

  /**
   * The k nearest rows to the query among all rows, or among rows `ids`: one scan and one top-k,
   * both in WebAssembly. Returns row numbers and distances, nearest first (ties: lower index).
   */
  nearest(k: number, ids?: Int32Array): { index: Int32Array; distance: Float32Array } {
    const n = ids ? ids.length : this.#size;
    const kk = Math.min(k, n);
    if (kk <= 0) return { index: new Int32Array(0), distance: new Float32Array(0) };
    const heap = this.#kernels.heap;
    const w = this.#kernels.exports;
    const dist = heap.alloc(n * 4 + kk * 8 + (ids ? n * 4 : 0));
    try {
      const topIdx = dist + n * 4;
      const topDist = topIdx + kk * 4;
      const out = dist;
      const spec = this.spec;
      if (ids) {
        const idsPtr = topDist + kk * 4;
        heap.write(idsPtr, ids);
        if (spec.kind === "f32") (this.#l2 ? w.l2_f32_gather : w.dot_f32_gather)(this.#query, this.#rows, idsPtr, n, this.dim, out);
        else if (spec.kind === "sq") {
          w.sq_ip_gather(this.#query, this.#rows, idsPtr, n, this.dim, this.#w, this.#bias, this.#norms, out);
        } else w.pq_adc_gather(this.#lut, this.#rows, idsPtr, n, spec.M, this.#bias, 0, out);
      } else if (spec.kind === "f32") (this.#l2 ? w.l2_f32 : w.dot_f32)(this.#query, this.#rows, n, this.dim, out);
      else if (spec.kind === "sq") {
        w.sq_ip(this.#query, this.#rows, n, this.dim, this.#w, this.#bias, this.#norms, 0, 0, out);
      } else w.pq_adc(this.#lut, this.#rows, n, spec.M, this.#bias, 0, 0, 0, out);
      const count = w.topk(dist, n, kk, -Infinity, Infinity, topIdx, topDist);
      const index = heap.i32(topIdx, count).slice();
      if (ids) for (let j = 0; j < count; j++) index[j] = ids[index[j]!]!;
      return { index, distance: heap.f32(topDist, count).slice() };
    } finally {
      heap.free(dist);
    }
  }

  free(): void {
    const heap = this.#kernels.heap;
    for (const p of [this.#rows, this.#norms, this.#query, this.#lut, this.#params, this.#ids, this.#out]) heap.free(p);
    this.#rows = this.#norms = this.#query = this.#lut = this.#params = this.#ids = this.#out = 0;
    this.#size = this.#capacity = this.#idsCapacity = 0;
    this.#buffer = null;
  }

  #checkRow(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.#size) throw createError("INVALID_ARGUMENT", `Row ${i} is outside the store's ${this.#size} rows.`);
  }

  #grow(rows: number): void {
    if (rows <= this.#capacity) return;
    const heap = this.#kernels.heap;
    const capacity = Math.max(rows, Math.ceil(this.#capacity * 1.5));
    const next = heap.alloc(capacity * this.rowBytes);
    if (this.#size > 0) heap.bytes().copyWithin(next, this.#rows, this.#rows + this.#size * this.rowBytes);
    heap.free(this.#rows);
    this.#rows = next;
    if (this.spec.kind === "sq" && this.#l2) {
      const norms = heap.alloc(capacity * 4);
      if (this.#size > 0) heap.bytes().copyWithin(norms, this.#norms, this.#norms + this.#size * 4);
      heap.free(this.#norms);
      this.#norms = norms;
    }
    this.#capacity = capacity;
  }

  #reserveIds(count: number): void {
    const heap = this.#kernels.heap;
    heap.free(this.#ids);
    heap.free(this.#out);
    this.#ids = this.#out = 0;
    const capacity = Math.max(count, this.#idsCapacity * 2);
    this.#ids = heap.alloc(capacity * 4);
    this.#out = heap.alloc(capacity * 4);
    this.#idsCapacity = capacity;
    this.#buffer = null;
  }

  #views(): void {
    const bytes = this.#kernels.heap.bytes();
    this.#buffer = bytes.buffer as ArrayBuffer;
    this.#idsView = new Int32Array(bytes.buffer, this.#ids, this.#idsCapacity);
    this.#outView = new Float32Array(bytes.buffer, this.#out, this.#idsCapacity);
  }
}
