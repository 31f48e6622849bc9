/**
 * Row-parallel kernel calls, for index builds on several threads: one kernel over disjoint row
 * ranges, each range's output written in place. A row's output depends on that row alone (its
 * nearest centroid, its PQ or SQ code), so the bytes written are the same however the rows are
 * split and whichever thread runs which range — a parallel build is bit for bit the serial one.
 *
 * The scan pool runs these over shared WebAssembly memory (src/pool/pool.ts `runRows`); every
 * pointer in a task is into the memory of the runner's `kernels`, allocated by that thread. Without
 * shared memory the same kernels run in the workers over rows copied to them once (`hold`).
 *
 *   kmeans_assign  x = rows of `width` f32 at row stride `stride` floats; c = k × width;
 *                  assign n i32, dist n f32                 scratch k·(width + 1) f32 per thread
 *   kmeanspp_seed  k-means++ seeding (kmeanspp.ts): "rows" are its ranges, a block of one round
 *                  each; a range waits for its round to open, so ranges are claimed one at a time
 *   pq_encode      x = n × dim f32; codebook M × ksub × dsub (ksub 256: 8-bit codes, 16: 4-bit);
 *                  codes n × M u8                           scratch ksub·(dim + M) f32 per thread
 *   pq_encode_residual  as pq_encode over x_r − c_{assign_r} (assign n i32, centroids k × dim f32)
 *                                                           scratch as pq_encode + 256 × dim f32
 *   sq_encode      x = n × dim f32; offset, invScale dim f32; codes n × dim i8   no scratch
 *   hnsw_link      one HNSW insertion per row: nodes = rows × [node i32, level i32]; the greedy
 *                  descent (hnsw_search with ef 1) from `entry` at layer `top` to the node's level,
 *                  then on each of its layers the efConstruction search and the
 *                  heuristic's pick of m, written as the node's own list there (which nothing links
 *                  to yet: every other list is only read). Bottom layer `links` (capacity × stride
 *                  i32), upper layers `offsets` / `pool` (kernels/graph.ts UpperLayers), over f32
 *                  `vectors` (capacity × dim, metric 0 l2 / 1 dot)
 *                  scratch: [epoch i32, pad] | visited capacity u16 | cand (capacity + 1) pairs |
 *                  res (ef + 1 + stride) pairs | found ef i32 + ef f32 | tmp max(m, 2) f32
 *   hnsw_backlink  adds new nodes to the links of existing ones, one target list per row (written
 *                  by its row alone): targets = rows × [v, layer, at, count] i32 naming `incoming`
 *                  i32[at .. at + count); graph as hnsw_link's; a list with room takes them
 *                  all, a full one keeps the heuristic's pick among old and new (as a serial insert
 *                  re-picks). scratch: ids, dists (stride − 1 + most) | out, tmp (stride − 1)
 */
import type { KernelExports } from "./abi.js";
import type { Kernels } from "./kernels.js";
import { seedRange, type SeedTask } from "./kmeanspp.js";

export type RowTask =
  | { kernel: "kmeans_assign"; x: number; stride: number; width: number; c: number; k: number; metric: number; assign: number; dist: number }
  | SeedTask
  | { kernel: "pq_encode"; x: number; dim: number; M: number; ksub: PqKsub; codebook: number; codes: number }
  | { kernel: "pq_encode_residual"; x: number; dim: number; M: number; ksub: PqKsub; codebook: number; codes: number; assign: number; centroids: number; k: number }
  | { kernel: "sq_encode"; x: number; dim: number; offset: number; invScale: number; codes: number }
  | {
    kernel: "hnsw_link"; links: number; stride: number; capacity: number; offsets: number; pool: number; vectors: number; dim: number; metric: number;
    ef: number; m: number; nodes: number; entry: number; top: number;
  }
  | { kernel: "hnsw_backlink"; links: number; stride: number; offsets: number; pool: number; m: number; vectors: number; dim: number; metric: number; most: number; targets: number; incoming: number };

/** Centroids per PQ sub-space: 256 (8-bit codes, assembly/pq.ts) or 16 (4-bit, assembly/pq4.ts). */
export type PqKsub = 16 | 256;

