/**
 * The scan worker's side of the pool (protocol in protocol.ts). `servePool(endpoint)` answers
 * the coordinator; `runScan` is the scan itself, the same kernel calls in the same order as
 * Kernels.searchBatch restricted to one chunk of rows, so every distance is the same float.
 */
import type { Endpoint } from "comlink";
import { isQuiverError } from "../errors.js";
import type { KernelExports } from "../kernels/abi.js";
import { Block } from "../kernels/block.js";
import type { Kernels } from "../kernels/kernels.js";
import { loadKernels } from "../kernels/loader.js";
import { seedBlocks } from "../kernels/kmeanspp.js";
import { rowTaskScratch, runRowTask, type RowTask } from "../kernels/parallel.js";
import { Scratch } from "../kernels/memory.js";
import { attachSharedKernels } from "../kernels/shared.js";
import type { BlockData } from "../kernels/types.js";
import type { BuildJob, BuildOutput, PoolReply, PoolRequest, RowsRequest, ScanJob, ScanOutput, SharedScan, WireError } from "./protocol.js";
import { kmeans } from "../ann/kmeans.js";
import { LATE_FACTOR, MULTI_QUERIES } from "./chunks.js";


/** Where things are for one job; `block(i)` gives a piece's block pointer and its norms. */
export interface ScanAddresses {
  queries: number;
  qNorms: number;
  ids: number;
  dist: number;
  outIdx: number;
  outDist: number;
  outCount: number;
  block(handle: number): [ptr: number, norms: number];
}

/**
 * Distances of every query to the chunk's rows, then top-kk per query into outIdx / outDist /
 * outCount. Mirrors Kernels.searchBatch: the multi-query kernels in groups of 8 when `job.multi`,
 * else one query at a time with the dense or gather kernel per piece.
 */
export function runScan(w: KernelExports, job: ScanJob, a: ScanAddresses): void {
  const { metric, dim, nq, total, kk, lo, hi } = job;
  const f32 = job.element === "f32";
  const rowBytes = dim * (f32 ? 4 : 1);
  // A fresh view per write: memory.buffer changes when the memory grows.
  const setCount = (q: number, n: number): void => void (new Int32Array(w.memory.buffer, a.outCount, nq)[q] = n);
  if (job.multi) {
    for (let first = 0; first < nq; first += MULTI_QUERIES) {
      const g = Math.min(MULTI_QUERIES, nq - first);
      const qs = a.queries + first * dim * 4;
      const qn = a.qNorms + first * 4;
      if (metric === "cosine") w.norms_f32(qs, g, dim, qn);
      for (const p of job.pieces) {
        if (p.count === 0) continue;
        const [ptr, norms] = a.block(p.block);
        const x = ptr + p.row * rowBytes;
        const out = a.dist + p.start * 4;
        if (metric === "l2") w.l2_f32_multi(qs, g, x, p.count, dim, out, total);
        else if (metric === "dot") w.dot_f32_multi(qs, g, x, p.count, dim, out, total);
        else w.cosine_f32_normed_multi(qs, qn, g, x, norms + p.row * 4, p.count, dim, out, total);
      }
      for (let i = 0; i < g; i++) {
        const q = first + i;
        const n = w.topk(a.dist + i * total * 4, total, kk, lo, hi, a.outIdx + q * kk * 4, a.outDist + q * kk * 4);
        setCount(q, n);
      }
    }
    return;
  }
  for (let q = 0; q < nq; q++) {
    const qPtr = a.queries + q * rowBytes;
    for (const p of job.pieces) {
      if (p.count === 0) continue;
      const [ptr, norms] = a.block(p.block);
      const out = a.dist + p.start * 4;
      if (p.ids < 0) {
        const x = ptr + p.row * rowBytes;
        const nx = norms + p.row * 4;
        if (metric === "l2") (f32 ? w.l2_f32 : w.l2_i8)(qPtr, x, p.count, dim, out);
        else if (metric === "dot") (f32 ? w.dot_f32 : w.dot_i8)(qPtr, x, p.count, dim, out);
        else if (metric === "cosine") (f32 ? w.cosine_f32_normed : w.cosine_i8_normed)(qPtr, x, nx, p.count, dim, out);
        else w.hamming_u8(qPtr, x, p.count, dim, out);
      } else {
        const ids = a.ids + p.ids * 4;
        if (metric === "l2") (f32 ? w.l2_f32_gather : w.l2_i8_gather)(qPtr, ptr, ids, p.count, dim, out);
        else if (metric === "dot") (f32 ? w.dot_f32_gather : w.dot_i8_gather)(qPtr, ptr, ids, p.count, dim, out);
        else if (metric === "cosine") (f32 ? w.cosine_f32_normed_gather : w.cosine_i8_normed_gather)(qPtr, ptr, norms, ids, p.count, dim, out);
        else w.hamming_u8_gather(qPtr, ptr, ids, p.count, dim, out);
      }
    }
    const n = w.topk(a.dist, total, kk, lo, hi, a.outIdx + q * kk * 4, a.outDist + q * kk * 4);
    setCount(q, n);
  }
}

