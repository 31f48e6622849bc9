/**
 * A pool of scan workers that splits exact scans across cores.
 *
 *   const pool = await createScanPool({ workers: 2 });
 *   const block = pool.kernels.upload(vectors, dim);          // once
 *   const hits = await pool.searchBatch("cosine", queries, [{ block }], dim, 10);
 *   await pool.close();
 *
 * `searchBatch` answers exactly what `Kernels.searchBatch` answers for the same arguments — same
 * rows, same float distances, ties in the same (target, row) order. A search is cut into chunks —
 * its queries (in groups of 8 when there are many) × contiguous ranges of the rows the targets
 * cover, laid end to end in target order — by guided self-scheduling (chunks.ts planScan): the
 * first chunk takes 1/(2 × workers) of the work, each next one that share of what is left, down to
 * `chunkElements` (rows × dim × queries, ~0.5 ms of scanning: well under a scheduler's time slice).
 * Idle workers take the next chunk — work stealing — so few chunks carry most of the work (few
 * claims, messages and lists to merge) and the short ones come last; once none are left, an idle
 * worker backs up a chunk that is late (twice its expected time at the measured rate; the first
 * answer wins), so a worker the OS sets aside mid-chunk holds up nothing:
 *
 *   rows     [ block 0 ············ | block 1 (ids) ······ | block 2 ········ ]
 *   chunks   [ 0 ·················· | 1 ············ | 2 ········ | 3 ···· |4 ·|5 ·|6·|7·]
 *            each: all the queries (or one group of them) × its rows; taken in order by
 *            whoever is free
 *
 * A search too small to pay for the hop (under 1/8 of a chunk) runs on the calling thread with the
 * same kernels; one under two chunks' worth goes to one worker whole, and so does every search on
 * a one-worker pool.
 *
 * Each worker runs the same kernels as Kernels.searchBatch over a chunk (per-row distances do not
 * depend on their neighbours) and selects the chunk's top-k; the coordinator merges those lists by
 * (distance, position), which is the order the single-thread top-k uses, so ties resolve alike —
 * whichever worker scanned which chunk (chunks.ts).
 *
 * Two transports:
 * - "shared": one `WebAssembly.Memory({ shared: true })` that every worker's instance imports
 *   (kernels/shared.ts). Blocks uploaded once through `pool.kernels` are visible to all workers;
 *   only pointers cross: one request per worker per search with the chunk list; workers claim
 *   chunks through an atomic counter in that memory and settle a chunk with a compare-and-swap
 *   on its state word (the claimer's slot or a copy's). Only this thread allocates — workers
 *   write into buffers it allocated. Needs SharedArrayBuffer: always in Node; in browsers only on
 *   crossOriginIsolated pages. The same workers also run index builds' row-parallel kernels
 *   (`runRows`: k-means assignment, PQ and SQ encoding).
 * - "message": each worker keeps its own copy of every block it has scanned (sent once, by handle,
 *   dropped when the block is garbage collected or `release`d); the coordinator posts one chunk
 *   at a time (the chunk's queries and row ids) to whichever worker answered, two in flight per
 *   worker once chunks are short; once nothing else is left and a chunk is late (as above), an idle worker gets a
 *   copy of it. Index builds send each worker its part of the rows once, then only centroids or
 *   codebooks per step (build.ts).
 */
import type { Endpoint } from "comlink";
import { createError, QuiverError, type ErrorCode } from "../errors.js";
import { Block } from "../kernels/block.js";
import type { Kernels } from "../kernels/kernels.js";
import { loadKernels } from "../kernels/loader.js";
import { loadSharedKernels, supportsSharedMemory } from "../kernels/shared.js";
import type { DistanceRange, KernelFlavor, Metric, QueryVector, SearchResult, SearchTarget } from "../kernels/types.js";
import { checkDim, checkK, checkRange, toElementArray } from "../kernels/validate.js";
import { terminate, toEndpoint, type WorkerLike } from "../util/worker-endpoint.js";
import type { PoolReply, PoolRequest, ScanJob, UnnumberedRequest } from "./protocol.js";
import { planScans, splitQueries, type Scan } from "../kernels/scan-layout.js";
import { CHUNK_ELEMENTS, chunkOf, mergeChunks, planScan } from "./chunks.js";
import { rowTaskScratch, rowTaskZeroed, type RowParallel, type RowTask } from "../kernels/parallel.js";
import { now } from "./scan.js";
import { runMessage, runShared, type ScanReport, type ScanTransport, type SearchHost, type SearchRun } from "./search.js";
import { emptyTraffic, MessageBuild, type BuildTraffic } from "./build.js";

