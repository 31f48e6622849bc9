/**
 * The scan pool's protocol, as types. The coordinating thread (pool.ts) splits the rows a search
 * covers into one contiguous chunk per worker; each worker scans its chunk for every query and
 * answers its chunk's top-k, which the coordinator merges.
 *
 *   coordinator                                   scan worker (pool-scan.ts)
 *   ───────────                                   ──────────────────────────
 *   init {shared: module + memory}  ────────────► instantiate on the shared memory  ─► ready
 *   init {message: flavor}          ────────────► loadKernels(flavor)               ─► ready
 *   scan {job, buffers | uploads}   ────────────► kernels over the chunk, topk      ─► done | error
 *   drop {handles}                  ────────────► frees cached blocks (message transport)
 *
 * Shared transport: every pointer in a job is into the one shared memory, allocated by the
 * coordinator; `done` carries nothing, the results are in memory. Message transport: a worker
 * keeps a copy of each block (sent once, by handle), allocates its own buffers, and `done`
 * carries the results (transferred).
 */
import type { ElementType, KernelFlavor, Metric } from "../kernels/index.js";

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

/** One worker's share of a searchBatch. */
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
 * Pointers into the shared memory for a job (shared transport only):
 *
 *   queries   nq × dim elements     written by the coordinator
 *   qNorms    nq f32                worker scratch (cosine, multi)
 *   ids       Σ gathered ids i32    written by the coordinator
 *   dist      total × min(nq, 8) f32   worker scratch
 *   outIdx    nq × kk i32           top-k positions within the chunk, per query
 *   outDist   nq × kk f32
 *   outCount  nq i32                how many results each query has (≤ kk)
 *   blocks    [ptr, normsPtr] per block the pieces name
 */
export interface SharedBuffers {
  queries: number;
  qNorms: number;
  ids: number;
  dist: number;
  outIdx: number;
  outDist: number;
  outCount: number;
  blocks: [ptr: number, norms: number][];
}

/** A block copied to a worker once (message transport). */
export interface BlockUpload {
  handle: number;
  element: ElementType;
  dim: number;
  data: ArrayBuffer;
}

export type PoolRequest =
  | { type: "init"; id: number; transport: "shared"; module: WebAssembly.Module; memory: WebAssembly.Memory }
  | { type: "init"; id: number; transport: "message"; flavor: KernelFlavor }
  | { type: "scan"; id: number; job: ScanJob; shared: SharedBuffers }
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
  | { type: "done"; id: number; output?: ScanOutput }
  | { type: "error"; id: number; error: WireError };

/** A request before the pool numbers it. */
export type UnnumberedRequest = Extract<PoolRequest, { id: number }> extends infer R ? (R extends unknown ? Omit<R, "id"> : never) : never;