/** Message transport: the worker's own kernels, its cached blocks and reusable buffers. */
class LocalScanner {
  readonly #kernels: Kernels;
  readonly #build: Scratch[];
  readonly #blocks = new Map<number, Block>();
  readonly #buffers: Scratch[];

  constructor(kernels: Kernels) {
    this.#kernels = kernels;
    this.#buffers = Array.from({ length: 7 }, () => new Scratch(kernels.heap));
    this.#build = Array.from({ length: 4 }, () => new Scratch(kernels.heap));
  }

  /**
   * Build work (protocol.ts BuildJob): the same kernel calls as kernels/quantize.ts over a held
   * block, or a whole k-means as src/ann/kmeans.ts runs it on one thread.
   */
  async build(job: BuildJob): Promise<BuildOutput> {
    const k = this.#kernels;
    const heap = k.heap;
    if (job.kernel === "kmeans") {
      const { rows, width, k: count, maxIterations, seed } = job.run;
      const block = k.upload(rows, width);
      try {
        return { centroids: (await kmeans(k, block, width, { k: count, metric: "l2", maxIterations, seed })).centroids };
      } finally {
        block.free();
      }
    }
    const b = this.#blocks.get(job.block);
    if (b === undefined) throw new Error(`scan worker holds no rows ${job.block}`);
    const dim = b.dim!;
    const n = b.byteLength / (dim * 4);
    const [inA, inB, outA, outB] = this.#build as [Scratch, Scratch, Scratch, Scratch];
    if (job.kernel === "kmeans_assign") {
      const c = inA.reserve(job.centroids.byteLength);
      const scratch = inB.reserve(job.k * (job.width + 1) * 4);
      const assign = outA.reserve(n * 4);
      const dist = outB.reserve(n * 4);
      heap.write(c, job.centroids);
      k.exports.kmeans_assign(b.ptr + job.offset * 4, n, job.width, dim, c, job.k, job.metric, scratch, assign, dist);
      return { assign: heap.i32(assign, n).slice(), dist: heap.f32(dist, n).slice() };
    }
    if (job.kernel === "pq_encode" || job.kernel === "pq_encode_residual") {
      // The row task the shared transport runs, over this worker's own memory.
      const residual = job.kernel === "pq_encode_residual";
      const book = inA.reserve(job.codebook.byteLength + (residual ? job.centroids.byteLength : 0));
      const codes = outA.reserve(n * job.M);
      const assign = residual ? outB.reserve(n * 4) : 0;
      const base = { x: b.ptr, dim, M: job.M, ksub: job.ksub, codebook: book, codes };
      const task: RowTask = residual
        ? { ...base, kernel: "pq_encode_residual", assign, centroids: book + job.codebook.byteLength, k: job.centroids.length / dim }
        : { ...base, kernel: "pq_encode" };
      const scratch = inB.reserve(rowTaskScratch(task));
      heap.write(book, job.codebook);
      if (residual) {
        if (job.assign.length !== n) throw new Error(`scan worker holds ${n} rows, was sent ${job.assign.length} assignments`);
        heap.write(book + job.codebook.byteLength, job.centroids);
        heap.write(assign, job.assign);
      }
      runRowTask(k.exports, task, 0, n, scratch);
      return { codes: heap.bytes().slice(codes, codes + n * job.M) };
    }
    const params = inA.reserve(dim * 8);
    const codes = outA.reserve(n * dim);
    heap.write(params, job.offset);
    heap.write(params + dim * 4, job.invScale);
    k.exports.sq_encode(b.ptr, n, dim, params, params + dim * 4, codes);
    return { codes: heap.bytes().slice(codes, codes + n * dim) };
  }

  upload(handle: number, element: string, dim: number, data: ArrayBuffer): void {
    const values: BlockData = element === "f32" ? new Float32Array(data) : element === "i8" ? new Int8Array(data) : new Uint8Array(data);
    this.#blocks.get(handle)?.free();
    this.#blocks.set(handle, this.#kernels.upload(values, dim) as Block);
  }

  drop(handles: number[]): void {
    for (const h of handles) {
      this.#blocks.get(h)?.free();
      this.#blocks.delete(h);
    }
  }

