/**
 * The scan pool's protocol, as types. The coordinating thread (pool.ts) cuts a search into chunks
 * (a group of queries × a contiguous range of rows, biggest first, chunks.ts); idle workers take
 * the next chunk, scan it for its queries and answer the chunk's top-k, which the coordinator
 * merges.
 *
 *   coordinator                                   scan worker (scan.ts)
 *   ───────────                                   ─────────────────────
 *   init {shared: module + memory}  ────────────► instantiate on the shared memory  ─► ready
 *   init {message: flavor}          ────────────► loadKernels(flavor)               ─► ready
 *   scan {shared: chunk list}       ────────────► claim chunks (Atomics) until none,
 *                                                 then back up late ones            ─► done {claimed, trace} | error
 *   scan {job, uploads}             ────────────► kernels over one chunk, topk      ─► done {output, trace} | error
 *   rows {task, counter}            ────────────► claim row ranges (Atomics)        ─► done {claimed} | error
 *   build {uploads, job}            ────────────► keep the rows; kernel over them    ─► done {built} | error
 *   drop {handles}                  ────────────► frees cached blocks (message transport)
 *
 * Shared transport: every worker of a search gets the same chunk list and claims chunks through an
 * atomic counter in the shared memory, so a worker the OS deschedules leaves its share to the
 * others; once none are left to claim, an idle worker scans a copy of a chunk a late worker still
 * holds (first answer wins, by compare-and-swap on the chunk's state). Every pointer
 * is into that memory, allocated by the coordinator; results are written in place. Message
 * transport: the coordinator hands one chunk at a time to whichever worker answers, and backs up
 * a late worker's chunks the same way; a worker keeps a copy of each block (sent once, by handle)
 * and `done` carries the chunk's results. `done.trace` times each chunk scan (scan.ts `now()`).
 */
import type { ElementType, KernelFlavor, Metric } from "../kernels/index.js";
import type { KMeansRun, PqKsub, RowTask } from "../kernels/parallel.js";

/**
 * A run of rows of one block inside a worker's chunk: rows [row, row + count) of a dense target,
 * or `count` row numbers starting at `ids` in the job's id list.
 */
export interface ScanPiece {
  /** Shared: index into `ScanJob.blocks`; message: the block's handle in the worker's cache. */
  block: number;
  row: number;
  count: number;
  /** Offset into the job's ids (i32 elements), or −1 for a dense run. */
  ids: number;
  /** Position of the piece's first distance in the chunk. */
  start: number;
}

/** One chunk of a searchBatch. */
export interface ScanJob {
  metric: Metric;
  element: ElementType;
  /** Whether to use the multi-query kernels (the same rule as Kernels.searchBatch, so the same floats). */
  multi: boolean;
  dim: number;
  /** Queries of the chunk (its group of the search's queries). */
  nq: number;
  /** Rows in the chunk (Σ piece.count). */
  total: number;
  /** Results per query: min(k, total). */
  kk: number;
  lo: number;
  hi: number;
  pieces: ScanPiece[];
}

/** Where one scan of a chunk writes its top-k lists (shared transport). */
export interface ScanSlot {
  /** nq × kk i32: top-k positions within the chunk, per query. */
  idx: number;
  /** nq × kk f32. */
  dist: number;
  /** nq i32: how many results each query has (≤ kk). */
  count: number;
}

/**
 * One chunk in the shared memory (shared transport only): its queries (nq × dim elements, a slice
 * of the search's), its gathered ids (Σ i32, written by the coordinator), the blocks its pieces name
 * ([ptr, normsPtr] each), and two output slots: [0] for the worker that claimed it, [1] for a copy
 * an idle worker may scan when the claimer is late. The chunk's state word says which one won.
 */
export interface SharedChunk {
  job: ScanJob;
  queries: number;
  ids: number;
  slots: [claimed: ScanSlot, copy: ScanSlot];
  blocks: [ptr: number, norms: number][];
}