/**
 * Something that runs build work across threads: the scan pool.
 *
 * - "shared": `runRows` runs a RowTask whose pointers are into `kernels`' (shared) memory.
 * - "message": no shared memory; `hold` copies rows to the workers once (each keeps its part, in
 *   its own WebAssembly memory, until `release`), and every step after that sends only the small
 *   inputs (centroids, codebook) and gets its part's outputs back.
 *
 * Either way every row's output is what one thread computes for it, so the build is the same bytes.
 */
export interface RowParallel {
  /** The kernels of the thread that drives the build (for "shared", the memory tasks point into). */
  readonly kernels: Kernels;
  /** Threads the work is split over. */
  readonly workers: number;
  readonly transport: "shared" | "message";
  /** Shared: runs `task` over rows [0, rows), split into ranges that idle threads take in turn. */
  runRows(task: RowTask, rows: number): Promise<void>;
  /** Message: copies `data` (n × dim f32) to the workers, split into one contiguous part each. */
  hold(data: Float32Array, dim: number): Promise<HeldRows>;
  /**
   * Whole k-means runs, one per task, on whichever thread is free (PQ sub-spaces: each trains on
   * its own columns). Each run is `kmeans()` on one thread with these options, so its centroids
   * are the single-thread ones bit for bit. `done` is called as each run finishes.
   */
  kmeansRuns(runs: KMeansRun[], done?: (finished: number) => void): Promise<Float32Array[]>;
}

/** One k-means over dense rows (n × width f32), l2, as src/ann/kmeans.ts runs it. */
export interface KMeansRun {
  rows: Float32Array;
  width: number;
  k: number;
  maxIterations: number;
  seed: number;
}

/** Rows copied to message-passing workers (RowParallel.hold); the outputs are in row order. */
export interface HeldRows {
  readonly rows: number;
  /** kmeans_assign over columns [offset, offset + width) of each row: nearest of k centroids (k × width). */
  assign(centroids: Float32Array, k: number, metric: number, offset: number, width: number): Promise<{ assign: Int32Array; dist: Float32Array }>;
  pqEncode(codebook: Float32Array, M: number, ksub: PqKsub): Promise<Uint8Array>;
  /**
   * pqEncode of the residuals x_r − c_{assign_r}, formed in the workers from the rows they hold:
   * each is sent its part's assignments and the centroids (k × dim), not residual rows.
   */
  pqEncodeResidual(codebook: Float32Array, M: number, ksub: PqKsub, assign: Int32Array, centroids: Float32Array): Promise<Uint8Array>;
  sqEncode(offset: Float32Array, invScale: Float32Array): Promise<Int8Array>;
  /** The workers drop their parts. */
  release(): void;
}

/** The runner to use for `kernels`, or undefined when rows must run on this thread. */
export function parallelFor(kernels: Kernels, parallel: RowParallel | undefined): RowParallel | undefined {
  return parallel !== undefined && parallel.kernels === kernels && parallel.workers > 0 ? parallel : undefined;
}

/** Bytes of scratch one thread needs for `task`. */
export function rowTaskScratch(task: RowTask): number {
  if (task.kernel === "kmeans_assign") return task.k * (task.width + 1) * 4;
  if (task.kernel === "pq_encode") return task.ksub * (task.dim + task.M) * 4;
  if (task.kernel === "pq_encode_residual") return task.ksub * (task.dim + task.M) * 4 + RESIDUAL_ROWS * task.dim * 4;
  if (task.kernel === "hnsw_link") return hnswLayout(task).total;
  if (task.kernel === "hnsw_backlink") return (task.stride - 1 + task.most) * 8 + (task.stride - 1) * 8;
  return 0;
}

/** Leading bytes of a thread's scratch that must start zeroed (HNSW's epoch and visited marks). */
export function rowTaskZeroed(task: RowTask): number {
  return task.kernel === "hnsw_link" ? hnswLayout(task).cand : 0;
}

function hnswLayout(t: Extract<RowTask, { kernel: "hnsw_link" }>): { visited: number; cand: number; res: number; found: number; total: number } {
  const align = (b: number): number => (b + 15) & ~15;
  const visited = 16;
  const cand = visited + align(t.capacity * 2);
  const res = cand + align((t.capacity + 1) * 8);
  const found = res + align((t.ef + 1 + t.stride) * 8);
  return { visited, cand, res, found, total: found + t.ef * 8 + Math.max(t.m, 2) * 4 };
}