  scan(job: ScanJob, queries: ArrayBuffer, ids: Int32Array, cosineNorms: boolean): ScanOutput {
    const heap = this.#kernels.heap;
    const { nq, total, kk, dim } = job;
    const [q, qn, idb, dist, oi, od, oc] = this.#buffers as [Scratch, Scratch, Scratch, Scratch, Scratch, Scratch, Scratch];
    const blocks = new Map<number, [number, number]>();
    for (const p of job.pieces) {
      if (blocks.has(p.block)) continue;
      const b = this.#blocks.get(p.block);
      if (b === undefined) throw new Error(`scan worker has no block ${p.block}`);
      // The same norms kernel as the coordinator's Kernels, so the same cosine floats.
      if (cosineNorms && b.normsPtr === 0) this.#kernels.norms(b, dim);
      blocks.set(p.block, [b.ptr, b.normsPtr]);
    }
    // Reserve everything first: a reserve may grow memory, after which pointers stay valid.
    const addresses = {
      queries: q.reserve(queries.byteLength),
      qNorms: qn.reserve(nq * 4),
      ids: idb.reserve(ids.byteLength),
      dist: dist.reserve(total * Math.min(nq, job.multi ? MULTI_QUERIES : 1) * 4),
      outIdx: oi.reserve(nq * kk * 4),
      outDist: od.reserve(nq * kk * 4),
      outCount: oc.reserve(nq * 4),
      block: (h: number) => blocks.get(h)!,
    };
    heap.write(addresses.queries, new Uint8Array(queries));
    if (ids.length > 0) heap.write(addresses.ids, ids);
    runScan(this.#kernels.exports, job, addresses);
    return {
      count: heap.i32(addresses.outCount, nq).slice(),
      index: heap.i32(addresses.outIdx, nq * kk).slice(),
      distance: heap.f32(addresses.outDist, nq * kk).slice(),
    };
  }
}

/**
 * Shared transport: claims chunks from the counter until none are left, scanning each into its
 * claimer slot. Then, while chunks are unfinished, it backs up the one nobody has copied yet that
 * is due first — a worker the OS set aside mid-chunk must not hold up the search: it waits until
 * that chunk is late (LATE_FACTOR × the chunk's elements at this worker's own measured rate, after
 * its claim) and, if it is still unfinished, scans a copy into the copy slot. Whichever answer is
 * first to move the chunk's state from 0 wins; both are the same floats. Returns the chunks this
 * worker won; `trace` gets (chunk, start, end, flags) per scan, flags 1 for a copy, +2 when that
 * scan's answer won.
 */
export function runSharedScan(w: KernelExports, scan: SharedScan, trace: number[] = []): number {
  const n = scan.chunks.length;
  const control = (): Int32Array => new Int32Array(w.memory.buffer, scan.control, 2 + 3 * n);
  const elements = scan.chunks.map(({ job }) => job.total * job.nq * job.dim);
  let won = 0;
  let scannedMs = 0;
  let scannedElements = 0;
  const run = (c: number, slot: 0 | 1): void => {
    const chunk = scan.chunks[c]!;
    const out = chunk.slots[slot];
    const start = now();
    runScan(w, chunk.job, {
      queries: chunk.queries, qNorms: scan.qNorms, dist: scan.dist, ids: chunk.ids,
      outIdx: out.idx, outDist: out.dist, outCount: out.count, block: (h) => chunk.blocks[h]!,
    });
    const end = now();
    scannedMs += end - start;
    scannedElements += elements[c]!;
    const first = Atomics.compareExchange(control(), 2 + c, 0, slot + 1) === 0;
    if (first) {
      won++;
      Atomics.add(control(), 1, 1);
    }
    Atomics.notify(control(), 2 + c);
    trace.push(c, start, end, slot + (first ? 2 : 0));
  };
  for (;;) {
    const c = Atomics.add(control(), 0, 1);
    if (c < n) {
      // µs fit an i32 for 35 minutes; a search that long would count as claimed at that mark.
      Atomics.store(control(), 2 + 2 * n + c, Math.min(0x7ffffffe, Math.round((now() - scan.t0) * 1000)) + 1);
      run(c, 0);
      continue;
    }
    if (Atomics.load(control(), 1) >= n) return won;
    const msPerElement = scannedElements > 0 ? scannedMs / scannedElements : scan.msPerElement;
    let late = -1;
    let due = Infinity;
    for (let j = 0; j < n; j++) {
      if (Atomics.load(control(), 2 + j) !== 0 || Atomics.load(control(), 2 + n + j) !== 0) continue;
      const claimed = Atomics.load(control(), 2 + 2 * n + j);
      const at = (claimed === 0 ? now() - scan.t0 : (claimed - 1) / 1000) + LATE_FACTOR * elements[j]! * msPerElement;
      if (at < due) [late, due] = [j, at];
    }
    if (late < 0) return won; // every unfinished chunk already has a copy running
    const wait = due - (now() - scan.t0);
    if (wait > 0) {
      Atomics.wait(control(), 2 + late, 0, wait);
      continue;
    }
    if (Atomics.compareExchange(control(), 2 + n + late, 0, 1) !== 0) continue;
    run(late, 1);
  }
}

/**
 * Shared transport: claims ranges of `chunkRows` rows of a build task until none are left (a
 * seeding's next range only once its round is open: kmeanspp.ts); adds each range's rows to its
 * tally before counting the range finished. Returns the ranges it ran.
 */
export function runSharedRows(w: KernelExports, r: RowsRequest): number {
  const chunks = Math.ceil(r.rows / r.chunkRows);
  const control = (): Int32Array => new Int32Array(w.memory.buffer, r.counter, 2);
  // A seeding's round opens once every range of the rounds before it is finished (the last one
  // picks the centre before it counts itself finished). Waiting for that here, on the counter,
  // touches none of the task's memory, which the coordinator frees once the last range finishes.
  const blocks = r.task.kernel === "kmeanspp_seed" ? seedBlocks(r.task) : 0;
  let claimed = 0;
  for (;;) {
    if (blocks > 0) {
      const next = Atomics.load(control(), 0);
      if (next >= chunks) return claimed;
      const opens = next - (next % blocks);
      for (let done = Atomics.load(control(), 1); done < opens; done = Atomics.load(control(), 1)) Atomics.wait(control(), 1, done);
    }
    const c = Atomics.add(control(), 0, 1);
    if (c >= chunks) return claimed;
    const first = c * r.chunkRows;
    const count = Math.min(r.chunkRows, r.rows - first);
    runRowTask(w, r.task, first, count, r.scratch);
    claimed++;
    Atomics.add(new Int32Array(w.memory.buffer, r.tally, 1), 0, count);
    Atomics.add(control(), 1, 1);
    if (blocks > 0) Atomics.notify(control(), 1);
  }
}

/** Milliseconds since the epoch, sub-millisecond: comparable across threads (each has its own timeOrigin). */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

function toWire(error: unknown): WireError {
  if (isQuiverError(error)) return { code: error.code, message: error.message, details: error.details as Record<string, unknown> };
  return { message: error instanceof Error ? error.message : String(error) };
}

/** Answers pool requests on `endpoint` (a worker's global scope, or Node's parentPort adapted). */
export function servePool(endpoint: Endpoint = globalThis as unknown as Endpoint): void {
  let shared: KernelExports | undefined;
  let local: LocalScanner | undefined;
  const reply = (message: PoolReply, transfer: Transferable[] = []): void => endpoint.postMessage(message, transfer);

  endpoint.addEventListener("message", (event) => {
    const message = (event as MessageEvent<PoolRequest>).data;
    void handle(message).catch((error: unknown) => {
      if ("id" in message) reply({ type: "error", id: message.id, error: toWire(error) });
    });
  });

  async function handle(m: PoolRequest): Promise<void> {
    if (m.type === "init") {
      if (m.transport === "shared") shared = await attachSharedKernels(m.module, m.memory);
      else local = new LocalScanner(await loadKernels({ flavor: m.flavor }));
      reply({ type: "ready", id: m.id });
    } else if (m.type === "drop") {
      local?.drop(m.handles);
    } else if (m.type === "build") {
      // Shared-memory workers also take message builds (whole k-means runs), in memory of their own.
      local ??= new LocalScanner(await loadKernels({ flavor: shared ? "simd" : "auto" }));
      for (const u of m.uploads) local.upload(u.handle, u.element, u.dim, u.data);
      const built = m.job ? await local.build(m.job) : {};
      reply({ type: "done", id: m.id, built }, Object.values(built).map((o) => (o as ArrayBufferView).buffer as ArrayBuffer));
    } else if (m.type === "rows") {
      if (shared === undefined) throw new Error("scan worker was not initialised for shared memory");
      reply({ type: "done", id: m.id, claimed: runSharedRows(shared, m.rows) });
    } else if ("shared" in m) {
      if (shared === undefined) throw new Error("scan worker was not initialised for shared memory");
      const trace: number[] = [];
      const claimed = runSharedScan(shared, m.shared, trace);
      reply({ type: "done", id: m.id, claimed, trace });
    } else {
      if (local === undefined) throw new Error("scan worker was not initialised for message passing");
      for (const u of m.uploads) local.upload(u.handle, u.element, u.dim, u.data);
      const start = now();
      const output = local.scan(m.job, m.queries, m.ids, m.cosineNorms);
      reply({ type: "done", id: m.id, output, trace: [-1, start, now(), 2] }, [output.count.buffer, output.index.buffer, output.distance.buffer]);
    }
  }
}