export type { ScanReport, ScanTransport } from "./search.js";

export interface ScanPoolOptions {
  /** Worker threads. Default: hardware concurrency, at most 4. More workers than cores only adds hops. */
  workers?: number;
  /**
   * Default "auto": "shared" when shared WebAssembly memory is available (Node always; browsers
   * when crossOriginIsolated) and no `kernels` instance was given, else "message". "shared" fails
   * with UNSUPPORTED where it is unavailable.
   */
  transport?: "auto" | ScanTransport;
  /**
   * Message transport: the Kernels instance whose blocks this pool scans (default: `loadKernels()`
   * of `flavor`). Workers load the same flavor, so distances match it exactly. Not allowed with
   * "shared", where the pool makes its own kernels over the shared memory (`pool.kernels`).
   */
  kernels?: Kernels;
  /** Message transport without `kernels`: which build to load. Default "auto". Shared is always SIMD. */
  flavor?: "auto" | KernelFlavor;
  /** Shared transport: most bytes the shared memory may grow to. Default 1 GiB, limit 4 GiB. */
  maximumMemoryBytes?: number;
  /**
   * Starts one worker running pool-worker.js (browsers, Deno) or pool-node-worker.js (Node).
   * Default: those scripts next to this module. Override when serving them from elsewhere.
   */
  createWorker?: () => WorkerLike | Promise<WorkerLike>;
  /**
   * Smallest chunk of a search, in elements (rows × dim × queries). Default 4,194,304: about
   * 0.5 ms of SIMD scanning on one core, well under a scheduler's time slice. Chunks start at
   * 1/(2 × workers) of the search and shrink to this size, so the last ones — those a worker the
   * OS sets aside can hold up (an idle worker then scans a copy) — are short. Smaller: finer
   * balance at the end, but more claims (shared) or message round trips (message). A search under
   * 2 chunks' worth goes to one worker; under 1/8 of a chunk it runs on the calling thread, where
   * it costs less than the hop. Limit: integer ≥ 1.
   */
  chunkElements?: number;
  /**
   * Called after each pooled search once every worker it involved has answered (a stalled worker's
   * scans are reported when it wakes), with which worker scanned which chunk and when. For
   * benchmarks and diagnosis; default none.
   */
  onScan?: (report: ScanReport) => void;
}

/** Rows of a build task per claim: small enough to balance, large enough that a claim is noise. */
const MIN_TASK_ROWS = 256;
/**
 * A build task is cut into this many ranges per worker. Every task ends in a barrier (the next
 * k-means iteration, the next HNSW step needs all of it), where a worker idles for up to one range
 * while the other finishes its last: ranges of 1/32 of a worker's share keep that under ~3 %,
 * and a claim is one atomic add.
 */
const TASK_RANGES_PER_WORKER = 32;

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === "string" && !("Deno" in globalThis);
}

const NODE_WORKER_SCRIPT = "./pool-node-worker.js";

async function defaultWorker(): Promise<WorkerLike> {
  if (isNode()) {
    const specifier = "node:worker_threads";
    const { Worker } = (await import(/* @vite-ignore */ specifier)) as typeof import("node:worker_threads");
    // Not the literal `new Worker(new URL("…"))` pattern: bundlers building for browsers would
    // emit this Node-only worker (and its node:worker_threads import) into the page's build.
    const script = NODE_WORKER_SCRIPT;
    return new Worker(new URL(script, import.meta.url), { name: "quiverdb-scan" });
  }
  // The literal pattern bundlers recognise to emit the worker script.
  return new Worker(new URL("./pool-worker.js", import.meta.url), { type: "module", name: "quiverdb-scan" });
}

/** One scan worker as the coordinator sees it: requests in flight and, for "message", what it holds. */
class PoolWorker {
  readonly #endpoint: Endpoint;
  readonly #pending = new Map<number, { resolve: (r: PoolReply) => void; reject: (e: unknown) => void }>();
  /** Block handles this worker holds a copy of (message transport). */
  readonly held = new Set<number>();
  #next = 0;
  #closing = false;

