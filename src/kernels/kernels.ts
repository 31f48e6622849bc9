/**
 * Typed, validated access to the WebAssembly kernels. Get an instance from `loadKernels()`.
 *
 * Memory layout during `search` (all inside WebAssembly memory, scratch reused across calls):
 *
 *   block      rows × dim elements, row-major          one per upload, owned by the VectorBlock
 *   norms      rows f32                                per block, cosine only, made on first use
 *   query      dim elements                            scratch
 *   ids        max(ids.length) i32                     scratch, one target's ids at a time
 *   dist       total f32, targets back to back         scratch; target t owns [start_t, start_t + n_t)
 *   top        k i32 indices into dist + k f32         scratch, filled by `topk`
 *
 * One JS→WASM call per target block, then one `topk` over `dist`.
 */
import { createError } from "../errors.js";
import { locate, planScans, splitQueries, type Scan } from "./scan-layout.js";
import type { KernelExports } from "./abi.js";
import { Block } from "./block.js";
import type { PcaOptions, PcaResult } from "./pca.js";
import { Scratch, WasmHeap } from "./memory.js";
import type { BlockData, DistanceRange, ElementType, KernelFlavor, Metric, QueryVector, SearchResult, SearchTarget, VectorBlock } from "./types.js";
import { checkDim, checkK, checkRange, toElementArray } from "./validate.js";

/** Queries per pass of the multi-query scan: 8 × dim 1024 f32 = 32 KiB, about one L1 cache. */
const MULTI_QUERIES = 8;

/** One entry per target, in target order. */
export class Kernels {
  readonly flavor: KernelFlavor;
  /** Allocation and typed views over WebAssembly memory (see memory.ts). */
  readonly heap: WasmHeap;
  readonly #wasm: KernelExports;
  readonly #query: Scratch;
  readonly #ids: Scratch;
  readonly #dist: Scratch;
  readonly #topIdx: Scratch;
  readonly #topDist: Scratch;
  readonly #aux: Scratch;

  /** Use `loadKernels()`; this constructor takes an already-instantiated module. */
  constructor(flavor: KernelFlavor, exports: KernelExports, readonly module?: WebAssembly.Module) {
    this.flavor = flavor;
    this.#wasm = exports;
    this.heap = new WasmHeap(exports);
    this.#query = new Scratch(this.heap);
    this.#ids = new Scratch(this.heap);
    this.#dist = new Scratch(this.heap);
    this.#topIdx = new Scratch(this.heap);
    this.#topDist = new Scratch(this.heap);
    this.#aux = new Scratch(this.heap);
  }

  /** The raw exports, for kernels without a wrapper yet. Unchecked: see abi.ts. */
  get exports(): KernelExports {
    return this.#wasm;
  }

  /** Bytes of WebAssembly memory reserved so far. */
  get memoryBytes(): number {
    return this.heap.size;
  }

  /**
   * Copies `rows × dim` vectors (row-major) into WebAssembly memory once. A Uint16Array holds
   * float16 bits and becomes an f32 block; Uint8Array is packed bits (dim = bytes per row).
   * `dim` may be left out and is then fixed by the block's first search.
   * Throws OUT_OF_MEMORY when memory cannot grow (one block is limited to 1 GiB).
   */
  upload(data: BlockData, dim?: number): VectorBlock {
    const element = elementOf(data);
    if (dim !== undefined) {
      checkDim(dim);
      if (data.length % dim !== 0) {
        throw createError("DIMENSION_MISMATCH", `A block of ${data.length} values is not a whole number of rows of dimension ${dim}.`, { dim, length: data.length });
      }
    }
    const byteLength = data.length * (element === "f32" ? 4 : 1);
    const ptr = this.heap.alloc(byteLength);
    if (data instanceof Uint16Array) {
      let src = 0;
      try {
        src = this.heap.alloc(data.byteLength);
      } catch (error) {
        this.heap.free(ptr);
        throw error;
      }
      this.heap.write(src, data);
      this.#wasm.f16_to_f32(src, data.length, ptr);
      this.heap.free(src);
    } else {
      this.heap.write(ptr, data);
    }
    return new Block(this.heap, ptr, data.length, dim, element, byteLength);
  }

  /** Distance from `query` to every row of `block` (or to rows `ids`, in that order). */
  distances(metric: Metric, query: QueryVector, block: VectorBlock, dim: number, ids?: Int32Array): Float32Array {
    const scans = this.#plan(metric, [{ block, ids }], dim);
    const total = scans[0]!.count;
    const distPtr = this.#dist.reserve(total * 4);
    this.#scanAll(metric, this.#writeQuery(query, scans[0]!.block.element, dim), scans, dim, distPtr);
    return this.heap.f32(distPtr, total).slice();
  }