/** Runs rows [first, first + count) of `task` with `scratch` (rowTaskScratch bytes) of this thread's own. */
export function runRowTask(w: KernelExports, task: RowTask, first: number, count: number, scratch: number): void {
  if (count <= 0) return;
  if (task.kernel === "kmeans_assign") {
    w.kmeans_assign(task.x + first * task.stride * 4, count, task.width, task.stride, task.c, task.k, task.metric, scratch, task.assign + first * 4, task.dist + first * 4);
  } else if (task.kernel === "kmeanspp_seed") {
    for (let c = first; c < first + count; c++) seedRange(w, task, c);
  } else if (task.kernel === "pq_encode") {
    pqEncoder(w, task.ksub)(task.x + first * task.dim * 4, count, task.dim, task.M, task.codebook, scratch, task.codes + first * task.M);
  } else if (task.kernel === "pq_encode_residual") {
    pqEncodeResidual(w, task, first, count, scratch);
  } else if (task.kernel === "sq_encode") {
    w.sq_encode(task.x + first * task.dim * 4, count, task.dim, task.offset, task.invScale, task.codes + first * task.dim);
  } else if (task.kernel === "hnsw_link") {
    hnswLink(w, task, first, count, scratch);

  } else {
    hnswBacklink(w, task, first, count, scratch);
  }
}

/** The encoder for `ksub` centroids per sub-space (the same one quantize.ts's pqEncode picks). */
function pqEncoder(w: KernelExports, ksub: PqKsub): KernelExports["pq_encode"] {
  return ksub === 16 ? w.pq4_encode : w.pq_encode;
}

/** Rows whose residuals a thread forms at a time before encoding them (scratch RESIDUAL_ROWS × dim f32). */
const RESIDUAL_ROWS = 256;

/**
 * PQ codes of the residuals x_r − c_{assign_r}: formed here RESIDUAL_ROWS rows at a time, by the
 * same f32 subtraction as `residuals` (src/ann/ivf-codecs.ts), then pq_encode — the same codes.
 */
function pqEncodeResidual(w: KernelExports, t: Extract<RowTask, { kernel: "pq_encode_residual" }>, first: number, count: number, scratch: number): void {
  const dim = t.dim;
  const out = scratch + t.ksub * (dim + t.M) * 4;
  const encode = pqEncoder(w, t.ksub);
  for (let a = first; a < first + count; a += RESIDUAL_ROWS) {
    const rows = Math.min(RESIDUAL_ROWS, first + count - a);
    const buffer = w.memory.buffer;
    const x = new Float32Array(buffer, t.x + a * dim * 4, rows * dim);
    const assign = new Int32Array(buffer, t.assign + a * 4, rows);
    const c = new Float32Array(buffer, t.centroids, t.k * dim);
    const r = new Float32Array(buffer, out, rows * dim);
    for (let j = 0; j < rows; j++) {
      const o = j * dim;
      const co = assign[j]! * dim;
      for (let i = 0; i < dim; i++) r[o + i] = x[o + i]! - c[co + i]!;
    }
    encode(out, rows, dim, t.M, t.codebook, scratch, t.codes + a * t.M);
  }
}

/** Where node v's list on `layer` is: the bottom layer node-major, an upper one through the offsets. */
function listOf(w: KernelExports, t: { links: number; stride: number; offsets: number; pool: number; m: number }, v: number, layer: number): number {
  if (layer === 0) return t.links + v * t.stride * 4;
  return t.pool + (new Int32Array(w.memory.buffer, t.offsets + v * 4, 1)[0]! + (layer - 1) * (1 + t.m)) * 4;
}

