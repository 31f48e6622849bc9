/**
 * HNSW — hierarchical navigable small-world graph (Malkov & Yashunin, 2016), after hnswlib.
 *
 * Every vector is a node on layer 0; a node reaches layer l with probability m^−l. A search enters
 * at the top layer's entry point, descends greedily to layer 1, then runs a best-first search with
 * a candidate list of size ef on layer 0. Inserting runs the same search (ef = efConstruction) at
 * each of the new node's layers and links it to m neighbours chosen by the diversity heuristic.
 *
 * Memory layout (flat typed arrays, node id = position):
 *
 *   levels   capacity u8                    top layer of each node
 *   layer0   GraphLayer (WebAssembly)        node v at v·(1 + 2m) i32: [count, n_0 … n_{2m−1}]
 *   upper    UpperLayers (WebAssembly)       node v with level L ≥ 1: L × (1 + m) i32, layer l at
 *                                             (l − 1)·(1 + m): [count, n_0 … n_{m−1}]
 *   store    VectorStore (WebAssembly)       node v's vector as f32 (HNSW), int8 SQ codes (HNSW_SQ)
 *                                             or 8-bit PQ codes (HNSW_PQ)
 *   rowIds   n f64                            by node id
 *
 * The bottom layer holds almost all the work, so its search runs as one WebAssembly call per
 * query (assembly/hnsw.ts: expand, skip visited, distance, heap updates); the upper layers (about
 * n/m nodes) are searched by the same kernel through UpperLayers' offsets, and a greedy descent
 * is that search with ef = 1.
 *
 * The graph is built on exact f32 distances even for HNSW_SQ / HNSW_PQ (a temporary f32 store,
 * while it fits in BUILD_F32_BYTES), so quantization affects only the search-time distances; those
 * are re-ranked exactly with refineFactor.
 *
 * File sections: "rowIds" n f64, "levels" n u8, "links0" n × (1 + 2m) i32, "upper" the upper-layer
 * arrays of the nodes with level ≥ 1 back to back in node order, "rows" the store's rows
 * (n × dim f32 | n × dim i8 | n × M u8), plus "sqLo"/"sqHi" or "pqCodebook".
 */
import { createError } from "../errors.js";
import type { Kernels } from "../kernels/kernels.js";
import { GraphLayer, UpperLayers } from "../kernels/graph.js";
import { Scratch } from "../kernels/memory.js";
import { VectorStore, type StoreSpec } from "../kernels/store.js";
import {
  allowedPositions, allowedTest, bitCount, checkDistanceType, checkK, checkPositiveInt, checkVectors, defaultSubVectors, forSpace, gatherRows, prepareQuery, RowIds, sampleRows, seededRandom, spaceOf,
} from "./common.js";
import { corruptIndex, IndexWriter, type IndexHead } from "./format.js";
import { ProductQuantizer } from "./pq.js";
import { candidateCount, emptyHits, refine } from "./refine.js";
import { ScalarQuantizer } from "./sq.js";
import type { DistanceType, HnswBuildOptions, IndexStats, SearchHits, SearchOptions, VectorIndex } from "./types.js";
import { TimeSlicer } from "../util/yield.js";
import { parallelFor, type RowParallel } from "../kernels/parallel.js";

export type HnswKind = "HNSW" | "HNSW_SQ" | "HNSW_PQ";

export const DEFAULT_M = 16;
export const DEFAULT_EF_CONSTRUCTION = 100;
export const DEFAULT_EF = 64;
/** Largest f32 copy made to build a quantized index's graph on exact distances. */
const BUILD_F32_BYTES = 512 * 2 ** 20;
/**
 * Parallel insertion (see #insertBatch): the graph is built serially up to this many nodes, then in
 * batches of at most MAX_BATCH nodes and at most 1/BATCH_SHARE of the graph so far, so a batch's
 * nodes — which do not see each other while searching — are a sliver of what they search. (From
 * 1,024 rather than 2,048 nodes: the same recall on GloVe, half the serial prefix.)
 */
const PARALLEL_FROM = 1024;
const MAX_BATCH = 512;
const BATCH_SHARE = 32;

type Quantizer = ScalarQuantizer | ProductQuantizer | undefined;