  constructor(readonly target: WorkerLike, readonly index: number, onFail: (why: string) => void) {
    this.#endpoint = toEndpoint(target);
    this.#endpoint.addEventListener("message", (event) => this.#answer((event as MessageEvent<PoolReply>).data));
    const t = target as { on?: (type: string, f: (x: unknown) => void) => void; addEventListener?: (type: string, f: (e: Event) => void) => void };
    const fail = (why: string): void => {
      if (!this.#closing) onFail(`scan worker ${index} ${why}`);
    };
    if (typeof t.on === "function") {
      t.on("error", (e) => fail(`threw ${String((e as Error)?.message ?? e)}`));
      t.on("exit", (code) => fail(`exited with code ${String(code)}`));
      t.on("messageerror", () => fail("received a message it could not read"));
    } else if (typeof t.addEventListener === "function") {
      t.addEventListener("error", (e) => fail(`failed: ${(e as ErrorEvent).message || "no message (is the worker script served?)"}`));
      t.addEventListener("messageerror", () => fail("received a message it could not read"));
    }
  }

  request(message: UnnumberedRequest, transfer: Transferable[] = []): Promise<PoolReply> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      try {
        this.#endpoint.postMessage({ ...message, id }, transfer);
      } catch (error) {
        this.#pending.delete(id);
        reject(error);
      }
    });
  }

  post(message: PoolRequest): void {
    this.#endpoint.postMessage(message);
  }

  rejectAll(error: unknown): void {
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }

  async terminate(): Promise<void> {
    this.#closing = true;
    await terminate(this.target);
  }

  #answer(reply: PoolReply): void {
    const p = this.#pending.get(reply.id);
    if (p === undefined) return;
    this.#pending.delete(reply.id);
    if (reply.type === "error") {
      const { code, message, details } = reply.error;
      p.reject(code !== undefined ? new QuiverError(code as ErrorCode, message, details) : createError("CLOSED", `Scan worker ${this.index} failed: ${message}`, { worker: this.index }));
    } else {
      p.resolve(reply);
    }
  }
}

export class ScanPool {
  /** The kernels whose blocks this pool scans: upload here (for "shared", into the shared memory). */
  readonly kernels: Kernels;
  readonly transport: ScanTransport;
  readonly #workers: PoolWorker[];
  #failure: QuiverError | undefined;
  #closed = false;
  readonly #handles = new WeakMap<Block, number>();
  #nextHandle = 1;
  readonly #finalizer: FinalizationRegistry<number> | undefined;
  /** Chunks (scans), row ranges and held parts (builds) each worker has done, for `chunksByWorker`. */
  readonly #chunks: number[];
  readonly #traffic = emptyTraffic();
  readonly #chunkElements: number;
  /** What the search runners (search.ts) use of this pool. */
  readonly #host: SearchHost;
  /** Rows each worker ran of each build kernel (row ranges over shared memory, held parts over message passing). */
  readonly #rows = new Map<string, number[]>();

  /** Use `createScanPool()`. */
  constructor(kernels: Kernels, transport: ScanTransport, workers: PoolWorker[], options: Pick<ScanPoolOptions, "onScan" | "chunkElements"> = {}) {
    this.kernels = kernels;
    this.#chunkElements = options.chunkElements ?? CHUNK_ELEMENTS;
    this.#host = {
      transport, heap: kernels.heap, workers, onScan: options.onScan,
      won: (w, chunks) => void (this.#chunks[w]! += chunks),
      handleOf: (block) => this.#handleOf(block),
    };
    this.transport = transport;
    this.#workers = workers;
    this.#chunks = workers.map(() => 0);
    this.#finalizer = typeof FinalizationRegistry === "function" ? new FinalizationRegistry((h) => this.#drop(h)) : undefined;
  }

  /** Number of worker threads. */
  get size(): number {
    return this.#workers.length;
  }