function hnswBacklink(w: KernelExports, t: Extract<RowTask, { kernel: "hnsw_backlink" }>, first: number, count: number, scratch: number): void {
  const room = t.stride - 1 + t.most;
  const ids = scratch;
  const dists = scratch + room * 4;
  const out = scratch + room * 8;
  const tmp = out + (t.stride - 1) * 4;
  const rowBytes = t.dim * 4;
  for (let r = first; r < first + count; r++) {
    const buffer = w.memory.buffer;
    const [v, layer, at, k] = new Int32Array(buffer, t.targets + r * 16, 4) as unknown as [number, number, number, number];
    const max = layer === 0 ? t.stride - 1 : t.m;
    const list = new Int32Array(buffer, listOf(w, t, v, layer), max + 1);
    const incoming = new Int32Array(buffer, t.incoming + at * 4, k);
    const have = list[0]!;
    if (have + k <= max) {
      list.set(incoming, 1 + have);
      list[0] = have + k;
      continue;
    }
    const n = have + k;
    const idv = new Int32Array(buffer, ids, n);
    idv.set(list.subarray(1, 1 + have));
    idv.set(incoming, have);
    (t.metric === 0 ? w.l2_f32_gather : w.dot_f32_gather)(t.vectors + v * rowBytes, t.vectors, ids, n, t.dim, dists);
    // Ascending by distance to v, ties earlier first: the host's insertion sort (sortByDistance).
    const dv = new Float32Array(buffer, dists, n);
    for (let i = 1; i < n; i++) {
      const d = dv[i]!;
      const id = idv[i]!;
      let j = i - 1;
      for (; j >= 0 && dv[j]! > d; j--) {
        dv[j + 1] = dv[j]!;
        idv[j + 1] = idv[j]!;
      }
      dv[j + 1] = d;
      idv[j + 1] = id;
    }
    const kept = w.hnsw_select(t.vectors, t.dim, t.metric, ids, dists, n, max, out, tmp);
    list.set(new Int32Array(buffer, out, kept), 1);
    list[0] = kept;
  }
}

function hnswLink(w: KernelExports, t: Extract<RowTask, { kernel: "hnsw_link" }>, first: number, count: number, scratch: number): void {
  const l = hnswLayout(t);
  const found = scratch + l.found;
  const res = scratch + l.res;
  const tmp = found + t.ef * 8;
  for (let r = first; r < first + count; r++) {
    const [node, level] = new Int32Array(w.memory.buffer, t.nodes + r * 8, 2) as unknown as [number, number];
    const q = t.vectors + node * t.dim * 4;
    // The entry point's distance, then the descent: an ef-1 search per layer above the node's level.
    new Int32Array(w.memory.buffer, tmp, 1)[0] = t.entry;
    (t.metric === 0 ? w.l2_f32_gather : w.dot_f32_gather)(q, t.vectors, tmp, 1, t.dim, tmp + 4);
    let ep = t.entry;
    let epDist = new Float32Array(w.memory.buffer, tmp + 4, 1)[0]!;
    for (let layer = t.top; layer >= 0; layer--) {
      const ef = layer > level ? 1 : t.ef;
      const head = new Int32Array(w.memory.buffer, scratch, 1);
      let epoch = head[0]! + 1;
      if (epoch === 65_536) {
        new Uint8Array(w.memory.buffer, scratch + l.visited, t.capacity * 2).fill(0);
        epoch = 1;
      }
      head[0] = epoch;
      const bottom = layer === 0;
      const n = w.hnsw_search(
        bottom ? t.links : t.pool, bottom ? t.stride : 1 + t.m, bottom ? 0 : t.offsets, layer, scratch + l.visited, epoch, 0,
        0, t.metric, t.vectors, t.dim, 0, q, 0, 0, 0, ep, epDist, ef, scratch + l.cand, res, res + (ef + 1) * 8, found, found + ef * 4,
      );
      if (layer <= level) {
        const list = listOf(w, t, node, layer);
        const picked = w.hnsw_select(t.vectors, t.dim, t.metric, found, found + ef * 4, n, t.m, list + 4, tmp);
        new Int32Array(w.memory.buffer, list, 1)[0] = picked;
      }
      // The next layer down starts from the nearest node this one found.
      ep = new Int32Array(w.memory.buffer, found, 1)[0]!;
      epDist = new Float32Array(w.memory.buffer, found + ef * 4, 1)[0]!;
    }
  }
}

