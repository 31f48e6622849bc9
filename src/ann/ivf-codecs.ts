/**
 * What an IVF index keeps inside its partitions, and how one query scans it. IVF holds one codec:
 *
 *   flat  f32 vectors                 dim·4 bytes per row, exact distances
 *   sq    int8 SQ codes (ScalarQuantizer over the raw vectors)    dim bytes per row, plus for l2
 *         one f32 per row: ‖scale ∘ c‖²
 *   pq    8-bit PQ codes (ProductQuantizer over residuals x − c_p) M bytes per row, plus for l2
 *         one f32 per row: ‖x̂‖², x̂ = c_p + decode(code); or 4-bit codes, M/2 bytes per row in
 *         pq4.ts's blocked layout, scanned by the fast scan (assembly/pq4.ts) with u8 tables
 *
 * PQ over residuals, with one lookup table per query for every partition (not one per partition):
 *   dot:  1 − q·x̂ = (1 − q·c_p) + Σ_m (−q_m·r̂_m)                bias_p = d(q, c_p)
 *   l2:   ‖q − x̂‖² = ‖q‖² − 2q·c_p − 2q·r̂ + ‖x̂‖²
 *                  = (d(q, c_p) − ‖c_p‖²) + Σ_m (−2 q_m·r̂_m) + ‖x̂‖²    bias_p = d(q, c_p) − ‖c_p‖²
 * where d(q, c_p) is the distance already computed to rank the partitions. Residuals measured
 * better than raw vectors at the same code size (docs/INDEXES.md), so raw PQ is kept only as an
 * option for comparison.
 */
import type { Kernels } from "../kernels/kernels.js";
import { parallelFor, pqEncodeResidualHere, pqEncodeResidualParallel, type HeldRows, type RowParallel } from "../kernels/parallel.js";
import type { IndexMetric } from "../kernels/quantize.js";
import type { ScanSession } from "../kernels/scan.js";
import type { VectorBlock } from "../kernels/types.js";
import { corruptIndex, type IndexHead, type IndexWriter } from "./format.js";
import { ProductQuantizer } from "./pq.js";
import { blockedBytes, packBlocked, packBlockedAt, unpackBlocked } from "./pq4.js";
import { ScalarQuantizer } from "./sq.js";

/**
 * One partition's resident data: rows × codeSize bytes of codes, norms (pq l2) rows f32, and the
 * rows' index positions (rows i32), which the scans test against a query's filter bitmap.
 */
export interface ResidentCodes {
  rows: number;
  codes: VectorBlock | null;
  norms: VectorBlock | null;
  positionBlock?: VectorBlock | null;
}

export interface QueryConstants {
  w: number;
  bias: number;
  /** A codec's own per-query state (RaBitQ: the rotated query). */
  state?: unknown;
}

const NONE: QueryConstants = { w: 0, bias: 0 };

export interface CodeLayout {
  bytes(rows: number): number;
  /** n × codeSize row-major codes → stored bytes. */
  pack(codes: Uint8Array): Uint8Array;
  /**
   * Appends row-major codes after `rows` stored rows in `out`: the stored bytes of those rows,
   * zeros after them, `bytes(rows + n)` long.
   */
  packAt(codes: Uint8Array, out: Uint8Array, rows: number): void;
  /** Stored bytes of `rows` rows → row-major codes. */
  unpack(stored: Uint8Array, rows: number): Uint8Array;
}

/** Bytes of codes a partition of `rows` rows stores. */
export function storedCodeBytes(codec: IvfCodec, rows: number): number {
  return codec.layout ? codec.layout.bytes(rows) : rows * codec.codeSize;
}

