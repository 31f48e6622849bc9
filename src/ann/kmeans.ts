/**
 * k-means (Lloyd's algorithm) driven from the host, with the heavy steps in WebAssembly: one
 * kernel call assigns every training row to its nearest centroid, one more sums the rows per
 * centroid. Seeding is k-means++ (each next centre drawn with probability ∝ its distance to the
 * chosen ones), with a seeded PRNG so the same input and seed give the same centroids.
 *
 * Shapes: the training rows are a resident block of n × dim f32; a run may cover only the columns
 * [offset, offset + width) of each row (one PQ sub-space). centroids = k × width f32, row-major.
 */
import { Block } from "../kernels/block.js";
import type { Kernels } from "../kernels/kernels.js";
import { parallelFor, type HeldRows, type RowParallel } from "../kernels/parallel.js";
import { KMeansSession, type IndexMetric } from "../kernels/quantize.js";
import type { VectorBlock } from "../kernels/types.js";
import { gatherRows, normalizeRows, seededRandom } from "./common.js";
import { TimeSlicer } from "../util/yield.js";

/** Training rows per centroid when the caller names no sampleRate (LanceDB's and faiss's 256). */
export const DEFAULT_ROWS_PER_CENTROID = 256;
/**
 * Float32 bytes of the k-means training sample, at most, when no sampleRate is given. The sample
 * is held twice while k-means runs (the host's rows and their WebAssembly block): 256 rows per
 * centroid would be 393 MB each at 1,000 partitions of 384-d, past what a browser tab can hold.
 */
export const KMEANS_SAMPLE_BYTES = 64 * 2 ** 20;
/**
 * The sample never falls below this many rows per centroid, whatever the budget: under ~40 per
 * centroid k-means centroids wander (faiss warns below 39); at 64, recall@10 on glove-100d-100k
 * stays within 0.01 of 256 per centroid (docs/INDEXES.md).
 */
export const MIN_ROWS_PER_CENTROID = 64;

/**
 * Rows k-means trains on for `k` centroids of `dim`-d rows: k × sampleRate when the caller gives
 * a sampleRate; otherwise k × 256, cut to KMEANS_SAMPLE_BYTES but never under
 * k × MIN_ROWS_PER_CENTROID. (1M × 384 with 1,000 partitions: 64,000 rows, 98 MB, not 393 MB.)
 */
export function kmeansSampleRows(k: number, dim: number, sampleRate: number | undefined, budgetBytes = KMEANS_SAMPLE_BYTES): number {
  if (sampleRate !== undefined) return k * sampleRate;
  const fit = Math.floor(budgetBytes / (dim * 4 * k));
  return k * Math.min(DEFAULT_ROWS_PER_CENTROID, Math.max(MIN_ROWS_PER_CENTROID, fit));
}

/**
 * Rows an IVF build over a table samples for training: the k-means sample (kmeansSampleRows) and
 * the codec's — PQ trains on 64 × sampleRate rows, SQ takes its value ranges from the whole
 * sample (256 × sampleRate at least) — whichever is more.
 */
export function ivfSampleRows(kind: string, k: number, dim: number, sampleRate: number | undefined): number {
  return Math.max(kmeansSampleRows(k, dim, sampleRate), (kind === "IVF_SQ" ? 256 : 64) * (sampleRate ?? DEFAULT_ROWS_PER_CENTROID));
}

/**
 * Rows `rows` of x (n × dim f32) as a block of `kernels`, gathered straight into WebAssembly memory:
 * the same block as `kernels.upload(gatherRows(x, dim, rows), dim)` without the packed copy on the
 * host (a k-means sample is tens of MB, and a fresh array costs its page faults on this thread).
 * With `normalize`, each row is normalized there as `normalizeRows` does it (the same floats as
 * gathering from normalized rows).
 */
export function uploadRows(kernels: Kernels, x: Float32Array, dim: number, rows: ArrayLike<number>, normalize = false): Block {
  const heap = kernels.heap;
  const length = rows.length * dim;
  const ptr = heap.alloc(length * 4);
  const out = gatherRows(x, dim, rows, heap.f32(ptr, length));
  if (normalize) normalizeRows(out, dim);
  return new Block(heap, ptr, length, dim, "f32", length * 4);
}

export interface KMeansOptions {
  k: number;
  /** "l2": minimize squared distance. "dot": maximize x·c (spherical k-means with `spherical`). */
  metric: IndexMetric;
  /** Re-normalize centroids after each update (cosine data). Default false. */
  spherical?: boolean;
  /** Default 50. */
  maxIterations?: number;
  /** Stop when an iteration improves the objective by less than this fraction. Default 1e-3 (about 10–15 iterations on real data; recall did not improve past that). */
  tolerance?: number;
  seed?: number;
  columns?: { offset: number; width: number };
  /** Called after seeding (done 0) and after each iteration. */
  progress?: (done: number, total: number) => void;
  /**
   * Threads for the assignment step (the scan pool, on the same kernels as the block): each
   * iteration's rows are split across them — over shared memory in place; over message passing
   * the workers keep a copy of the rows for the whole run and are sent only the centroids each
   * iteration. Over shared memory k-means++ seeding runs on the threads too (from
   * seedOnThreadsFrom). The update step stays on this thread; the centroids are bit for bit those
   * of a single-thread run.
   */
  parallel?: RowParallel;
  /** Rows × width from which seeding runs on shared-memory `parallel` threads. Default 2^20 (1M); 0 always. */
  seedOnThreadsFrom?: number;
}