/** Rows per round of the host-array helpers below (as CHUNK_ROWS in quantize.ts): bounds their memory. */
const ROUND_ROWS = 65_536;

/**
 * Runs `task(x, rows, first)` over host rows copied into `p.kernels`' memory a round at a time,
 * with `out` bytes per row of output the task writes at `outPtr`, copied back into `into`.
 */
async function rounds(
  p: RowParallel, data: Float32Array, dim: number, outBytesPerRow: number[], run: (x: number, rows: number, outs: number[], first: number) => RowTask,
  collect: (outs: number[], rows: number, first: number) => void,
): Promise<void> {
  const n = data.length / dim;
  if (n === 0) return;
  const heap = p.kernels.heap;
  const chunk = Math.min(n, ROUND_ROWS);
  const ptrs: number[] = [];
  try {
    const x = heap.alloc(chunk * dim * 4);
    ptrs.push(x);
    for (const b of outBytesPerRow) ptrs.push(heap.alloc(chunk * b));
    const outs = ptrs.slice(1);
    for (let first = 0; first < n; first += chunk) {
      const rows = Math.min(chunk, n - first);
      heap.write(x, data.subarray(first * dim, (first + rows) * dim));
      await p.runRows(run(x, rows, outs, first), rows);
      collect(outs, rows, first);
    }
  } finally {
    for (const ptr of ptrs) heap.free(ptr);
  }
}

/** Runs `use` on `data` held by `p`'s message-passing workers, then lets them drop it. */
async function withHeld<T>(p: RowParallel, data: Float32Array, dim: number, use: (held: HeldRows) => Promise<T>): Promise<T> {
  const held = await p.hold(data, dim);
  try {
    return await use(held);
  } finally {
    held.release();
  }
}

/** `assignNearest` (quantize.ts) with the rows split over `p`'s threads; the same output. */
export async function assignNearestParallel(p: RowParallel, data: Float32Array, dim: number, centroids: Float32Array, metric: number): Promise<{ assign: Int32Array; dist: Float32Array }> {
  if (p.transport === "message") return withHeld(p, data, dim, (h) => h.assign(centroids, centroids.length / dim, metric, 0, dim));
  const n = data.length / dim;
  const k = centroids.length / dim;
  const assign = new Int32Array(n);
  const dist = new Float32Array(n);
  const heap = p.kernels.heap;
  const c = heap.alloc(centroids.byteLength);
  try {
    heap.write(c, centroids);
    await rounds(p, data, dim, [4, 4],
      (x, _rows, [a, d]) => ({ kernel: "kmeans_assign", x, stride: dim, width: dim, c, k, metric, assign: a!, dist: d! }),
      ([a, d], rows, first) => {
        assign.set(heap.i32(a!, rows), first);
        dist.set(heap.f32(d!, rows), first);
      });
  } finally {
    heap.free(c);
  }
  return { assign, dist };
}

/** `pqEncode` (quantize.ts) with the rows split over `p`'s threads; the same codes. */
export async function pqEncodeParallel(p: RowParallel, data: Float32Array, dim: number, M: number, codebook: Float32Array, ksub: PqKsub = 256): Promise<Uint8Array> {
  if (p.transport === "message") return withHeld(p, data, dim, (h) => h.pqEncode(codebook, M, ksub));
  const n = data.length / dim;
  const codes = new Uint8Array(n * M);
  const heap = p.kernels.heap;
  const book = heap.alloc(codebook.byteLength);
  try {
    heap.write(book, codebook);
    await rounds(p, data, dim, [M],
      (x, _rows, [out]) => ({ kernel: "pq_encode", x, dim, M, ksub, codebook: book, codes: out! }),
      ([out], rows, first) => codes.set(heap.bytes().subarray(out!, out! + rows * M), first * M));
  } finally {
    heap.free(book);
  }
  return codes;
}

/**
 * `pqEncode` of `residuals(data, dim, assign, centroids)` (src/ann/ivf-codecs.ts) over shared
 * memory, the residuals formed in the workers rather than on this thread; the same codes.
 */