/**
 * A shared-memory search as one worker gets it:
 *
 *   control   (2 + 3 × chunks) i32, updated with Atomics:
 *             [0] next chunk to claim   [1] chunks finished
 *             [2 + c]              chunk c's state: 0 unfinished, 1 its claimer's answer won, 2 a copy's
 *             [2 + chunks + c]     1 once an idle worker took a copy of chunk c (one copy per chunk)
 *             [2 + 2 × chunks + c] when chunk c was claimed: µs after `t0`, + 1 (0: not yet)
 *   qNorms    max group nq f32           this worker's scratch (cosine, multi)
 *   dist      max total × min(nq, 8) f32   this worker's scratch
 *
 * `t0`: when the search began (scan.ts `now()`, comparable across threads). `msPerElement`: the
 * scanning rate an idle worker assumes to judge whether a chunk is late (LATE_FACTOR × its
 * expected time after its claim), until it has timed chunks of its own.
 */
export interface SharedScan {
  control: number;
  qNorms: number;
  dist: number;
  t0: number;
  msPerElement: number;
  chunks: SharedChunk[];
}

/**
 * Row-parallel build work (shared transport only): rows [0, rows) of `task` in ranges of
 * `chunkRows`, claimed through `counter` (2 i32: [next range, ranges finished]); `tally` (1 i32)
 * and `scratch` are this worker's own: the rows it ran, and its working memory.
 */
export interface RowsRequest {
  task: RowTask;
  rows: number;
  chunkRows: number;
  counter: number;
  tally: number;
  scratch: number;
}

/** A block copied to a worker once (message transport). */
export interface BlockUpload {
  handle: number;
  element: ElementType;
  dim: number;
  data: ArrayBuffer;
}

/**
 * Build work over message passing (no shared memory): the kernel runs over a block the worker holds
 * (sent once by `uploads`, dropped by `drop`) or, for "kmeans", a whole k-means over rows sent with
 * it. Shapes as in kernels/parallel.ts; outputs come back in `done.rows`, transferred.
 */
export type BuildJob =
  | { kernel: "kmeans_assign"; block: number; offset: number; width: number; k: number; metric: number; centroids: Float32Array }
  | { kernel: "pq_encode"; block: number; M: number; ksub: PqKsub; codebook: Float32Array }
  /** pq_encode of the held rows' residuals x_r − c_{assign_r}: `assign` is the part's (one per held row), centroids k × dim. */
  | { kernel: "pq_encode_residual"; block: number; M: number; ksub: PqKsub; codebook: Float32Array; assign: Int32Array; centroids: Float32Array }
  | { kernel: "sq_encode"; block: number; offset: Float32Array; invScale: Float32Array }
  | { kernel: "kmeans"; run: KMeansRun };

export interface BuildOutput {
  assign?: Int32Array;
  dist?: Float32Array;
  codes?: Uint8Array;
  centroids?: Float32Array;
}

export type PoolRequest =
  | { type: "init"; id: number; transport: "shared"; module: WebAssembly.Module; memory: WebAssembly.Memory }
  | { type: "build"; id: number; job?: BuildJob; uploads: BlockUpload[] }
  | { type: "init"; id: number; transport: "message"; flavor: KernelFlavor }
  | { type: "scan"; id: number; shared: SharedScan }
  | { type: "rows"; id: number; rows: RowsRequest }
  | { type: "scan"; id: number; job: ScanJob; queries: ArrayBuffer; ids: Int32Array; uploads: BlockUpload[]; cosineNorms: boolean }
  | { type: "drop"; handles: number[] };

/** Results of a message-transport scan: the layout of outCount / outIdx / outDist above. */
export interface ScanOutput {
  count: Int32Array;
  index: Int32Array;
  distance: Float32Array;
}

/** An error as it crosses: a QuiverError's code, message and details, or a plain error's message. */
export interface WireError {
  code?: string;
  message: string;
  details?: Record<string, unknown>;
}

export type PoolReply =
  | { type: "ready"; id: number }
  | { type: "done"; id: number; output?: ScanOutput; claimed?: number; built?: BuildOutput; trace?: number[] }
  | { type: "error"; id: number; error: WireError };

/** A request before the pool numbers it. */
export type UnnumberedRequest = Extract<PoolRequest, { id: number }> extends infer R ? (R extends unknown ? Omit<R, "id"> : never) : never;