export interface IvfCodec {
  readonly name: "flat" | "sq" | "pq" | "rq";
  /** Bytes of codes per row. */
  readonly codeSize: number;
  /** Whether each row also carries an f32 norm term. */
  readonly hasNorms: boolean;
  /** Codes (n × codeSize bytes) and norm terms for vectors x (n × dim, in index space) in partitions `assign`. */
  encode(kernels: Kernels, x: Float32Array, assign: Int32Array, centroids: Float32Array): { codes: Uint8Array; norms?: Float32Array };
  /**
   * `encode` with the rows split over `parallel`'s threads: the same output. `held` is `x` as
   * message-passing workers already hold it. Codecs without it encode on this thread.
   */
  encodeOn?(kernels: Kernels, x: Float32Array, assign: Int32Array, centroids: Float32Array, parallel: RowParallel | undefined, held?: HeldRows): Promise<{ codes: Uint8Array; norms?: Float32Array }>;
  /**
   * Codes kept in another layout than `encode`'s n × codeSize rows (4-bit PQ: blocked, pq4.ts):
   * its bytes for n rows, and the conversions. Without it a partition stores rows × codeSize bytes.
   */
  readonly layout?: CodeLayout;
  /** Copies a partition's codes (in its stored layout) into WebAssembly memory. */
  upload(kernels: Kernels, codes: Uint8Array): VectorBlock;
  /**
   * Per-query preparation (query vector or lookup table) in the session; returns constants the
   * scans need (SQ's weight and bias), kept by the caller so concurrent searches never share them.
   */
  begin(session: ScanSession, q: Float32Array): QueryConstants;
  /**
   * Scans partition p's rows (those the session's filter allows, given the partition's positions);
   * `centroidDistance` = d(q, c_p). Returns the rows' start in the session.
   */
  scan(session: ScanSession, part: ResidentCodes, p: number, centroidDistance: number, constants: QueryConstants): number;
  params(): Record<string, number | string | boolean>;
  /** Resident bytes besides partitions and centroids (codebooks, rotations); default 0. */
  bytes?(): number;
  write(w: IndexWriter): void;
  free(): void;
}

export class FlatCodec implements IvfCodec {
  readonly name = "flat" as const;
  readonly codeSize: number;
  readonly hasNorms = false;
  readonly #dim: number;
  readonly #space: IndexMetric;

  constructor(dim: number, space: IndexMetric) {
    this.#dim = dim;
    this.#space = space;
    this.codeSize = dim * 4;
  }

  encode(_kernels: Kernels, x: Float32Array): { codes: Uint8Array } {
    return { codes: new Uint8Array(x.buffer, x.byteOffset, x.byteLength) };
  }

  upload(kernels: Kernels, codes: Uint8Array): VectorBlock {
    const aligned = codes.byteOffset % 4 === 0 ? codes : codes.slice();
    return kernels.upload(new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4), this.#dim);
  }

  begin(session: ScanSession, q: Float32Array): QueryConstants {
    session.setQuery(q);
    return NONE;
  }

  scan(session: ScanSession, part: ResidentCodes): number {
    return session.scanF32(this.#space, part.codes!, part.rows, this.#dim, part.positionBlock);
  }

  params(): Record<string, number | string | boolean> {
    return {};
  }

  write(): void {}

  free(): void {}
}

export class SqCodec implements IvfCodec {
  readonly name = "sq" as const;
  readonly codeSize: number;
  readonly hasNorms: boolean;
  readonly sq: ScalarQuantizer;
  readonly #space: IndexMetric;

  constructor(sq: ScalarQuantizer, space: IndexMetric) {
    this.sq = sq;
    this.#space = space;
    this.codeSize = sq.dim;
    this.hasNorms = space === "l2";
  }

  static read(head: IndexHead, space: IndexMetric): SqCodec {
    return new SqCodec(new ScalarQuantizer(head.f32("sqLo"), head.f32("sqHi")), space);
  }

  encode(kernels: Kernels, x: Float32Array): { codes: Uint8Array; norms?: Float32Array } {
    return this.#withNorms(kernels, this.sq.encode(kernels, x));
  }

  async encodeOn(kernels: Kernels, x: Float32Array, _assign: Int32Array, _centroids: Float32Array, parallel: RowParallel | undefined, held?: HeldRows): Promise<{ codes: Uint8Array; norms?: Float32Array }> {
    return this.#withNorms(kernels, held ? await held.sqEncode(this.sq.offset, this.sq.invScale) : await this.sq.encodeOn(kernels, x, parallel));
  }