interface GraphParams {
  m: number;
  efConstruction: number;
  seed: number;
}

export class HnswIndex implements VectorIndex {
  readonly kind: HnswKind;
  readonly metric: DistanceType;
  readonly dim: number;
  readonly #kernels: Kernels;
  readonly #params: Record<string, number | string | boolean>;
  readonly #m: number;
  readonly #m0: number;
  readonly #efConstruction: number;
  /** 1 / ln(m): level = ⌊−ln(U) · mL⌋ */
  readonly #mL: number;
  readonly #random: () => number;
  readonly #rowIds: RowIds;
  /** How the store encodes rows: none (f32), SQ or PQ. */
  readonly #quantizer: Quantizer;
  /** Search-time storage. */
  readonly #store: VectorStore;
  /** Storage the graph is built on: an f32 copy while building a quantized index, else #store. */
  #graph: VectorStore;

  #size = 0;
  #entry = -1;
  #maxLevel = -1;
  #levels = new Uint8Array(0);
  readonly #layer0: GraphLayer;
  readonly #upper: UpperLayers;

  // Search scratch, reused by every search and insert (both are synchronous once started).
  readonly #batch: Int32Array;
  readonly #batchDist: Float32Array;
  readonly #linkIds: Int32Array;
  readonly #linkDist: Float32Array;
  readonly #linkChosen: Int32Array;
  /** #linkBackAll's row of each bottom-layer target in the current batch; −1 between batches. */
  #slots = new Int32Array(0);
  /** WebAssembly scratch of the neighbour heuristic over f32 rows: ids, dists, picks, distances. */
  readonly #selectScratch: Scratch;

  private constructor(kernels: Kernels, kind: HnswKind, metric: DistanceType, dim: number, quantizer: Quantizer, graph: GraphParams, rowIds: RowIds, params: Record<string, number | string | boolean>) {
    this.#kernels = kernels;
    this.#quantizer = quantizer;
    const space = spaceOf(metric);
    const spec: StoreSpec = quantizer instanceof ScalarQuantizer
      ? { kind: "sq", dim, metric: space, offset: quantizer.offset, scale: quantizer.scale }
      : quantizer
        ? { kind: "pq", dim, metric: space, M: quantizer.M, codebook: quantizer.codebook }
        : { kind: "f32", dim, metric: space };
    this.kind = kind;
    this.metric = metric;
    this.dim = dim;
    this.#m = graph.m;
    this.#m0 = 2 * graph.m;
    this.#efConstruction = graph.efConstruction;
    this.#mL = 1 / Math.log(Math.max(2, graph.m));
    this.#random = seededRandom(graph.seed);
    this.#rowIds = rowIds;
    this.#params = { m: graph.m, efConstruction: graph.efConstruction, seed: graph.seed, ...params };
    this.#store = new VectorStore(kernels, spec, Math.max(1, rowIds.size));
    this.#graph = this.#store;
    this.#batch = new Int32Array(this.#m0 + 1);
    this.#batchDist = new Float32Array(this.#m0 + 1);
    this.#linkIds = new Int32Array(this.#m0 + 1);
    this.#linkDist = new Float32Array(this.#m0 + 1);
    this.#linkChosen = new Int32Array(this.#m0);
    this.#layer0 = new GraphLayer(kernels, this.#m0, Math.max(1, rowIds.size));
    this.#upper = new UpperLayers(kernels, graph.m);
    this.#selectScratch = new Scratch(kernels.heap);
  }