export interface KMeansResult {
  /** k × width f32 */
  centroids: Float32Array;
  /** Nearest centroid of each training row, by the final centroids. */
  assign: Int32Array;
  iterations: number;
  /** Σ of the training rows' distances to their centroids. */
  objective: number;
}

/**
 * Lloyd's k-means over a block. Yields to the event loop between iterations once a time slice has
 * passed (one iteration is one assignment call over all rows), so a page stays responsive.
 */
export async function kmeans(kernels: Kernels, block: VectorBlock, dim: number, options: KMeansOptions): Promise<KMeansResult> {
  const session = new KMeansSession(kernels, block, dim, options.columns);
  const p = parallelFor(kernels, options.parallel);
  // Without shared memory the workers keep a copy of the rows for every iteration.
  const held = p?.transport === "message" ? await p.hold(session.wholeRows(), dim) : undefined;
  try {
    return await run(session, options, held, p !== undefined);
  } finally {
    held?.release();
    session.free();
  }
}

/** `onThreads`: each assignment awaits other threads, which gives the event loop its turns. */
async function run(session: KMeansSession, options: KMeansOptions, held: HeldRows | undefined, onThreads: boolean): Promise<KMeansResult> {
  const slicer = new TimeSlicer();
  const { metric } = options;
  const n = session.n;
  const width = session.width;
  const k = Math.min(options.k, n);
  const maxIterations = options.maxIterations ?? 50;
  const tolerance = options.tolerance ?? 1e-3;
  const random = seededRandom(options.seed ?? 42);

  const centroids = new Float32Array(options.k * width);
  await seed(session, centroids, k, metric, random, n * width >= (options.seedOnThreadsFrom ?? PARALLEL_SEEDING) ? options.parallel : undefined);
  // Fewer rows than centroids: the surplus centroids repeat row 0 and are never nearer than it.
  for (let j = k; j < options.k; j++) centroids.copyWithin(j * width, 0, width);
  if (options.spherical) normalizeRows(centroids, width);
  options.progress?.(0, maxIterations);

  let previous = Infinity;
  let iterations = 0;
  let result = await session.assignOn(options.parallel, centroids, options.k, metric, held);
  for (let it = 0; it < maxIterations; it++) {
    const { sums, counts } = session.update(options.k);
    recentre(centroids, sums, counts, k, width, random);
    if (options.spherical) normalizeRows(centroids, width);
    result = await session.assignOn(options.parallel, centroids, options.k, metric, held);
    iterations = it + 1;
    options.progress?.(iterations, maxIterations);
    if (!onThreads && slicer.due()) await slicer.yieldNow();
    const objective = objectiveOf(result.dist);
    if (previous - objective <= tolerance * Math.abs(objective)) break;
    previous = objective;
  }
  return { centroids, assign: result.assign, iterations, objective: objectiveOf(result.dist) };
}

/**
 * Rows × width at which k-means++ seeding runs on shared-memory threads: one request per worker for
 * the whole seeding, then a barrier among the workers per centre (tens of microseconds), which
 * pays once a centre's distances take longer than that: from about 8K rows of 128.
 */
const PARALLEL_SEEDING = 1 << 20;

/**
 * k-means++: the first centre uniformly, each next one with probability ∝ distance to the nearest
 * chosen (src/kernels/kmeanspp.ts). One draw of `random` per centre, taken here up front.
 */
async function seed(session: KMeansSession, centroids: Float32Array, k: number, metric: IndexMetric, random: () => number, parallel: RowParallel | undefined): Promise<void> {
  const draws = Float64Array.from({ length: k }, () => random());
  centroids.set(await session.seed(k, metric, draws, parallel), 0);
}

/**
 * centroid_j = sums_j / counts_j. An empty centroid takes over half of a large cluster (picked with
 * probability ∝ its size, as faiss does): both get the large one's centre, nudged apart by ±1/1024
 * of each coordinate so the next assignment splits its rows between them.
 */
function recentre(centroids: Float32Array, sums: Float32Array, counts: Int32Array, k: number, width: number, random: () => number): void {
  for (let j = 0; j < k; j++) {
    const c = counts[j]!;
    if (c > 0) for (let i = 0; i < width; i++) centroids[j * width + i] = sums[j * width + i]! / c;
  }
  const total = counts.reduce((a, b) => a + b, 0);
  for (let j = 0; j < k; j++) {
    if (counts[j]! > 0) continue;
    let target = random() * total;
    let big = 0;
    while (big < k - 1 && (target -= counts[big]!) >= 0) big++;
    if (counts[big]! < 2) for (let i = 0; i < k; i++) if (counts[i]! > counts[big]!) big = i;
    for (let i = 0; i < width; i++) {
      const v = centroids[big * width + i]!;
      const nudge = v === 0 ? 1 / 1024 : v / 1024;
      centroids[j * width + i] = v + nudge;
      centroids[big * width + i] = v - nudge;
    }
    counts[j] = counts[big]! >> 1;
    counts[big] = counts[big]! - counts[j]!;
  }
}

/** Σ distances (l2: squared distances; dot: 1 − x·c); smaller is better either way. */
function objectiveOf(dist: Float32Array): number {
  let s = 0;
  for (let i = 0; i < dist.length; i++) s += dist[i]!;
  return s;
}