  /**
   * The k nearest rows to `query` over all targets, with lo ≤ distance < hi. Every target must
   * hold vectors of the same element type and dimension `dim`.
   */
  search(metric: Metric, query: QueryVector, targets: readonly SearchTarget[], dim: number, k: number, range?: DistanceRange): SearchResult {
    checkK(k);
    const { lo, hi } = checkRange(range);
    const scans = this.#plan(metric, targets, dim);
    const qPtr = this.#writeQuery(query, scans[0]?.block.element ?? "f32", dim);
    const total = totalOf(scans);
    const distPtr = this.#dist.reserve(total * 4);
    this.#scanAll(metric, qPtr, scans, dim, distPtr);
    return this.#select(scans, distPtr, total, k, lo, hi);
  }

  /**
   * `search` for several queries: `queries` is nq × dim row-major (or one vector per query).
   * f32 l2/dot/cosine over whole blocks use the multi-query kernels, which read each block from
   * memory once per 8 queries instead of once per query.
   */
  searchBatch(metric: Metric, queries: QueryVector | readonly QueryVector[], targets: readonly SearchTarget[], dim: number, k: number, range?: DistanceRange): SearchResult[] {
    checkK(k);
    checkDim(dim);
    const { lo, hi } = checkRange(range);
    const list = splitQueries(queries, dim);
    const scans = this.#plan(metric, targets, dim);
    const element = scans[0]?.block.element ?? "f32";
    const multi = element === "f32" && metric !== "hamming" && list.length > 1 && scans.every((s) => s.ids === undefined);
    if (!multi) return list.map((q) => this.search(metric, q, targets, dim, k, range));

    const total = totalOf(scans);
    const results: SearchResult[] = [];
    for (let first = 0; first < list.length; first += MULTI_QUERIES) {
      const group = list.slice(first, first + MULTI_QUERIES);
      const nq = group.length;
      const qsPtr = this.#query.reserve(nq * dim * 4);
      const qNormsPtr = this.#aux.reserve(nq * 4);
      const distPtr = this.#dist.reserve(nq * total * 4);
      group.forEach((q, i) => this.heap.write(qsPtr + i * dim * 4, toElementArray(q, "f32", dim, `query ${first + i}`)));
      if (metric === "cosine") this.#wasm.norms_f32(qsPtr, nq, dim, qNormsPtr);
      for (const s of scans) {
        const out = distPtr + s.start * 4;
        if (metric === "l2") this.#wasm.l2_f32_multi(qsPtr, nq, s.block.ptr, s.count, dim, out, total);
        else if (metric === "dot") this.#wasm.dot_f32_multi(qsPtr, nq, s.block.ptr, s.count, dim, out, total);
        else this.#wasm.cosine_f32_normed_multi(qsPtr, qNormsPtr, nq, s.block.ptr, this.#norms(s.block), s.count, dim, out, total);
      }
      for (let i = 0; i < nq; i++) results.push(this.#select(scans, distPtr + i * total * 4, total, k, lo, hi));
    }
    return results;
  }

  /** Top-k of a host array with the WebAssembly selection (lo ≤ d < hi, hi = ∞ unbounded). */
  topk(dist: Float32Array, k: number, range?: DistanceRange): { index: Int32Array; distance: Float32Array } {
    checkK(k);
    const { lo, hi } = checkRange(range);
    const kk = Math.min(k, dist.length);
    const distPtr = this.#dist.reserve(dist.byteLength);
    const idxPtr = this.#topIdx.reserve(kk * 4);
    const outPtr = this.#topDist.reserve(kk * 4);
    this.heap.write(distPtr, dist);
    const count = this.#wasm.topk(distPtr, dist.length, kk, lo, hi, idxPtr, outPtr);
    return { index: this.heap.i32(idxPtr, count).slice(), distance: this.heap.f32(outPtr, count).slice() };
  }

  /** Half-precision bit patterns → f32 through the WebAssembly converter. */
  f16ToF32(bits: Uint16Array): Float32Array {
    const src = this.#aux.reserve(bits.byteLength);
    const dst = this.#dist.reserve(bits.length * 4);
    this.heap.write(src, bits);
    this.#wasm.f16_to_f32(src, bits.length, dst);
    return this.heap.f32(dst, bits.length).slice();
  }

  /** ‖x_r‖ for each row of an f32 or i8 block (the cache used by cosine). */
  norms(block: VectorBlock, dim: number): Float32Array {
    const b = this.#plan("l2", [{ block }], dim)[0]!.block;
    return this.heap.f32(this.#norms(b), b.rows!).slice();
  }

  /**
   * The top principal components of `rows` (n × dim, row-major) and each row's coordinates along
   * them, e.g. `await kernels.pca(vectors, 100, { components: 2 })` for a 2-D map. Memory it takes
   * is freed before it resolves. (Its host code loads on first use: maps are not part of the core.)
   */
  async pca(rows: Float32Array, dim: number, options?: PcaOptions): Promise<PcaResult> {
    const { pca } = await import("./pca.js");
    return pca(this.heap, this.#wasm, rows, dim, options);
  }

  /** Frees the scratch buffers (blocks are freed by their owners). */
  releaseScratch(): void {
    for (const s of [this.#query, this.#ids, this.#dist, this.#topIdx, this.#topDist, this.#aux]) s.release();
  }

  // ── internals ─────────────────────────────────────────────────────────────────────────────

  /** Validates targets and lays their distances out back to back in `dist`. */
  #plan(metric: Metric, targets: readonly SearchTarget[], dim: number): Scan[] {
    return planScans(metric, targets, dim, (block, i) => this.#own(block, i));
  }

  #own(block: VectorBlock | undefined, target: number): Block {
    if (!(block instanceof Block) || block.heap !== this.heap) {
      throw createError("INVALID_ARGUMENT", `Target ${target} is not a block uploaded to this Kernels instance.`, { target });
    }
    if (block.freed) throw createError("INVALID_ARGUMENT", `Target ${target} was freed; upload it again.`, { target });
    return block;
  }

  #writeQuery(query: QueryVector, element: ElementType, dim: number): number {
    const values = toElementArray(query, element, dim);
    const ptr = this.#query.reserve(values.byteLength);
    this.heap.write(ptr, values);
    return ptr;
  }

  /** Cached ‖x_r‖ of a block whose dimension is known. */
  #norms(block: Block): number {
    if (block.normsPtr === 0) {
      const rows = block.rows!;
      const ptr = this.heap.alloc(rows * 4);
      if (block.element === "f32") this.#wasm.norms_f32(block.ptr, rows, block.dim!, ptr);
      else this.#wasm.norms_i8(block.ptr, rows, block.dim!, ptr);
      block.normsPtr = ptr;
    }
    return block.normsPtr;
  }

  #scanAll(metric: Metric, qPtr: number, scans: Scan[], dim: number, distPtr: number): void {
    const w = this.#wasm;
    const maxIds = Math.max(0, ...scans.map((s) => s.ids?.length ?? 0));
    const idsPtr = maxIds > 0 ? this.#ids.reserve(maxIds * 4) : 0;
    for (const s of scans) {
      if (s.count === 0) continue;
      const x = s.block.ptr;
      const out = distPtr + s.start * 4;
      const f32 = s.block.element === "f32";
      const norms = metric === "cosine" ? this.#norms(s.block) : 0;
      if (s.ids === undefined) {
        if (metric === "l2") (f32 ? w.l2_f32 : w.l2_i8)(qPtr, x, s.count, dim, out);
        else if (metric === "dot") (f32 ? w.dot_f32 : w.dot_i8)(qPtr, x, s.count, dim, out);
        else if (metric === "cosine") (f32 ? w.cosine_f32_normed : w.cosine_i8_normed)(qPtr, x, norms, s.count, dim, out);
        else w.hamming_u8(qPtr, x, s.count, dim, out);
      } else {
        this.heap.write(idsPtr, s.ids);
        if (metric === "l2") (f32 ? w.l2_f32_gather : w.l2_i8_gather)(qPtr, x, idsPtr, s.count, dim, out);
        else if (metric === "dot") (f32 ? w.dot_f32_gather : w.dot_i8_gather)(qPtr, x, idsPtr, s.count, dim, out);
        else if (metric === "cosine") (f32 ? w.cosine_f32_normed_gather : w.cosine_i8_normed_gather)(qPtr, x, norms, idsPtr, s.count, dim, out);
        else w.hamming_u8_gather(qPtr, x, idsPtr, s.count, dim, out);
      }
    }
  }

  #select(scans: Scan[], distPtr: number, total: number, k: number, lo: number, hi: number): SearchResult {
    const kk = Math.min(k, total);
    const idxPtr = this.#topIdx.reserve(kk * 4);
    const outPtr = this.#topDist.reserve(kk * 4);
    const count = this.#wasm.topk(distPtr, total, kk, lo, hi, idxPtr, outPtr);
    const index = this.heap.i32(idxPtr, count);
    const result: SearchResult = { target: new Int32Array(count), row: new Int32Array(count), distance: this.heap.f32(outPtr, count).slice() };
    for (let j = 0; j < count; j++) {
      const { target, row } = locate(scans, index[j]!);
      result.target[j] = target;
      result.row[j] = row;
    }
    return result;
  }
}

function totalOf(scans: Scan[]): number {
  return scans.reduce((n, s) => n + s.count, 0);
}

function elementOf(data: BlockData): ElementType {
  if (data instanceof Float32Array || data instanceof Uint16Array) return "f32";
  if (data instanceof Int8Array) return "i8";
  if (data instanceof Uint8Array) return "u8";
  throw createError("INVALID_ARGUMENT", "upload expects a Float32Array, Int8Array, Uint8Array (packed bits) or Uint16Array (float16 bits).");
}