  static async build(kernels: Kernels, kind: HnswKind, vectors: Float32Array, dim: number, rowIds?: Float64Array, options: HnswBuildOptions = {}): Promise<HnswIndex> {
    if (kind !== "HNSW" && kind !== "HNSW_SQ" && kind !== "HNSW_PQ") throw createError("INVALID_ARGUMENT", `Unknown HNSW kind "${String(kind)}".`);
    const metric = checkDistanceType(options.distanceType);
    const n = checkVectors(vectors, dim, rowIds);
    const m = checkPositiveInt(options.m, "m", DEFAULT_M, 255);
    const efConstruction = checkPositiveInt(options.efConstruction, "efConstruction", DEFAULT_EF_CONSTRUCTION, 100_000);
    const seed = options.seed ?? 42;
    const x = forSpace(vectors, dim, metric);
    const space = spaceOf(metric);
    const params: Record<string, number | string | boolean> = {};
    let quantizer: Quantizer;
    if (kind === "HNSW") quantizer = undefined;
    else if (kind === "HNSW_SQ") {
      options.progress?.({ phase: "train-sq", done: 0, total: 1 });
      quantizer = ScalarQuantizer.train(kernels, x, dim);
    } else {
      if (n === 0) throw createError("INVALID_ARGUMENT", "HNSW_PQ needs vectors to train its codebooks.");
      const numSubVectors = checkPositiveInt(options.numSubVectors, "numSubVectors", defaultSubVectors(dim), dim);
      const sampleRate = checkPositiveInt(options.sampleRate, "sampleRate", 256);
      const rows = sampleRows(n, 64 * sampleRate, seededRandom(seed));
      const pq = await ProductQuantizer.train(kernels, rows.length === n ? x : gatherRows(x, dim, rows), dim, {
        numSubVectors,
        maxIterations: options.maxIterations ?? 50,
        seed,
        progress: (done, total) => options.progress?.({ phase: "train-pq", done, total }),
        parallel: options.parallel,
      });
      quantizer = pq;
      params.numSubVectors = numSubVectors;
    }
    const index = new HnswIndex(kernels, kind, metric, dim, quantizer, { m, efConstruction, seed }, new RowIds(n), params);
    const exactGraph = kind !== "HNSW" && n * dim * 4 <= BUILD_F32_BYTES;
    if (exactGraph) index.#graph = new VectorStore(kernels, { kind: "f32", dim, metric: space }, n);
    try {
      await index.#addSpace(x, rowIds ?? RowIds.sequence(0, n), options.progress, options.parallel);
    } finally {
      if (index.#graph !== index.#store) index.#graph.free();
      index.#graph = index.#store;
    }
    return index;
  }

  static open(kernels: Kernels, head: IndexHead): HnswIndex {
    const { kind, metric, dim, params } = head.meta;
    let quantizer: Quantizer;
    if (kind === "HNSW") quantizer = undefined;
    else if (kind === "HNSW_SQ") quantizer = new ScalarQuantizer(head.f32("sqLo"), head.f32("sqHi"));
    else quantizer = new ProductQuantizer(dim, Number(params.numSubVectors), head.f32("pqCodebook"));
    const rowIds = RowIds.from(head.f64("rowIds"));
    const graph = { m: Number(params.m), efConstruction: Number(params.efConstruction), seed: Number(params.seed ?? 42) };
    const n = rowIds.size;
    const entry = Number(params.entry);
    const maxLevel = Number(params.maxLevel);
    if (!Number.isInteger(graph.m) || graph.m < 2 || graph.m > 512 || n !== head.meta.size) corruptIndex("its graph parameters are out of range");
    if (n > 0 ? !(Number.isInteger(entry) && entry >= 0 && entry < n) : entry !== -1) corruptIndex(`its entry point ${String(params.entry)} is not a node`);
    const levels = head.bytes("levels");
    const links0 = head.i32("links0");
    const upper = head.i32("upper");
    if (levels.length !== n || links0.length !== n * (1 + 2 * graph.m)) corruptIndex("its graph sections do not match its size");
    // Links are followed blindly by the search kernel: every id must name a node.
    const validLinks = (list: Int32Array, degree: number): boolean => {
      for (let at = 0; at < list.length; at += degree + 1) {
        const count = list[at]!;
        if (count < 0 || count > degree) return false;
        for (let j = 1; j <= count; j++) if (list[at + j]! < 0 || list[at + j]! >= n) return false;
      }
      return true;
    };
    let upperLength = 0;
    for (let v = 0; v < n; v++) upperLength += levels[v]! * (1 + graph.m);
    if (upperLength !== upper.length || (n > 0 && levels[entry] !== maxLevel) || levels.some((l) => l > maxLevel)) corruptIndex("its levels disagree with its upper layers or entry point");
    if (!validLinks(links0, 2 * graph.m) || !validLinks(upper, graph.m)) corruptIndex("a link names no node");
    const index = new HnswIndex(kernels, kind as HnswKind, metric as DistanceType, dim, quantizer, graph, rowIds, { ...params });
    index.#store.appendEncoded(head.bytes("rows"));
    if (index.#store.size !== n) corruptIndex("its vectors do not match its size");
    index.#reserve(n);
    index.#levels.set(levels);
    index.#layer0.load(new Uint8Array(links0.buffer, links0.byteOffset, links0.byteLength));
    index.#upper.load(levels, upper);
    index.#size = n;
    index.#entry = entry;
    index.#maxLevel = maxLevel;
    return index;
  }

  get size(): number {
    return this.#size;
  }

  bytes(): number {
    return this.#store.bytes + this.#layer0.bytes + this.#size * (8 + 1) + this.#upper.bytes;
  }

  stats(): IndexStats {
    return { kind: this.kind, metric: this.metric, dim: this.dim, size: this.size, memoryBytes: this.bytes(), params: { ...this.#params, maxLevel: this.#maxLevel } };
  }

  rowId(position: number): number {
    return this.#rowIds.get(position);
  }

  async search(query: Float32Array | ArrayLike<number>, k: number, options: SearchOptions = {}): Promise<SearchHits> {
    checkK(k);
    const q = prepareQuery(query, this.dim, this.metric);
    const need = candidateCount(k, options);
    if (k === 0 || this.#size === 0) return emptyHits();
    const ef = Math.max(need, checkPositiveInt(options.ef, "ef", DEFAULT_EF));
    const test = allowedTest(options.allowed, this.#rowIds);
    const store = this.#store;
    store.setQuery(q);

    let positions: Int32Array;
    let distances: Float32Array;
    // A bitmap (e.g. the live rows, cached by the caller) is tested per visited node; its allowed
    // positions are listed only when needed (a selective filter), so a query costs what it visits.
    const given = options.allowed instanceof Uint8Array ? options.allowed : undefined;
    let allowed = given === undefined && test ? allowedPositions(test, this.#size) : undefined;
    const allowedCount = given !== undefined ? bitCount(given, this.#size) : allowed?.length;
    const listAllowed = (): Int32Array => (allowed ??= positionsOf(given!, this.#size));
    // A selective filter leaves the graph search little to walk through: scan the allowed rows.
    // Exact scan cost ≈ allowed rows; filtered graph search ≈ ef·2m / selectivity distances.
    const scanAllowed = allowedCount !== undefined && allowedCount * allowedCount <= ef * this.#m0 * this.#size;
    if (!scanAllowed) {
      this.#descend(store, 0);
      const bitmap = given ?? (allowed === undefined ? undefined : bitmapOf(allowed, this.#size));
      const count = this.#layer0.search(store, this.#ep, this.#epDist, ef, bitmap);
      const got = Math.min(need, count);
      positions = this.#layer0.ids.slice(0, got);
      distances = this.#layer0.distances.slice(0, got);
    }
    if (allowedCount !== undefined && (scanAllowed || positions!.length < Math.min(need, allowedCount))) {
      const top = store.nearest(need, listAllowed());
      positions = top.index;
      distances = top.distance;
    }
    const hits = { rows: this.#rowIds.lookup(positions!), positions: positions!, distances: distances! };
    if (need > k) return refine(this.#kernels, this.metric, this.dim, Float32Array.from(query as ArrayLike<number>), hits, k, options);
    return hits;
  }

  async add(vectors: Float32Array, rowIds: Float64Array): Promise<void> {
    checkVectors(vectors, this.dim, rowIds);
    await this.#addSpace(forSpace(vectors, this.dim, this.metric), rowIds);
  }

  async serialize(): Promise<Uint8Array> {
    const n = this.#size;
    const w = new IndexWriter();
    w.section("rowIds", this.#rowIds.toArray());
    w.section("levels", this.#levels.subarray(0, n));
    w.section("links0", this.#layer0.encoded(n));
    w.section("upper", this.#upper.encoded());
    w.section("rows", this.#store.encoded());
    const quantizer = this.#quantizer;
    if (quantizer instanceof ScalarQuantizer) {
      w.section("sqLo", quantizer.lo);
      w.section("sqHi", quantizer.hi);
    } else if (quantizer) w.section("pqCodebook", quantizer.codebook);
    const params = { ...this.#params, entry: this.#entry, maxLevel: this.#maxLevel };
    return w.finish({ kind: this.kind, metric: this.metric, dim: this.dim, size: n, params });
  }

  free(): void {
    this.#store.free();
    this.#layer0.free();
    this.#upper.free();
    this.#selectScratch.release();
  }

  // ── insertion ─────────────────────────────────────────────────────────────────────────────

  /**
   * Appends vectors already in index space (normalized for cosine) and links each into the graph.
   * With `parallel` (threads over these kernels' shared memory) and an f32 graph, nodes past
   * PARALLEL_FROM are inserted in batches whose searches run in the workers (#insertBatch).
   */
  async #addSpace(x: Float32Array, rowIds: Float64Array, progress?: HnswBuildOptions["progress"], parallel?: RowParallel): Promise<void> {
    const n = x.length / this.dim;
    if (n === 0) return;
    const first = this.#size;
    this.#reserve(first + n);
    this.#store.append(x);
    if (this.#graph !== this.#store) this.#graph.append(x);
    this.#rowIds.append(rowIds);
    // Without shared memory the graph would have to be copied to the workers batch by batch: the
    // insertion stays on this thread (docs/INDEXES.md, "Builds on several cores").
    const shared = parallelFor(this.#kernels, parallel);
    const p = this.#graph.spec.kind === "f32" && shared?.transport === "shared" ? shared : undefined;
    const slicer = new TimeSlicer();
    const batchAt = (i: number): number => (p && first + i >= PARALLEL_FROM ? Math.min(n - i, MAX_BATCH, Math.floor((first + i) / BATCH_SHARE)) : 1);
    let reported = 0;
    for (let i = 0; i < n; ) {
      const size = first + i;
      const batch = batchAt(i);
      if (batch > 1) await this.#insertBatch(p!, size, batch);
      else {
        this.#insert(size, x.subarray(i * this.dim, (i + 1) * this.dim));
        this.#size = size + 1;
      }
      i += batch;
      if (progress && (i - reported >= 1024 || i === n)) {
        reported = i;
        progress({ phase: "insert", done: i, total: n });
      }
      // A batch awaits the workers twice: the event loop has had its turns.
      if (batch === 1 && i % 32 === 0 && slicer.due()) await slicer.yieldNow();
    }
  }

  /**
   * Inserts nodes [from, from + count) (their vectors already in the store) with all their
   * searches in the workers, in two steps. Levels are drawn in node order, as a serial build draws them.
   *
   *   1. workers (hnsw_link, one node per row): the greedy descent from the entry point to the
   *      node's level, then on each of its layers, top down, the efConstruction search of the
   *      layer as it stood before the batch and the heuristic's pick of m neighbours, written as
   *      the node's own list on that layer (nothing links to a batch node yet, so no search reads
   *      those lists, and every other list is only read)
   *   2. workers (hnsw_backlink, one (node, layer) list per row): the back links (#linkBackAll)
   *
   * This thread only draws the levels, gives the upper nodes their (empty) lists, moves the entry
   * point, and groups the back links by list between the steps.
   *
   * hnswlib inserts concurrently with a lock per node instead; batches keep the result
   * deterministic for a given seed, whatever the number of workers. What the batch costs is that
   * its nodes do not find each other in step 1, on any layer, and that a full list re-picks once
   * for all its new neighbours: a batch is at most 1/BATCH_SHARE of the graph (and of each layer,
   * on average), and the recall of the graph is the serial one's within noise
   * (test/unit/parallel-build.test.ts, on GloVe).
   */
  async #insertBatch(p: RowParallel, from: number, count: number): Promise<void> {
    const nodes = new Int32Array(count * 2);
    for (let j = 0; j < count; j++) {
      const level = this.#drawLevel();
      this.#levels[from + j] = level;
      if (level > 0) this.#upper.add(from + j, level);
      nodes[j * 2] = from + j;
      nodes[j * 2 + 1] = level;
    }
    const heap = this.#kernels.heap;
    const buffer = heap.alloc(nodes.byteLength);
    try {
      heap.write(buffer, nodes);
      const args = this.#graph.kernelArgs();
      const { offsets, pool } = this.#upper.pointers;
      await p.runRows({
        kernel: "hnsw_link", links: this.#layer0.linksPtr, stride: this.#layer0.stride, capacity: this.#layer0.capacity, offsets, pool,
        vectors: args.rows, dim: this.dim, metric: args.metric, ef: this.#efConstruction, m: this.#m, nodes: buffer,
        entry: this.#entry, top: this.#maxLevel,
      }, count);
    } finally {
      heap.free(buffer);
    }
    await this.#linkBackAll(p, from, count);
    for (let j = 0; j < count; j++) {
      if (nodes[j * 2 + 1]! <= this.#maxLevel) continue;
      this.#entry = from + j;
      this.#maxLevel = nodes[j * 2 + 1]!;
    }
    this.#size = from + count;
  }

  /**
   * The back links of the batch [from, from + count), in the workers: each existing node v takes
   * all its new neighbours on a layer at once, in node order — appended while its list has room,
   * else the heuristic re-picks among old and new (a serial build re-picks once per new
   * neighbour). Each worker writes only the lists it claimed, and nothing else reads links meanwhile.
   */
  async #linkBackAll(p: RowParallel, from: number, count: number): Promise<void> {
    // Group the (list, new node) pairs by list — a target node on a layer — in node order: bottom
    // layer lists through #slots (target → row, −1 between batches), the few upper ones by key.
    const capacity = this.#levels.length;
    if (this.#slots.length < capacity) this.#slots = new Int32Array(capacity).fill(-1);
    const slots = this.#slots;
    const upper = new Map<number, number>();
    const room = count * this.#m * (this.#maxLevel + 1); // pairs at most: m per node and layer
    const lists = new Int32Array(room * 2); // per row: target, layer
    const sizes = new Int32Array(room);
    const pairRow = new Int32Array(room);
    const pairNode = new Int32Array(room);
    const picks = this.#linkIds;
    let rows = 0;
    let total = 0;
    for (let j = 0; j < count; j++) {
      for (let layer = Math.min(this.#levels[from + j]!, this.#maxLevel); layer >= 0; layer--) {
        const picked = this.#getLinks(from + j, layer, picks);
        for (let i = 0; i < picked; i++) {
          const v = picks[i]!;
          let row = layer === 0 ? slots[v]! : upper.get(layer * capacity + v) ?? -1;
          if (row < 0) {
            row = rows++;
            lists[row * 2] = v;
            lists[row * 2 + 1] = layer;
            if (layer === 0) slots[v] = row;
            else upper.set(layer * capacity + v, row);
          }
          sizes[row]!++;
          pairRow[total] = row;
          pairNode[total++] = from + j;
        }
      }
    }
    if (total === 0) return;
    const table = new Int32Array(rows * 4); // [v, layer, at, count]
    let longest = 0;
    for (let r = 0, at = 0; r < rows; r++) {
      table[r * 4] = lists[r * 2]!;
      table[r * 4 + 1] = lists[r * 2 + 1]!;
      table[r * 4 + 2] = at;
      at += sizes[r]!;
      longest = Math.max(longest, sizes[r]!);
      if (lists[r * 2 + 1] === 0) slots[lists[r * 2]!] = -1;
    }
    const ids = new Int32Array(total);
    for (let q = 0; q < total; q++) {
      const r = pairRow[q]! * 4;
      ids[table[r + 2]! + table[r + 3]!++] = pairNode[q]!;
    }
    const heap = this.#kernels.heap;
    const buffer = heap.alloc(rows * 16 + total * 4);
    try {
      heap.write(buffer, table);
      heap.write(buffer + rows * 16, ids);
      const args = this.#graph.kernelArgs();
      const { offsets, pool } = this.#upper.pointers;
      await p.runRows({
        kernel: "hnsw_backlink", links: this.#layer0.linksPtr, stride: this.#layer0.stride, offsets, pool, m: this.#m,
        vectors: args.rows, dim: this.dim, metric: args.metric, most: longest, targets: buffer, incoming: buffer + rows * 16,
      }, rows);
    } finally {
      heap.free(buffer);
    }
  }

  /** A new node's top layer: ⌊−ln(U) · mL⌋, at most 255. */
  #drawLevel(): number {
    return Math.min(255, Math.floor(-Math.log(1 - this.#random()) * this.#mL));
  }

  #insert(node: number, vector: Float32Array, level = this.#drawLevel()): void {
    this.#levels[node] = level;
    this.#layer0.setNeighbours(node, this.#batch, 0);
    if (level > 0) this.#upper.add(node, level);
    if (this.#entry < 0) {
      this.#entry = node;
      this.#maxLevel = level;
      return;
    }
    const store = this.#graph;
    store.setQuery(vector);
    this.#descend(store, level);
    for (let layer = Math.min(level, this.#maxLevel); layer >= 0; layer--) {
      store.setQuery(vector); // linking below compared stored rows with each other
      const count = this.#searchLayer(store, this.#ep, this.#epDist, this.#efConstruction, layer);
      const ids = this.#layer0.ids.slice(0, count);
      const dists = this.#layer0.distances.slice(0, count);
      this.#ep = ids[0]!;
      this.#epDist = dists[0]!;
      // Neighbours of the new node: the heuristic's pick of m among the efConstruction found.
      const chosen = new Int32Array(this.#m);
      const picked = this.#selectNeighbours(store, ids, dists, ids.length, this.#m, chosen);
      this.#setLinks(node, layer, chosen, picked);
      for (let j = 0; j < picked; j++) this.#linkBack(store, chosen[j]!, node, layer);
    }
    if (level > this.#maxLevel) {
      this.#entry = node;
      this.#maxLevel = level;
    }
  }

  /**
   * hnswlib's heuristic: walk the candidates nearest first and keep one only if it is nearer to
   * the base than to every neighbour kept so far — so the links point in diverse directions.
   * `ids`/`dists` are ascending by distance to the base. Writes up to `max` ids to `out`.
   */
  #selectNeighbours(store: VectorStore, ids: Int32Array, dists: Float32Array, count: number, max: number, out: Int32Array): number {
    if (count <= max) {
      out.set(ids.subarray(0, count));
      return count;
    }
    if (store.spec.kind === "f32") {
      // One kernel call (assembly/hnsw.ts hnsw_select: the same gather kernels, the same picks)
      // instead of one host→WebAssembly round trip per candidate.
      const heap = this.#kernels.heap;
      const at = this.#selectScratch.reserve((2 * count + 2 * max) * 4);
      heap.i32(at, count).set(ids.subarray(0, count));
      heap.f32(at + count * 4, count).set(dists.subarray(0, count));
      const args = store.kernelArgs();
      const outPtr = at + count * 8;
      const kept = this.#kernels.exports.hnsw_select(args.rows, this.dim, args.metric, at, at + count * 4, count, max, outPtr, outPtr + max * 4);
      out.set(heap.i32(outPtr, kept));
      return kept;
    }
    const between = this.#batchDist;
    let kept = 0;
    for (let i = 0; i < count && kept < max; i++) {
      const e = ids[i]!;
      let good = true;
      if (kept > 0) {
        store.setQueryRow(e);
        store.distances(out, kept, between);
        for (let j = 0; j < kept; j++) {
          if (between[j]! < dists[i]!) {
            good = false;
            break;
          }
        }
      }
      if (good) out[kept++] = e;
    }
    return kept;
  }

  /** Adds `node` to the links of `v` on `layer`; a full list is re-chosen by the heuristic. */
  #linkBack(store: VectorStore, v: number, node: number, layer: number): void {
    const max = layer === 0 ? this.#m0 : this.#m;
    if (layer === 0 ? this.#layer0.addNeighbour(v, node) : this.#addUpper(v, layer, node)) return;
    // Full: v keeps the heuristic's pick among its links and the new node.
    const ids = this.#linkIds;
    const count = this.#getLinks(v, layer, ids);
    ids[count] = node;
    const dists = this.#linkDist;
    store.setQueryRow(v);
    store.distances(ids, count + 1, dists);
    sortByDistance(ids, dists, count + 1);
    const chosen = this.#linkChosen;
    const picked = this.#selectNeighbours(store, ids, dists, count + 1, max, chosen);
    this.#setLinks(v, layer, chosen, picked);
  }

  #addUpper(v: number, layer: number, node: number): boolean {
    const links = this.#upper.lists();
    const base = this.#upper.at(v, layer);
    const count = links[base]!;
    if (count >= this.#m) return false;
    links[base + 1 + count] = node;
    links[base] = count + 1;
    return true;
  }

  /** Copies v's links on `layer` into out; returns the count. */
  #getLinks(v: number, layer: number, out: Int32Array): number {
    if (layer === 0) return this.#layer0.neighbours(v, out);
    const links = this.#upper.lists();
    const base = this.#upper.at(v, layer);
    const count = links[base]!;
    for (let j = 0; j < count; j++) out[j] = links[base + 1 + j]!;
    return count;
  }

  #setLinks(v: number, layer: number, ids: Int32Array, count: number): void {
    if (layer === 0) return this.#layer0.setNeighbours(v, ids, count);
    const links = this.#upper.lists();
    const base = this.#upper.at(v, layer);
    links[base] = count;
    links.set(ids.subarray(0, count), base + 1);
  }

  // ── search ────────────────────────────────────────────────────────────────────────────────

  #ep = 0;
  #epDist = 0;

  /**
   * Greedy descent from the entry point to layer `to` + 1, for the store's current query: a
   * search with ef = 1 per layer (assembly/hnsw.ts). Leaves the nearest node in #ep.
   */
  #descend(store: VectorStore, to: number): void {
    const batch = this.#batch;
    const dist = this.#batchDist;
    batch[0] = this.#entry;
    store.distances(batch, 1, dist);
    let ep = this.#entry;
    let epDist = dist[0]!;
    for (let layer = this.#maxLevel; layer > to; layer--) {
      this.#searchLayer(store, ep, epDist, 1, layer);
      ep = this.#layer0.ids[0]!;
      epDist = this.#layer0.distances[0]!;
    }
    this.#ep = ep;
    this.#epDist = epDist;
  }

  /**
   * Best-first search of an upper layer (≥ 1) from (ep, epDist) with a result list of size ef —
   * the bottom layer's kernel over the upper layers' lists (layer 0: the bottom layer). Leaves the
   * results in #layer0.ids / .distances, nearest first, and returns their count.
   */
  #searchLayer(store: VectorStore, ep: number, epDist: number, ef: number, layer: number): number {
    return this.#layer0.search(store, ep, epDist, ef, undefined, layer === 0 ? undefined : { layers: this.#upper, layer });
  }

  #reserve(n: number): void {
    if (n <= this.#levels.length) return;
    const capacity = Math.max(n, Math.ceil(this.#levels.length * 1.5), 16);
    const levels = new Uint8Array(capacity);
    levels.set(this.#levels);
    this.#levels = levels;
    this.#layer0.reserve(capacity);
    this.#upper.reserve(capacity);
  }
}

/** Sorts ids[0..n) by dists ascending, in place (insertion sort: lists are at most 2m + 1 long). */
function sortByDistance(ids: Int32Array, dists: Float32Array, n: number): void {
  for (let i = 1; i < n; i++) {
    const d = dists[i]!;
    const id = ids[i]!;
    let j = i - 1;
    while (j >= 0 && dists[j]! > d) {
      dists[j + 1] = dists[j]!;
      ids[j + 1] = ids[j]!;
      j--;
    }
    dists[j + 1] = d;
    ids[j + 1] = id;
  }
}

/** Bitmap over [0, n) with the given positions set. */
function positionsOf(bits: Uint8Array, n: number): Int32Array {
  const out: number[] = [];
  for (let p = 0; p < n; p++) if ((bits[p >> 3]! >> (p & 7)) & 1) out.push(p);
  return Int32Array.from(out);
}

function bitmapOf(positions: Int32Array, n: number): Uint8Array {
  const bits = new Uint8Array(Math.ceil(n / 8));
  for (let i = 0; i < positions.length; i++) bits[positions[i]! >> 3]! |= 1 << (positions[i]! & 7);
  return bits;
}
