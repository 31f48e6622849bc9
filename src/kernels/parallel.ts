/**
 * Row-parallel kernel calls, for index builds on several threads: one kernel over disjoint row
 * ranges, each range's output written in place. A row's output depends on that row alone (its
 * nearest centroid, its PQ or SQ code), so the bytes written are the same however the rows are
 * split and whichever thread runs which range — a parallel build is bit for bit the serial one.
 *
 * The scan pool runs these over shared WebAssembly memory (src/pool/pool.ts `runRows`); every
 * pointer in a task is into the memory of the runner's `kernels`, allocated by that thread.
 *
 *   kmeans_assign  x = rows of `width` f32 at row stride `stride` floats; c = k × width;
 *                  assign n i32, dist n f32                 scratch k·(width + 1) f32 per thread
 *   pq_encode      x = n × dim f32; codebook M × 256 × dsub; codes n × M u8
 *                                                           scratch 256·(dim + M) f32 per thread
 *   sq_encode      x = n × dim f32; offset, invScale dim f32; codes n × dim i8   no scratch
 */
import type { KernelExports } from "./abi.js";
import type { Kernels } from "./kernels.js";

export type RowTask =
  | { kernel: "kmeans_assign"; x: number; stride: number; width: number; c: number; k: number; metric: number; assign: number; dist: number }
  | { kernel: "pq_encode"; x: number; dim: number; M: number; codebook: number; codes: number }
  | { kernel: "sq_encode"; x: number; dim: number; offset: number; invScale: number; codes: number };

/** Something that runs row tasks across threads: the scan pool over shared memory. */
export interface RowParallel {
  /** The kernels whose memory the tasks' pointers are into. */
  readonly kernels: Kernels;
  /** Threads the tasks are split over. */
  readonly workers: number;
  /** Runs `task` over rows [0, rows), split into ranges that idle threads take in turn. */
  runRows(task: RowTask, rows: number): Promise<void>;
}

/** The runner to use for `kernels`, or undefined when rows must run on this thread. */
export function parallelFor(kernels: Kernels, parallel: RowParallel | undefined): RowParallel | undefined {
  return parallel !== undefined && parallel.kernels === kernels && parallel.workers > 0 ? parallel : undefined;
}

/** Bytes of scratch one thread needs for `task`. */
export function rowTaskScratch(task: RowTask): number {
  if (task.kernel === "kmeans_assign") return task.k * (task.width + 1) * 4;
  if (task.kernel === "pq_encode") return 256 * (task.dim + task.M) * 4;
  return 0;
}

/** Runs rows [first, first + count) of `task` with `scratch` (rowTaskScratch bytes) of this thread's own. */
export function runRowTask(w: KernelExports, task: RowTask, first: number, count: number, scratch: number): void {
  if (count <= 0) return;
  if (task.kernel === "kmeans_assign") {
    w.kmeans_assign(task.x + first * task.stride * 4, count, task.width, task.stride, task.c, task.k, task.metric, scratch, task.assign + first * 4, task.dist + first * 4);
  } else if (task.kernel === "pq_encode") {
    w.pq_encode(task.x + first * task.dim * 4, count, task.dim, task.M, task.codebook, scratch, task.codes + first * task.M);
  } else {
    w.sq_encode(task.x + first * task.dim * 4, count, task.dim, task.offset, task.invScale, task.codes + first * task.dim);
  }
}