export async function pqEncodeResidualParallel(
  p: RowParallel, data: Float32Array, dim: number, M: number, codebook: Float32Array, assign: Int32Array, centroids: Float32Array, ksub: PqKsub = 256,
): Promise<Uint8Array> {
  const n = data.length / dim;
  const codes = new Uint8Array(n * M);
  const heap = p.kernels.heap;
  const book = writeResidualBook(p.kernels, codebook, centroids);
  try {
    await rounds(p, data, dim, [M, 4],
      (x, rows, [out, a], first) => {
        heap.write(a!, assign.subarray(first, first + rows));
        return residualTask(book, x, out!, a!, dim, M, ksub, codebook, centroids);
      },
      ([out], rows, first) => codes.set(heap.bytes().subarray(out!, out! + rows * M), first * M));
  } finally {
    heap.free(book);
  }
  return codes;
}

/**
 * `pqEncodeResidualParallel` on this thread: the residuals are formed in WebAssembly memory next to
 * the encoding, ROUND_ROWS rows at a time, instead of as a JS copy of the rows (a build's adds
 * would leave one per slice for the collector: 16 MiB per 16 MiB of 384-d rows read).
 */
export function pqEncodeResidualHere(
  kernels: Kernels, data: Float32Array, dim: number, M: number, codebook: Float32Array, assign: Int32Array, centroids: Float32Array, ksub: PqKsub = 256,
): Uint8Array {
  const n = data.length / dim;
  const codes = new Uint8Array(n * M);
  if (n === 0) return codes;
  const heap = kernels.heap;
  const chunk = Math.min(n, ROUND_ROWS);
  const ptrs = [writeResidualBook(kernels, codebook, centroids)];
  try {
    for (const bytes of [chunk * dim * 4, chunk * M, chunk * 4]) ptrs.push(heap.alloc(bytes));
    const [book, x, out, a] = ptrs as [number, number, number, number];
    const task = residualTask(book, x, out, a, dim, M, ksub, codebook, centroids);
    const scratch = heap.alloc(rowTaskScratch(task));
    ptrs.push(scratch);
    for (let first = 0; first < n; first += chunk) {
      const rows = Math.min(chunk, n - first);
      heap.write(x, data.subarray(first * dim, (first + rows) * dim));
      heap.write(a, assign.subarray(first, first + rows));
      runRowTask(kernels.exports, task, 0, rows, scratch);
      codes.set(heap.bytes().subarray(out, out + rows * M), first * M);
    }
  } finally {
    for (const ptr of ptrs) heap.free(ptr);
  }
  return codes;
}

/** The codebook and the centroids, back to back in WebAssembly memory (a pq_encode_residual task's `codebook` and `centroids`). */
function writeResidualBook(kernels: Kernels, codebook: Float32Array, centroids: Float32Array): number {
  const book = kernels.heap.alloc(codebook.byteLength + centroids.byteLength);
  kernels.heap.write(book, codebook);
  kernels.heap.write(book + codebook.byteLength, centroids);
  return book;
}

function residualTask(book: number, x: number, codes: number, assign: number, dim: number, M: number, ksub: PqKsub, codebook: Float32Array, centroids: Float32Array): RowTask {
  return { kernel: "pq_encode_residual", x, dim, M, ksub, codebook: book, codes, assign, centroids: book + codebook.byteLength, k: centroids.length / dim };
}

/** `sqEncode` (quantize.ts) with the rows split over `p`'s threads; the same codes. */
export async function sqEncodeParallel(p: RowParallel, data: Float32Array, dim: number, offset: Float32Array, invScale: Float32Array): Promise<Int8Array> {
  if (p.transport === "message") return withHeld(p, data, dim, (h) => h.sqEncode(offset, invScale));
  const n = data.length / dim;
  const codes = new Int8Array(n * dim);
  const heap = p.kernels.heap;
  const params = heap.alloc(dim * 8);
  try {
    heap.write(params, offset);
    heap.write(params + dim * 4, invScale);
    await rounds(p, data, dim, [dim],
      (x, _rows, [out]) => ({ kernel: "sq_encode", x, dim, offset: params, invScale: params + dim * 4, codes: out! }),
      ([out], rows, first) => codes.set(new Int8Array(heap.bytes().buffer, out!, rows * dim), first * dim));
  } finally {
    heap.free(params);
  }
  return codes;
}
