/**
 * The scan pool's protocol, as types. The coordinating thread (pool.ts) cuts the rows a search
 * covers into many small contiguous chunks (several per worker); idle workers take the next chunk,
 * scan it for every query and answer the chunk's top-k, which the coordinator merges.
 *
 *   coordinator                                   scan worker (scan.ts)
 *   ───────────                                   ─────────────────────
 *   init {shared: module + memory}  ────────────► instantiate on the shared memory  ─► ready
 *   init {message: flavor}          ────────────► loadKernels(flavor)               ─► ready
 *   scan {shared: chunk list}       ────────────► claim chunks (Atomics) until none ─► done {claimed} | error
 *   scan {job, uploads}             ────────────► kernels over one chunk, topk      ─► done {output} | error
 *   rows {task, counter}            ────────────► claim row ranges (Atomics)        ─► done {claimed} | error
 *   build {uploads, job}            ────────────► keep the rows; kernel over them    ─► done {built} | error
 *   drop {handles}                  ────────────► frees cached blocks (message transport)
 *
 * Shared transport: every worker of a search gets the same chunk list and claims chunks through an
 * atomic counter in the shared memory, so a worker the OS deschedules leaves its share to the
 * others; every pointer is into that memory, allocated by the coordinator; results are written in
 * place. Message transport: the coordinator hands one chunk at a time to whichever worker answers;
 * a worker keeps a copy of each block (sent once, by handle) and `done` carries the chunk's results.
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
  nq: number;
  /** Rows in the chunk (Σ piece.count). */
  total: number;
  /** Results per query: min(k, total). */
  kk: number;
  lo: number;
  hi: number;
  pieces: ScanPiece[];
}

/**
 * One chunk in the shared memory (shared transport only):
 *
 *   ids       Σ gathered ids i32    written by the coordinator
 *   outIdx    nq × kk i32           top-k positions within the chunk, per query
 *   outDist   nq × kk f32
 *   outCount  nq i32                how many results each query has (≤ kk)
 *   blocks    [ptr, normsPtr] per block the pieces name
 */
export interface SharedChunk {
  job: ScanJob;
  ids: number;
  outIdx: number;
  outDist: number;
  outCount: number;
  blocks: [ptr: number, norms: number][];
}

/**
 * A shared-memory search as one worker gets it:
 *
 *   queries   nq × dim elements         written by the coordinator
 *   counter   2 i32                     [next chunk to claim, chunks finished], updated with Atomics
 *   qNorms    nq f32                    this worker's scratch (cosine, multi)
 *   dist      max total × min(nq, 8) f32   this worker's scratch
 */
export interface SharedScan {
  queries: number;
  counter: number;
  qNorms: number;
  dist: number;
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
  | { type: "done"; id: number; output?: ScanOutput; claimed?: number; built?: BuildOutput }
  | { type: "error"; id: number; error: WireError };

/** A request before the pool numbers it. */
export type UnnumberedRequest = Extract<PoolRequest, { id: number }> extends infer R ? (R extends unknown ? Omit<R, "id"> : never) : never;