  #withNorms(kernels: Kernels, codes: Int8Array): { codes: Uint8Array; norms?: Float32Array } {
    const bytes = new Uint8Array(codes.buffer, codes.byteOffset, codes.byteLength);
    return this.hasNorms ? { codes: bytes, norms: this.sq.norms(kernels, codes) } : { codes: bytes };
  }

  upload(kernels: Kernels, codes: Uint8Array): VectorBlock {
    return kernels.upload(new Int8Array(codes.buffer, codes.byteOffset, codes.byteLength), this.sq.dim);
  }

  begin(session: ScanSession, q: Float32Array): QueryConstants {
    const { qi, w, bias } = this.sq.prepare(q, this.#space);
    session.setSqQuery(qi);
    return { w, bias };
  }

  scan(session: ScanSession, part: ResidentCodes, _p: number, _centroidDistance: number, c: QueryConstants): number {
    return session.scanSq(part.codes!, part.rows, this.sq.dim, c.w, c.bias, part.norms ?? undefined, part.positionBlock);
  }

  params(): Record<string, number | string | boolean> {
    return { numBits: 8 };
  }

  write(w: IndexWriter): void {
    w.section("sqLo", this.sq.lo);
    w.section("sqHi", this.sq.hi);
  }

  free(): void {}
}

export class PqCodec implements IvfCodec {
  readonly name = "pq" as const;
  readonly codeSize: number;
  readonly hasNorms: boolean;
  readonly pq: ProductQuantizer;
  readonly residual: boolean;
  readonly layout?: CodeLayout;
  readonly #space: IndexMetric;
  readonly #codebook: VectorBlock;
  /** ‖c_p‖² per partition (l2 over residuals). */
  readonly #centroidNorms: Float32Array;

  constructor(kernels: Kernels, pq: ProductQuantizer, space: IndexMetric, residual: boolean, centroids: Float32Array) {
    this.pq = pq;
    this.#space = space;
    this.residual = residual;
    this.codeSize = pq.M;
    this.hasNorms = residual && space === "l2";
    if (pq.nbits === 4) {
      const M = pq.M;
      this.layout = {
        bytes: (rows) => blockedBytes(rows, M), pack: (codes) => packBlocked(codes, M), packAt: (codes, out, rows) => void packBlockedAt(codes, M, out, rows),
        unpack: (stored, rows) => unpackBlocked(stored, rows, M),
      };
    }
    this.#codebook = kernels.upload(pq.codebook, pq.dsub);
    const dim = pq.dim;
    this.#centroidNorms = new Float32Array(centroids.length / dim);
    for (let p = 0; p < this.#centroidNorms.length; p++) {
      let s = 0;
      for (let i = 0; i < dim; i++) s += centroids[p * dim + i]! ** 2;
      this.#centroidNorms[p] = s;
    }
  }

  static read(kernels: Kernels, head: IndexHead, space: IndexMetric, centroids: Float32Array): PqCodec {
    const { dim, params } = head.meta;
    // Files from before 4-bit codes say numBits 8 (or nothing): 8.
    const bits = params.numBits ?? 8;
    if (bits !== 4 && bits !== 8) corruptIndex(`its PQ codes have ${String(bits)} bits (4 or 8 are known)`);
    const pq = new ProductQuantizer(dim, Number(params.numSubVectors), head.f32("pqCodebook"), bits);
    return new PqCodec(kernels, pq, space, params.residual !== false, centroids);
  }

  encode(kernels: Kernels, x: Float32Array, assign: Int32Array, centroids: Float32Array): { codes: Uint8Array; norms?: Float32Array } {
    const { dim, M, codebook, ksub } = this.pq;
    const codes = this.residual ? pqEncodeResidualHere(kernels, x, dim, M, codebook, assign, centroids, ksub) : this.pq.encode(kernels, x);
    return this.#withNorms(kernels, codes, assign, centroids);
  }

