/**
 * One layer of a proximity graph in WebAssembly memory (HNSW's bottom layer), with its search
 * kernel (assembly/hnsw.ts) run over a VectorStore.
 *
 * WebAssembly memory it owns:
 *
 *   links    capacity × stride i32   node v at v·stride: [count, n_0 … n_{stride−2}]; grows ×1.5
 *   visited  capacity u16            per-search marks (epoch), cleared when the epoch wraps
 *   cand     capacity × 8 bytes      candidate heap: (f32 distance, i32 id) pairs
 *   res, out                         result heap (ef + 1 pairs), one node's neighbour batch
 *                                    (stride pairs) and the ef results (i32 + f32)
 *   allowed  ⌈capacity / 8⌉ bytes    the filter bitmap of the current search
 */
import { createError } from "../errors.js";
import type { Kernels } from "./kernels.js";
import { Scratch } from "./memory.js";
import type { VectorStore } from "./store.js";

export class GraphLayer {
  /** Int32 slots per node: 1 (count) + maxDegree. */
  readonly stride: number;
  readonly maxDegree: number;
  readonly #kernels: Kernels;
  #capacity = 0;
  #links = 0;
  #visited = 0;
  #cand = 0;
  #epoch = 0;
  readonly #res: Scratch;
  readonly #out: Scratch;
  readonly #allowed: Scratch;
  #buffer: ArrayBuffer | null = null;
  #view: Int32Array = new Int32Array(0);
  /** Results of the last search, nearest first (valid up to the count it returned). */
  ids: Int32Array = new Int32Array(0);
  distances: Float32Array = new Float32Array(0);

  constructor(kernels: Kernels, maxDegree: number, capacity = 1024) {
    if (!Number.isInteger(maxDegree) || maxDegree < 1) throw createError("INVALID_ARGUMENT", `A graph layer needs a positive degree, got ${maxDegree}.`);
    this.#kernels = kernels;
    this.maxDegree = maxDegree;
    this.stride = 1 + maxDegree;
    this.#res = new Scratch(kernels.heap);
    this.#out = new Scratch(kernels.heap);
    this.#allowed = new Scratch(kernels.heap);
    this.reserve(capacity);
  }