  /**
   * How many scan chunks and build row ranges each worker has done since the pool started: a
   * worker that was stalled shows fewer, the others took its share.
   */
  get chunksByWorker(): readonly number[] {
    return [...this.#chunks];
  }

  /**
   * Runs a row-parallel build task (kernels/parallel.ts) over rows [0, rows) on the first
   * `workers` workers: ranges of rows are claimed through an atomic counter, so idle workers take
   * what a slow one leaves. Shared transport only (UNSUPPORTED otherwise): every pointer in the
   * task is into `pool.kernels`' memory. The output is the same bytes as one thread's.
   */
  async runRows(task: RowTask, rows: number, workers = this.size): Promise<void> {
    this.#checkOpen();
    if (this.transport !== "shared") throw createError("UNSUPPORTED", "Row-parallel builds need the shared-memory transport.");
    if (!Number.isSafeInteger(rows) || rows < 0) throw createError("INVALID_ARGUMENT", `rows must be a non-negative integer, got ${rows}.`);
    if (rows === 0) return;
    const count = Math.max(1, Math.min(workers, this.size));
    // An HNSW insertion (a tenth of a millisecond or more) or back-link list is sizeable work, and
    // each HNSW batch is two barriers: claim 2 insertions or 32 lists at a time, so a worker done
    // first waits for at most that. A seeding's ranges are blocks already, each waiting its round.
    const chunkRows = task.kernel === "hnsw_link" ? 2 : task.kernel === "hnsw_backlink" ? 32 : task.kernel === "kmeanspp_seed" ? 1
      : Math.max(MIN_TASK_ROWS, Math.ceil(rows / (count * TASK_RANGES_PER_WORKER)));
    const chunks = Math.ceil(rows / chunkRows);
    const used = this.#workers.slice(0, Math.min(count, chunks));
    const heap = this.kernels.heap;
    const scratchBytes = (rowTaskScratch(task) + 15) & ~15;
    // [next range, ranges finished] then one i32 per worker: the rows it ran, added before it
    // counts a range finished — so complete once every range is, though a reply may come later.
    const head = (8 + used.length * 4 + 15) & ~15;
    const base = heap.alloc(head + used.length * scratchBytes);
    heap.i32(base, head / 4).fill(0);
    const zeroed = rowTaskZeroed(task);
    for (let i = 0; i < used.length; i++) heap.bytes().fill(0, base + head + i * scratchBytes, base + head + i * scratchBytes + zeroed);
    const requests = used.map((w, i) => w.request({ type: "rows", rows: { task, rows, chunkRows, counter: base, tally: base + 8 + i * 4, scratch: base + head + i * scratchBytes } }));
    void Promise.allSettled(requests).then(() => heap.free(base));
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      requests.forEach((request, i) => request.then(
        (reply) => {
          this.#chunks[used[i]!.index]! += (reply as { claimed?: number }).claimed ?? 0;
          if (settled || Atomics.load(heap.i32(base, 2), 1) < chunks) return;
          settled = true;
          used.forEach((w, j) => this.#countRows(w.index, task.kernel, Atomics.load(heap.i32(base + 8 + j * 4, 1), 0)));
          resolve();
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          reject(error);
        },
      ));
    });
  }

  /**
   * This pool as a RowParallel for index builds (`workers` of its workers; default all): over
   * shared memory row tasks run in place (`runRows`); over message passing the workers hold copies
   * of the rows (build.ts). Whole k-means runs (PQ sub-spaces) go by message on either transport.
   */
  rowParallel(workers = this.size): RowParallel {
    const count = Math.max(1, Math.min(workers, this.size));
    const build = new MessageBuild(this.#workers.slice(0, count), () => this.#nextHandle++, (w, kernel, rows) => {
      this.#chunks[w]!++;
      if (kernel !== undefined) this.#countRows(w, kernel, rows ?? 0);
    }, this.#traffic);
    const open = <T>(f: () => Promise<T>): Promise<T> => {
      this.#checkOpen();
      return f();
    };
    return {
      kernels: this.kernels, workers: count, transport: this.transport,
      runRows: (task, rows) => this.runRows(task, rows, count),
      hold: (data, dim) => open(() => build.hold(data, dim)),
      kmeansRuns: (runs, done) => open(() => build.kmeansRuns(runs, done)),
    };
  }