  async encodeOn(kernels: Kernels, x: Float32Array, assign: Int32Array, centroids: Float32Array, parallel: RowParallel | undefined, held?: HeldRows): Promise<{ codes: Uint8Array; norms?: Float32Array }> {
    const { dim, M, codebook, ksub } = this.pq;
    const p = parallelFor(kernels, parallel);
    // The residuals are formed in the workers, next to the encoding: not on this thread.
    if (held) {
      const codes = this.residual ? await held.pqEncodeResidual(codebook, M, ksub, assign, centroids) : await held.pqEncode(codebook, M, ksub);
      return this.#withNorms(kernels, codes, assign, centroids);
    }
    if (this.residual && p?.transport === "shared") {
      return this.#withNorms(kernels, await pqEncodeResidualParallel(p, x, dim, M, codebook, assign, centroids, ksub), assign, centroids);
    }
    if (p === undefined) return this.encode(kernels, x, assign, centroids);
    const input = this.residual ? residuals(x, this.pq.dim, assign, centroids) : x;
    return this.#withNorms(kernels, await this.pq.encodeOn(kernels, input, parallel), assign, centroids);
  }

  #withNorms(kernels: Kernels, codes: Uint8Array, assign: Int32Array, centroids: Float32Array): { codes: Uint8Array; norms?: Float32Array } {
    const dim = this.pq.dim;
    if (!this.hasNorms) return { codes };
    // ‖x̂‖² with x̂ = c_p + decode(code): the per-row term of the l2 ADC.
    const decoded = this.pq.decode(kernels, codes);
    const norms = new Float32Array(assign.length);
    for (let r = 0; r < assign.length; r++) {
      const c = assign[r]! * dim;
      let s = 0;
      for (let i = 0; i < dim; i++) {
        const v = decoded[r * dim + i]! + centroids[c + i]!;
        s += v * v;
      }
      norms[r] = s;
    }
    return { codes, norms };
  }

  upload(kernels: Kernels, codes: Uint8Array): VectorBlock {
    return kernels.upload(codes, this.layout ? undefined : this.pq.M);
  }

  bytes(): number {
    return this.pq.codebook.byteLength;
  }

  begin(session: ScanSession, q: Float32Array): QueryConstants {
    if (this.pq.nbits === 4) {
      // w: the tables' shared scale; bias: Σ of their minima (assembly/pq4.ts).
      const [scale, base] = session.setLut4(q, this.#codebook, this.pq.M, !this.residual && this.#space === "l2" ? 0 : this.#space === "l2" ? -2 : -1);
      return { w: scale, bias: base };
    }
    if (!this.residual && this.#space === "l2") session.setLut("l2", q, this.#codebook, this.pq.M);
    else session.setLut("dot", q, this.#codebook, this.pq.M, this.#space === "l2" ? -2 : -1);
    return NONE;
  }

  scan(session: ScanSession, part: ResidentCodes, p: number, centroidDistance: number, c: QueryConstants): number {
    let bias: number;
    if (!this.residual) bias = this.#space === "l2" ? 0 : 1;
    else bias = this.#space === "l2" ? centroidDistance - this.#centroidNorms[p]! : centroidDistance;
    if (this.layout) return session.scanPq4(part.codes!, part.rows, this.pq.M, bias + c.bias, c.w, part.norms ?? undefined, part.positionBlock);
    return session.scanPq(part.codes!, part.rows, this.pq.M, bias, part.norms ?? undefined, part.positionBlock);
  }

  params(): Record<string, number | string | boolean> {
    return { numSubVectors: this.pq.M, numBits: this.pq.nbits, residual: this.residual };
  }

  write(w: IndexWriter): void {
    w.section("pqCodebook", this.pq.codebook);
  }

  free(): void {
    this.#codebook.free();
  }
}

/** x_r − c_{assign_r} for every row, into `out` (x itself may be given: each value is read before it is written). */
export function residuals(x: Float32Array, dim: number, assign: Int32Array, centroids: Float32Array, out: Float32Array = new Float32Array(x.length)): Float32Array {
  for (let r = 0; r < assign.length; r++) {
    const c = assign[r]! * dim;
    const o = r * dim;
    for (let i = 0; i < dim; i++) out[o + i] = x[o + i]! - centroids[c + i]!;
  }
  return out;
}