  /** Room for n nodes; new nodes start with no links. */
  reserve(n: number): void {
    if (n <= this.#capacity) return;
    const heap = this.#kernels.heap;
    const capacity = Math.max(n, Math.ceil(this.#capacity * 1.5), 16);
    const links = heap.alloc(capacity * this.stride * 4);
    const bytes = heap.bytes();
    bytes.fill(0, links, links + capacity * this.stride * 4);
    if (this.#capacity > 0) bytes.copyWithin(links, this.#links, this.#links + this.#capacity * this.stride * 4);
    heap.free(this.#links);
    this.#links = links;
    heap.free(this.#visited);
    heap.free(this.#cand);
    this.#visited = this.#cand = 0;
    this.#visited = heap.alloc(capacity * 2);
    this.#cand = heap.alloc((capacity + 1) * 8);
    heap.bytes().fill(0, this.#visited, this.#visited + capacity * 2);
    this.#epoch = 0;
    this.#capacity = capacity;
    this.#buffer = null;
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Where the links are (capacity × stride i32), for build workers that search this layer over shared memory. */
  get linksPtr(): number {
    return this.#links;
  }

  /** Copies node v's neighbours into out; returns how many. */
  neighbours(v: number, out: Int32Array): number {
    const links = this.#links32();
    const base = v * this.stride;
    const count = links[base]!;
    for (let j = 0; j < count; j++) out[j] = links[base + 1 + j]!;
    return count;
  }

  /** Replaces node v's neighbours with ids[0..count). */
  setNeighbours(v: number, ids: ArrayLike<number>, count: number): void {
    if (count > this.maxDegree) throw createError("INVALID_ARGUMENT", `${count} links exceed the layer's degree ${this.maxDegree}.`);
    const links = this.#links32();
    const base = v * this.stride;
    links[base] = count;
    for (let j = 0; j < count; j++) links[base + 1 + j] = ids[j]!;
  }

  /** Appends one neighbour to v if there is room; returns whether it did. */
  addNeighbour(v: number, id: number): boolean {
    const links = this.#links32();
    const base = v * this.stride;
    const count = links[base]!;
    if (count >= this.maxDegree) return false;
    links[base + 1 + count] = id;
    links[base] = count + 1;
    return true;
  }

  /**
   * Best-first search from (ep, epDist) with a result list of size ef, distances from the store's
   * current query; `allowed` (bitmap over nodes) limits which nodes enter the results. Results are
   * left in `ids` / `distances`, nearest first; returns their count. With `upper`, searches that
   * upper layer instead of this one (with this layer's scratch: it has room for every node).
   */
  search(store: VectorStore, ep: number, epDist: number, ef: number, allowed?: Uint8Array, upper?: { layers: UpperLayers; layer: number }): number {
    const heap = this.#kernels.heap;
    const args = store.kernelArgs();
    if (args.size > this.#capacity) throw createError("INVALID_ARGUMENT", `The store holds ${args.size} rows but the graph has room for ${this.#capacity}.`);
    const res = this.#res.reserve((ef + 1 + this.stride) * 8);
    const out = this.#out.reserve(ef * 8);
    let allowedPtr = 0;
    if (allowed) {
      allowedPtr = this.#allowed.reserve(Math.ceil(this.#capacity / 8));
      heap.bytes().fill(0, allowedPtr, allowedPtr + Math.ceil(this.#capacity / 8));
      heap.write(allowedPtr, allowed.subarray(0, Math.ceil(this.#capacity / 8)));
    }
    if (++this.#epoch === 65_536) {
      heap.bytes().fill(0, this.#visited, this.#visited + this.#capacity * 2);
      this.#epoch = 1;
    }
    const over = upper?.layers.pointers;
    const count = this.#kernels.exports.hnsw_search(
      over ? over.pool : this.#links, over ? 1 + upper!.layers.m : this.stride, over ? over.offsets : 0, upper?.layer ?? 0, this.#visited, this.#epoch, allowedPtr,
      args.kind, args.metric, args.rows, args.dim, args.M, args.query, args.aux, args.w, args.bias,
      ep, epDist, ef, this.#cand, res, res + (ef + 1) * 8, out, out + ef * 4,
    );
    if (this.ids.length < count) {
      this.ids = new Int32Array(Math.max(count, 2 * this.ids.length));
      this.distances = new Float32Array(this.ids.length);
    }
    this.ids.set(heap.i32(out, count));
    this.distances.set(heap.f32(out + ef * 4, count));
    return count;
  }

  /** Links of nodes [0, n) as bytes (n × stride i32). */
  encoded(n: number): Uint8Array {
    return this.#kernels.heap.bytes().slice(this.#links, this.#links + n * this.stride * 4);
  }

  /** Sets the links of nodes [0, n) from `encoded` bytes. */
  load(bytes: Uint8Array): void {
    const n = bytes.byteLength / (this.stride * 4);
    if (!Number.isInteger(n)) throw createError("CORRUPT_FILE", `${bytes.byteLength} bytes are not whole link lists of ${this.stride} i32.`);
    this.reserve(n);
    this.#kernels.heap.write(this.#links, bytes);
  }

  get bytes(): number {
    return this.#capacity * (this.stride * 4 + 2 + 8);
  }

  free(): void {
    const heap = this.#kernels.heap;
    for (const p of [this.#links, this.#visited, this.#cand]) heap.free(p);
    this.#links = this.#visited = this.#cand = 0;
    this.#capacity = 0;
    for (const s of [this.#res, this.#out, this.#allowed]) s.release();
    this.#buffer = null;
  }

  #links32(): Int32Array {
    const bytes = this.#kernels.heap.bytes();
    if (bytes.buffer !== this.#buffer) {
      this.#buffer = bytes.buffer as ArrayBuffer;
      this.#view = new Int32Array(bytes.buffer, this.#links, this.#capacity * this.stride);
    }
    return this.#view;
  }
}

/**
 * HNSW's upper layers (1 … L) in WebAssembly memory, where the search kernel (assembly/hnsw.ts
 * hnsw_search, given `offsets`) reads them, on this thread and in build workers:
 *
 *   offsets  capacity i32            node v's lists start at pool[offsets[v]], or −1 (level 0)
 *   pool     i32, grows ×1.5         node v of level L: L × (1 + m) i32, layer l at (l − 1)(1 + m):
 *                                    [count, n_0 … n_{m−1}]
 *
 * Nodes are added in node order, so the pool is their lists back to back in node order: the
 * index file's "upper" section as it is.
 */
export class UpperLayers {
  readonly m: number;
  readonly #kernels: Kernels;
  #capacity = 0;
  #offsets = 0;
  #pool = 0;
  #poolCapacity = 0;
  #used = 0;
  #buffer: ArrayBuffer | null = null;
  #offsetsView = new Int32Array(0);
  #poolView = new Int32Array(0);

  constructor(kernels: Kernels, m: number) {
    this.#kernels = kernels;
    this.m = m;
  }

  /** Room for nodes [0, n); new nodes have no upper layers. */
  reserve(n: number): void {
    if (n <= this.#capacity) return;
    const heap = this.#kernels.heap;
    const capacity = Math.max(n, Math.ceil(this.#capacity * 1.5), 16);
    const offsets = heap.alloc(capacity * 4);
    const view = heap.i32(offsets, capacity);
    view.fill(-1);
    if (this.#capacity > 0) view.set(heap.i32(this.#offsets, this.#capacity));
    heap.free(this.#offsets);
    this.#offsets = offsets;
    this.#capacity = capacity;
    this.#buffer = null;
  }

  /** Gives node v (the highest node so far) `level` empty layers. */
  add(v: number, level: number): void {
    const need = this.#used + level * (1 + this.m);
    if (need > this.#poolCapacity) {
      const heap = this.#kernels.heap;
      const capacity = Math.max(need, Math.ceil(this.#poolCapacity * 1.5), 1024);
      const pool = heap.alloc(capacity * 4);
      if (this.#used > 0) heap.bytes().copyWithin(pool, this.#pool, this.#pool + this.#used * 4);
      heap.free(this.#pool);
      this.#pool = pool;
      this.#poolCapacity = capacity;
      this.#buffer = null;
    }
    const [offsets, pool] = this.#views();
    pool.fill(0, this.#used, need);
    offsets[v] = this.#used;
    this.#used = need;
  }

  /** Where node v's list on `layer` (≥ 1) starts in `lists()`: [count, neighbours…]. */
  at(v: number, layer: number): number {
    return this.#views()[0][v]! + (layer - 1) * (1 + this.m);
  }

  /** The pool as i32 (a fresh view after any WebAssembly allocation). */
  lists(): Int32Array {
    return this.#views()[1];
  }

  /** Pointers for the kernels: offsets and pool. */
  get pointers(): { offsets: number; pool: number } {
    return { offsets: this.#offsets, pool: this.#pool };
  }

  /** Every node's lists in node order (the file's "upper" section). */
  encoded(): Int32Array {
    return this.lists().slice(0, this.#used);
  }

  /** Sets the lists of nodes [0, levels.length) from `encoded` (as `encoded()` wrote it). */
  load(levels: Uint8Array, encoded: Int32Array): void {
    this.reserve(levels.length);
    for (let v = 0; v < levels.length; v++) if (levels[v]! > 0) this.add(v, levels[v]!);
    this.lists().set(encoded.subarray(0, this.#used));
  }

  get bytes(): number {
    return (this.#capacity + this.#poolCapacity) * 4;
  }

  free(): void {
    const heap = this.#kernels.heap;
    heap.free(this.#offsets);
    heap.free(this.#pool);
    this.#offsets = this.#pool = 0;
    this.#capacity = this.#poolCapacity = this.#used = 0;
    this.#buffer = null;
  }

  #views(): [Int32Array, Int32Array] {
    const buffer = this.#kernels.heap.bytes().buffer as ArrayBuffer;
    if (buffer !== this.#buffer) {
      this.#buffer = buffer;
      this.#offsetsView = new Int32Array(buffer, this.#offsets, this.#capacity);
      this.#poolView = new Int32Array(buffer, this.#pool, this.#poolCapacity);
    }
    return [this.#offsetsView, this.#poolView];
  }
}