  /**
   * Rows each worker ran of each row-parallel build kernel ("kmeans_assign", "pq_encode",
   * "pq_encode_residual", "sq_encode", …) since the pool started, indexed by worker: evidence
   * of where a build's work ran. Over message passing a part a worker holds counts once per
   * kernel call over it.
   */
  get buildRows(): Readonly<Record<string, readonly number[]>> {
    return Object.fromEntries([...this.#rows].map(([kernel, rows]) => [kernel, [...rows]]));
  }

  #countRows(worker: number, kernel: string, rows: number): void {
    let tally = this.#rows.get(kernel);
    if (tally === undefined) this.#rows.set(kernel, (tally = this.#workers.map(() => 0)));
    tally[worker]! += rows;
  }

  /** Requests and bytes that builds sent to and received from the workers by message, since the pool started. */
  get buildTraffic(): Readonly<BuildTraffic> {
    return { ...this.#traffic };
  }

  /** `searchBatch` for one query. */
  async search(metric: Metric, query: QueryVector, targets: readonly SearchTarget[], dim: number, k: number, range?: DistanceRange): Promise<SearchResult> {
    return (await this.searchBatch(metric, [query], targets, dim, k, range))[0]!;
  }

  /** `Kernels.searchBatch` across the workers: the same results, computed in parallel. */
  async searchBatch(
    metric: Metric, queries: QueryVector | readonly QueryVector[], targets: readonly SearchTarget[], dim: number, k: number, range?: DistanceRange,
  ): Promise<SearchResult[]> {
    this.#checkOpen();
    checkK(k);
    checkDim(dim);
    const { lo, hi } = checkRange(range);
    const list = splitQueries(queries, dim);
    const scans = this.#plan(metric, targets, dim);
    const element = scans[0]?.block.element ?? "f32";
    const multi = element === "f32" && metric !== "hamming" && list.length > 1 && scans.every((s) => s.ids === undefined);
    const values = list.map((q, i) => toElementArray(q, element, dim, list.length > 1 ? `query ${i}` : "query"));
    const total = scans.reduce((n, s) => n + s.count, 0);
    if (values.length === 0) return [];
    if (total === 0 || k === 0) return values.map(() => ({ target: new Int32Array(0), row: new Int32Array(0), distance: new Float32Array(0) }));
    // Too small to be worth a hop: the same kernels on this thread give the same answer.
    if (total * dim * values.length * 8 < this.#chunkElements) return this.kernels.searchBatch(metric, queries, targets, dim, k, range);
    if (metric === "cosine") this.#ensureNorms(scans, dim);

    const plan = planScan(total, values.length, dim, k, this.#workers.length, this.#chunkElements);
    const rows = plan.chunks.map((c) => chunkOf(scans, c.a, c.b));
    const jobs = plan.chunks.map((c, i): ScanJob => {
      const nq = Math.min(plan.groupSize, values.length - c.group * plan.groupSize);
      return { metric, element, multi, dim, nq, total: rows[i]!.total, kk: Math.min(k, rows[i]!.total), lo, hi, pieces: rows[i]!.pieces };
    });
    const run: SearchRun = { plan, rows, jobs, values, element, cosine: metric === "cosine", t0: now() };
    const outputs = this.transport === "shared" ? await runShared(this.#host, run) : await runMessage(this.#host, run);
    return mergeChunks(values.length, k, plan, jobs.map((j) => j.kk), outputs, scans);
  }

  /**
   * Message transport: forgets the workers' copies of `block` now rather than when it is garbage
   * collected. Searching it again sends it again. No effect for "shared".
   */
  release(block: SearchTarget["block"]): void {
    const h = this.#handles.get(block as Block);
    if (h === undefined) return;
    this.#handles.delete(block as Block);
    this.#finalizer?.unregister(block);
    this.#drop(h);
  }

  /** Ends the workers. Pending searches reject with CLOSED. Blocks in `kernels` stay valid. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const error = createError("CLOSED", "The scan pool was closed.");
    for (const w of this.#workers) w.rejectAll(error);
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  /** Called by a worker that threw or exited: the pool fails every search in flight, then closes. */
  fail(why: string): void {
    if (this.#failure || this.#closed) return;
    this.#failure = createError("CLOSED", `The scan pool stopped: ${why}. Create a new pool with createScanPool().`, { transport: this.transport });
    for (const w of this.#workers) w.rejectAll(this.#failure);
    void this.close();
  }

  // ── internals ─────────────────────────────────────────────────────────────────────────────

  #checkOpen(): void {
    if (this.#failure) throw this.#failure;
    if (this.#closed) throw createError("CLOSED", "The scan pool was closed; create a new one with createScanPool().");
  }

  /** Validates targets and lays their rows end to end, exactly as Kernels does. */
  #plan(metric: Metric, targets: readonly SearchTarget[], dim: number): Scan[] {
    return planScans(metric, targets, dim, (block, i) => {
      if (!(block instanceof Block) || block.heap !== this.kernels.heap) {
        throw createError("INVALID_ARGUMENT", `Target ${i} is not a block uploaded to this pool's kernels (pool.kernels.upload).`, { target: i });
      }
      if (block.freed) throw createError("INVALID_ARGUMENT", `Target ${i} was freed; upload it again.`, { target: i });
      return block;
    });
  }

  /** Cosine needs each block's row norms; the shared transport makes them here, once per block. */
  #ensureNorms(scans: Scan[], dim: number): void {
    if (this.transport !== "shared") return;
    for (const s of scans) if (s.block.normsPtr === 0 && s.count > 0) this.kernels.norms(s.block, dim);
  }

  #handleOf(block: Block): number {
    let h = this.#handles.get(block);
    if (h === undefined) {
      h = this.#nextHandle++;
      this.#handles.set(block, h);
      this.#finalizer?.register(block, h, block);
    }
    return h;
  }

  #drop(handle: number): void {
    if (this.#closed) return;
    for (const w of this.#workers) {
      if (w.held.delete(handle)) w.post({ type: "drop", handles: [handle] });
    }
  }
}

/**
 * Starts `workers` scan workers and readies them. Rejects with UNSUPPORTED when "shared" is asked
 * for where it is unavailable, WASM_LOAD_FAILED when a worker cannot load the kernels, and CLOSED
 * when a worker dies while starting.
 */
export async function createScanPool(options: ScanPoolOptions = {}): Promise<ScanPool> {
  const concurrency = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 2;
  const count = options.workers ?? Math.max(1, Math.min(4, concurrency));
  if (!Number.isSafeInteger(count) || count < 1 || count > 64) {
    throw createError("INVALID_ARGUMENT", `workers must be an integer from 1 to 64, got ${String(options.workers)}.`, { workers: options.workers });
  }
  const requested = options.transport ?? "auto";
  if (requested !== "auto" && requested !== "shared" && requested !== "message") {
    throw createError("INVALID_ARGUMENT", `Unknown transport "${String(requested)}"; use "auto", "shared" or "message".`);
  }
  if (requested === "shared" && options.kernels !== undefined) {
    throw createError("INVALID_ARGUMENT", "The shared transport makes its own kernels over shared memory (pool.kernels); do not pass `kernels`.");
  }
  if (options.chunkElements !== undefined && !(Number.isSafeInteger(options.chunkElements) && options.chunkElements >= 1)) {
    throw createError("INVALID_ARGUMENT", `chunkElements must be an integer ≥ 1, got ${String(options.chunkElements)}.`, { chunkElements: options.chunkElements });
  }
  const flavor = options.flavor ?? "auto";
  const transport: ScanTransport =
    requested !== "auto" ? requested : options.kernels === undefined && flavor !== "scalar" && supportsSharedMemory() ? "shared" : "message";

  let kernels: Kernels;
  let init: Extract<UnnumberedRequest, { type: "init" }>;
  if (transport === "shared") {
    const shared = await loadSharedKernels({ maximumBytes: options.maximumMemoryBytes });
    kernels = shared.kernels;
    init = { type: "init", transport: "shared", module: shared.module, memory: shared.memory };
  } else {
    kernels = options.kernels ?? (await loadKernels({ flavor }));
    init = { type: "init", transport: "message", flavor: kernels.flavor };
  }

  const create = options.createWorker ?? defaultWorker;
  const workers: PoolWorker[] = [];
  let pool: ScanPool | undefined;
  let startFailure: QuiverError | undefined;
  const onFail = (why: string): void => {
    if (pool) return pool.fail(why);
    // While starting: fail the init requests in flight (and any not yet sent, below).
    startFailure ??= createError("CLOSED", `The scan pool could not start: ${why}.`);
    for (const w of workers) w.rejectAll(startFailure);
  };
  try {
    for (let i = 0; i < count; i++) workers.push(new PoolWorker(await create(), i, onFail));
    if (startFailure) throw startFailure;
    await Promise.all(workers.map((w) => w.request(init)));
  } catch (error) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw error;
  }
  pool = new ScanPool(kernels, transport, workers, options);
  return pool;
}
