/**
 * IVF: k-means splits the vectors into numPartitions partitions around centroids; a query ranks
 * the centroids and scans the rows of the `nprobes` nearest partitions only. The partitions hold
 * f32 vectors (IVF_FLAT), int8 SQ codes (IVF_SQ), PQ codes of residuals (IVF_PQ) or RaBitQ codes of
 * residuals (IVF_RQ, rabitq.ts): IVF holds a codec (ivf-codecs.ts), it does not copy one.
 *
 * Memory (resident):
 *   centroids   numPartitions × dim f32 (also a WebAssembly block, for the centroid scan)
 *   rowIds      n f64, by position
 *   partitions  positions n_p i32 + codes (+ norms) per resident partition (ivf-partitions.ts)
 *
 * File sections: "centroids" numPartitions × dim f32, "rowIds" n f64, "partitionRows"
 * numPartitions i32, "partitionOffsets" numPartitions f64 (from the data start), and the codec's
 * ("pqCodebook" M × 256 × dsub f32 | "sqLo", "sqHi" dim f32 | "rqRotation" D' × dim f32). Partition bodies follow the head,
 * so `openIvf` with `loadPartition` keeps only centroids, codebooks and row ids in memory and
 * reads each partition's byte range the first time a query probes it.
 */
import { createError } from "../errors.js";
import type { Kernels } from "../kernels/kernels.js";
import { assignNearestParallel, parallelFor, type RowParallel } from "../kernels/parallel.js";
import { Block } from "../kernels/block.js";
import { assignNearest, metricCode, ownBlock } from "../kernels/quantize.js";
import { ScanSession } from "../kernels/scan.js";
import type { VectorBlock } from "../kernels/types.js";
import {
  allowedTest, bitCount, checkDistanceType, checkK, checkPositiveInt, checkVectors, defaultSubVectors, forSpace, gatherRows, normalizeRows, prepareQuery, RowIds, sampleRows, seededRandom, spaceOf,
} from "./common.js";
import { corruptIndex, IndexWriter, type IndexHead } from "./format.js";
import { crc32 } from "../storage/crc32.js";
import { FlatCodec, PqCodec, residuals, SqCodec, type IvfCodec } from "./ivf-codecs.js";
import { bodyLength, Partitions, type LoadPartition } from "./ivf-partitions.js";
import { kmeans, kmeansSampleRows, uploadRows } from "./kmeans.js";
import { ProductQuantizer } from "./pq.js";
import { defaultSubVectors4, PQ4_DEFAULT_REFINE, PQ4_MAX_SUBVECTORS } from "./pq4.js";
import { RabitqCodec, randomRotation, rqCandidates, RQ_DEFAULT_REFINE } from "./rabitq.js";
import { candidateCount, emptyHits, refine } from "./refine.js";
import { ScalarQuantizer } from "./sq.js";
import type { DistanceType, IndexStats, IvfBuildOptions, SearchHits, SearchOptions, SerializedStream, VectorIndex } from "./types.js";
import { TimeSlicer } from "../util/yield.js";

export type IvfKind = "IVF_FLAT" | "IVF_PQ" | "IVF_SQ" | "IVF_RQ";

export const DEFAULT_NPROBES = 20;
const DEFAULT_SAMPLE_RATE = 256;
const DEFAULT_MAX_ITERATIONS = 50;
/** Rows per `add` step while building: bounds the temporary memory of one step. */
const BUILD_CHUNK = 65_536;
/**
 * Bytes of f32 rows per slice of an `add` on this thread or over shared memory: the normalized
 * copy (cosine), the assignment's and the encoding's copies into WebAssembly memory and the
 * residuals are one slice's, reused or dropped slice by slice, not the whole batch's (a 50,000-row
 * fragment of 384-d vectors is 77 MB; a slice is 4 MiB).
 */
const ADD_SLICE_BYTES = 4 * 2 ** 20;

export interface IvfOpenOptions {
  /** Reads partition bodies on demand; without it the bytes given to open must hold the whole file. */
  loadPartition?: LoadPartition;
  /** Resident bytes of partitions loaded on demand before the least recently used are dropped. Default unlimited. */
  cacheBytes?: number;
}

/** Extra knobs for experiments; not part of the LanceDB-shaped options. */
export interface IvfInternalOptions {
  /** IVF_PQ: encode residuals x − c_p (default) or the raw vectors. */
  residual?: boolean;
  /** PQ k-means iterations per sub-space. Default: maxIterations. */
  pqIterations?: number;
  /** Rows PQ trains on. Default 64 × sampleRate (see docs/INDEXES.md). */
  pqSampleRows?: number;
  /** The k-means sample's byte budget when no sampleRate is given. Default KMEANS_SAMPLE_BYTES (kmeans.ts). */
  kmeansSampleBytes?: number;
  /**
   * Rows the index will be built over (`add`ed after `train`): the build's working set
   * (`ivfBuildBytes`) is reserved in WebAssembly memory before training allocates anything.
   */
  buildRows?: number;
  /** `train`'s sample is the index's to change: cosine normalizes it in place instead of a copy (one sample less in memory). */
  ownSample?: boolean;
  /**
   * `train`'s sample is `build`'s rows: checked already, and not the index's to change. For cosine
   * each copy the training takes of them (the k-means block, the codec's rows) is normalized as it
   * is taken — the same floats as copies of the normalized rows, without a normalized copy of all.
   */
  borrowed?: boolean;
}

/**
 * Bytes of WebAssembly memory a build of `rows` rows will want at once: the larger of the k-means
 * working set (its sample block, per-row buffers and centroid buffers) and the filled partitions
 * (positions, codes, norms — each allocated once at its final size, see `reserve` — and an add's
 * slices). IVF_RQ's codes are not sized here: only its training counts.
 */
export function ivfBuildBytes(kind: IvfKind, rows: number, dim: number, options: IvfBuildOptions & IvfInternalOptions = {}): number {
  const k = Math.min(rows, options.numPartitions ?? Math.max(1, Math.round(Math.sqrt(rows))));
  const sample = Math.min(rows, kmeansSampleRows(k, dim, options.sampleRate, options.kmeansSampleBytes));
  const training = sample * (dim * 4 + 12) + 4 * k * (dim + 1) * 4;
  const l2 = (options.distanceType ?? "l2") === "l2";
  let perRow = 0;
  let perPartition = 0;
  if (kind === "IVF_FLAT") perRow = dim * 4;
  else if (kind === "IVF_SQ") perRow = dim + (l2 ? 4 : 0);
  else if (kind === "IVF_PQ") {
    const four = options.numBits === 4;
    const M = options.numSubVectors ?? (four ? defaultSubVectors4(dim) : defaultSubVectors(dim));
    perRow = (four ? M / 2 : M) + (l2 && options.residual !== false ? 4 : 0);
    if (four) perPartition = 16 * M;
  }
  if (perRow === 0) return training;
  const partitions = rows * (perRow + 4) + k * perPartition;
  return Math.max(training, partitions + Math.min(rows * dim * 4, ADD_SLICE_BYTES) + 2 * k * dim * 4);
}

/** Working sets below this are left to grow memory as they go: a doubling then costs less than this. */
const RESERVE_FROM_BYTES = 16 * 2 ** 20;

/**
 * Grows WebAssembly memory to hold `bytes` more in one free block now, if it cannot already, so
 * that a build's allocations fit in it. Why: the allocator (AssemblyScript's TLSF) grows memory by
 * at least its current size when a block does not fit, and memory never shrinks — a 94 MiB k-means
 * sample followed by a 1.5 MiB centroid buffer reserved 198 MiB. One growth to the build's
 * working set up front, when memory is small, grows by just that. Working sets under 16 MiB are
 * left alone. A hint: a failure is ignored (the build's own allocations then report it).
 */
export function reserveMemory(kernels: Kernels, bytes: number): void {
  if (bytes < RESERVE_FROM_BYTES) return;
  try {
    kernels.heap.free(kernels.heap.alloc(bytes));
  } catch {
    // The build's allocations will raise OUT_OF_MEMORY themselves if they do not fit.
  }
}

export class IvfIndex implements VectorIndex {
  readonly kind: IvfKind;
  readonly metric: DistanceType;
  readonly dim: number;
  readonly #kernels: Kernels;
  readonly #centroids: Float32Array;
  readonly #centroidBlock: VectorBlock;
  readonly #codec: IvfCodec;
  readonly #parts: Partitions;
  readonly #rowIds: RowIds;
  readonly #params: Record<string, number | string | boolean>;
  readonly #sessions: ScanSession[] = [];

  private constructor(kernels: Kernels, kind: IvfKind, metric: DistanceType, dim: number, centroids: Float32Array, codec: IvfCodec, parts: Partitions, rowIds: RowIds, params: Record<string, number | string | boolean>) {
    this.#kernels = kernels;
    this.kind = kind;
    this.metric = metric;
    this.dim = dim;
    this.#centroids = centroids;
    this.#centroidBlock = kernels.upload(centroids, dim);
    this.#codec = codec;
    this.#parts = parts;
    this.#rowIds = rowIds;
    this.#params = params;
  }

  /**
   * Trains centroids (and the PQ/SQ codec) on `vectors` and indexes them all. For data that does
   * not fit in memory at once, `train` on a sample and `add` the rest in batches instead.
   */
  static async build(kernels: Kernels, kind: IvfKind, vectors: Float32Array, dim: number, rowIds?: Float64Array, options: IvfBuildOptions & IvfInternalOptions = {}): Promise<IvfIndex> {
    const n = checkVectors(vectors, dim, rowIds);
    // No normalized copy of all rows for cosine: the training normalizes the rows it copies, and
    // each add step a slice at a time (one reused buffer), so this thread's work stays small
    // beside the workers' — on two cores it would take its share from theirs.
    const cosine = checkDistanceType(options.distanceType) === "cosine";
    const index = await IvfIndex.train(kernels, kind, vectors, dim, { ...options, borrowed: true });
    const ids = rowIds ?? RowIds.sequence(0, n);
    const slicer = new TimeSlicer();
    // Rows added in several steps go in two passes: every row's partition first, so that each
    // partition is allocated once at its final size (see `reserve`), then the codes written into
    // them. One step allocates each partition once by itself.
    let assign: Int32Array | undefined;
    if (n > BUILD_CHUNK) {
      assign = new Int32Array(n);
      for (let first = 0; first < n; first += BUILD_CHUNK) {
        const end = Math.min(n, first + BUILD_CHUNK);
        assign.set(await index.#assignInSpace(vectors.subarray(first * dim, end * dim), options.parallel, cosine), first);
        options.progress?.({ phase: "assign", done: end, total: n });
        if (slicer.due()) await slicer.yieldNow();
      }
      index.reserve(assign);
    }
    for (let first = 0; first < n; first += BUILD_CHUNK) {
      const end = Math.min(n, first + BUILD_CHUNK);
      await index.#addInSpace(vectors.subarray(first * dim, end * dim), ids.subarray(first, end), options.parallel, cosine, false, assign?.subarray(first, end));
      options.progress?.({ phase: "encode", done: end, total: n });
      if (slicer.due()) await slicer.yieldNow();
    }
    return index;
  }

  /**
   * An empty index whose centroids and codec are trained on `sample` (n × dim): k-means sees
   * numPartitions × sampleRate of its rows, PQ 256 × sampleRate residuals, SQ all of them.
   *
   * `sample` may be a block of this kernels' WebAssembly memory (n × dim f32, `dim` rows): a table's
   * build reads its sample straight there, so the sample is not held twice (in JS and as the
   * k-means block) while k-means runs. The block is then the index's: normalized in place for
   * cosine, used as the k-means block when k-means takes every row, and freed once the codec's rows
   * are copied out of it.
   */
  static async train(kernels: Kernels, kind: IvfKind, sample: Float32Array | Block, dim: number, options: IvfBuildOptions & IvfInternalOptions = {}): Promise<IvfIndex> {
    const onHeap = sample instanceof Block ? ownBlock(kernels, sample) : undefined;
    try {
      return await IvfIndex.#train(kernels, kind, onHeap ?? (sample as Float32Array), onHeap, dim, options);
    } finally {
      onHeap?.free();
    }
  }

  static async #train(kernels: Kernels, kind: IvfKind, given: Float32Array | Block, onHeap: Block | undefined, dim: number, options: IvfBuildOptions & IvfInternalOptions): Promise<IvfIndex> {
    if (kind !== "IVF_FLAT" && kind !== "IVF_PQ" && kind !== "IVF_SQ" && kind !== "IVF_RQ") throw createError("INVALID_ARGUMENT", `Unknown IVF kind "${String(kind)}".`);
    // The sample's floats: a view of WebAssembly memory for a block, taken again after anything
    // that may grow the memory (a view of memory that grew no longer sees it).
    const heapRows = (): Float32Array => kernels.heap.f32(onHeap!.ptr, onHeap!.length);
    const sample = onHeap ? heapRows() : given as Float32Array;
    const metric = checkDistanceType(options.distanceType);
    const space = spaceOf(metric);
    // `borrowed` rows are `build`'s, checked already: one pass over them less.
    const n = options.borrowed === true && sample.length % dim === 0 ? sample.length / dim : checkVectors(sample, dim, undefined);
    if (n === 0) throw createError("INVALID_ARGUMENT", "An IVF index needs at least one training vector.");
    const numPartitions = Math.min(n, checkPositiveInt(options.numPartitions, "numPartitions", Math.max(1, Math.round(Math.sqrt(n))), 65_536));
    const sampleRate = checkPositiveInt(options.sampleRate, "sampleRate", DEFAULT_SAMPLE_RATE);
    const maxIterations = checkPositiveInt(options.maxIterations, "maxIterations", DEFAULT_MAX_ITERATIONS, 10_000);
    if (kind === "IVF_RQ") {
      if (options.numBits !== undefined && options.numBits !== 1) throw createError("INVALID_ARGUMENT", `IVF_RQ supports numBits 1 (one sign bit per dimension, classic RaBitQ), got ${options.numBits}.`, { numBits: options.numBits });
    } else if (kind === "IVF_PQ") {
      if (options.numBits !== undefined && options.numBits !== 8 && options.numBits !== 4) throw createError("INVALID_ARGUMENT", `IVF_PQ numBits must be 8 (256 centroids per sub-space) or 4 (16, the fast scan), got ${options.numBits}.`, { numBits: options.numBits });
    } else if (options.numBits !== undefined && options.numBits !== 8) throw createError("INVALID_ARGUMENT", `numBits must be 8 (256 centroids per sub-space), got ${options.numBits}.`);
    // The build's working set in one growth of WebAssembly memory, before anything else grows it.
    if (options.buildRows !== undefined) reserveMemory(kernels, ivfBuildBytes(kind, options.buildRows, dim, { ...options, numPartitions }));
    const seed = options.seed ?? 42;
    const random = seededRandom(seed);
    const progress = options.progress;
    // Borrowed rows stay as they are (their copies are normalized); a block is the index's own:
    // normalized in place, as an owned sample is.
    const normalizeCopies = options.borrowed === true && metric === "cosine";
    const x = options.borrowed === true ? sample : (onHeap !== undefined || options.ownSample === true) && metric === "cosine" ? normalizeRows(sample, dim) : forSpace(sample, dim, metric);
    // Rows of x (all when `rows` is undefined) as a JS array the codec's training may keep: a copy
    // for a block (its memory is freed, or may move, while the codec trains).
    const rowsOf = (rows?: ArrayLike<number>): Float32Array => {
      const from = onHeap ? heapRows() : x;
      const out = rows === undefined ? (onHeap || normalizeCopies ? from.slice() : from) : gatherRows(from, dim, rows);
      return normalizeCopies ? normalizeRows(out, dim) : out;
    };

    // Coarse quantizer: k-means on numPartitions × sampleRate rows (by default capped in bytes).
    progress?.({ phase: "sample", done: 0, total: 1 });
    const kmRows = sampleRows(n, kmeansSampleRows(numPartitions, dim, options.sampleRate, options.kmeansSampleBytes), random);
    const block = onHeap ? (kmRows.length === n ? onHeap : gatherOnHeap(kernels, onHeap, dim, kmRows))
      : kmRows.length === n && !normalizeCopies ? kernels.upload(x, dim) : uploadRows(kernels, x, dim, kmRows, normalizeCopies);
    let centroids: Float32Array;
    try {
      centroids = (await kmeans(kernels, block, dim, {
        k: numPartitions,
        metric: metric === "cosine" ? "dot" : "l2",
        spherical: metric === "cosine",
        maxIterations,
        seed,
        progress: (done, total) => progress?.({ phase: "kmeans", done, total }),
        parallel: options.parallel,
      })).centroids;
    } finally {
      if (block !== onHeap) block.free();
    }

    const params: Record<string, number | string | boolean> = { numPartitions, sampleRate, maxIterations };
    let codec: IvfCodec;
    if (kind === "IVF_FLAT") codec = new FlatCodec(dim, space);
    else if (kind === "IVF_RQ") codec = new RabitqCodec(kernels, dim, metric, centroids, await randomRotation(dim, seed));
    else if (kind === "IVF_SQ") {
      progress?.({ phase: "train-sq", done: 0, total: 1 });
      codec = new SqCodec(ScalarQuantizer.train(kernels, rowsOf(), dim), space);
      progress?.({ phase: "train-sq", done: 1, total: 1 });
    } else {
      const numBits = options.numBits === 4 ? 4 : 8;
      // 4 bits: twice the sub-vectors of 8 bits, the same bytes per row (dim / 4), at most 256.
      const numSubVectors = checkPositiveInt(options.numSubVectors, "numSubVectors", numBits === 4 ? defaultSubVectors4(dim) : defaultSubVectors(dim), numBits === 4 ? Math.min(dim, PQ4_MAX_SUBVECTORS) : dim);
      const residual = options.residual ?? true;
      const pqRows = sampleRows(n, options.pqSampleRows ?? 64 * sampleRate, random);
      let pqSample = pqRows.length === n ? rowsOf() : rowsOf(pqRows);
      // The block's rows are all copied out that the codec needs: its memory goes back before PQ trains.
      onHeap?.free();
      // In place when the sample is a copy made here, not x itself (which may be the caller's rows).
      if (residual) pqSample = residuals(pqSample, dim, (await nearestCentroids(kernels, pqSample, dim, centroids, metric, options.parallel)).assign, centroids, pqSample === x ? undefined : pqSample);
      const pq = await ProductQuantizer.train(kernels, pqSample, dim, {
        numSubVectors,
        numBits,
        maxIterations: options.pqIterations ?? maxIterations,
        seed,
        parallel: options.parallel,
        progress: (done, total) => progress?.({ phase: "train-pq", done, total }),
      });
      codec = new PqCodec(kernels, pq, space, residual, centroids);
    }
    Object.assign(params, codec.params());
    const parts = new Partitions(kernels, codec, new Int32Array(numPartitions));
    return new IvfIndex(kernels, kind, metric, dim, centroids, codec, parts, new RowIds(), params);
  }

  /** Reads an index written by `serialize`: the whole file, or its head plus `loadPartition`. */
  static open(kernels: Kernels, head: IndexHead, options: IvfOpenOptions = {}): IvfIndex {
    const meta = head.meta;
    const kind = meta.kind as IvfKind;
    const metric = checkDistanceType(meta.metric as DistanceType);
    const space = spaceOf(metric);
    const centroids = head.f32("centroids");
    const rows = head.i32("partitionRows");
    const offsets = head.f64("partitionOffsets");
    // Version 4 stores row ids that run in sequence as runs (1M rows in 20 fragments: 20 pairs, not 8 MB).
    const rowIds = head.has("rowIdRuns")
      ? RowIds.fromRunPairs(head.f64("rowIdRuns"), meta.size) ?? corruptIndex("its row id runs are malformed")
      : RowIds.adopt(head.f64("rowIds"));
    const nlist = rows.length;
    if (nlist === 0 || centroids.length !== nlist * meta.dim || offsets.length !== nlist) corruptIndex("its partition tables disagree in length");
    let total = 0;
    for (let p = 0; p < nlist; p++) {
      if (rows[p]! < 0 || !Number.isSafeInteger(offsets[p]!) || offsets[p]! < 0 || offsets[p]! % 16 !== 0) corruptIndex(`partition ${p} has a malformed entry`, { partition: p });
      total += rows[p]!;
    }
    if (total !== rowIds.size || total !== meta.size) corruptIndex(`its partitions hold ${total} rows, its row ids ${rowIds.size}, its size ${meta.size}`);
    const codec = kind === "IVF_FLAT" ? new FlatCodec(meta.dim, space) : kind === "IVF_SQ" ? SqCodec.read(head, space)
      : kind === "IVF_RQ" ? RabitqCodec.read(kernels, head, metric, centroids) : PqCodec.read(kernels, head, space, centroids);
    const absolute = Float64Array.from(offsets, (o) => head.dataStart + o);
    const parts = new Partitions(kernels, codec, rows, {
      offsets: absolute, load: options.loadPartition, cacheBytes: options.cacheBytes, verify: head.bodyCheck(),
    });
    // Bodies that came with the bytes are taken now; the rest wait for loadPartition.
    let missing = 0;
    for (let p = 0; p < rows.length; p++) {
      if (rows[p] === 0) continue;
      const body = head.slice(offsets[p]!, bodyLength(rows[p]!, codec));
      if (body && !options.loadPartition) parts.adopt(p, body);
      else missing++;
    }
    if (missing > 0 && !options.loadPartition) {
      throw createError("INVALID_ARGUMENT", `${missing} partitions are not in the given bytes; pass the whole file or a loadPartition callback.`, { missing });
    }
    return new IvfIndex(kernels, kind, metric, meta.dim, centroids, codec, parts, rowIds, meta.params);
  }

  get size(): number {
    return this.#rowIds.size;
  }

  get numPartitions(): number {
    return this.#parts.count;
  }

  bytes(): number {
    return this.#centroids.byteLength * 2 + this.#rowIds.bytes + this.#parts.residentBytes + (this.#codec.bytes?.() ?? 0);
  }

  stats(): IndexStats {
    return { kind: this.kind, metric: this.metric, dim: this.dim, size: this.size, memoryBytes: this.bytes(), params: { ...this.#params } };
  }

  rowId(position: number): number {
    return this.#rowIds.get(position);
  }

  /** Rows in partition p. */
  partitionRows(p: number): number {
    return this.#parts.rows(p);
  }

  async search(query: Float32Array | ArrayLike<number>, k: number, options: SearchOptions = {}): Promise<SearchHits> {
    checkK(k);
    // RaBitQ codes rank candidates coarsely: re-rank by default whenever vectors can be fetched.
    if (options.refineFactor === undefined && typeof options.fetchVectors === "function") {
      if (this.kind === "IVF_RQ") options = { ...options, refineFactor: RQ_DEFAULT_REFINE };
      else if (this.#params.numBits === 4) options = { ...options, refineFactor: PQ4_DEFAULT_REFINE };
    }
    const q = prepareQuery(query, this.dim, this.metric);
    const need = candidateCount(k, options);
    if (k === 0 || this.size === 0) return emptyHits();
    const nlist = this.#parts.count;
    const nprobes = Math.min(nlist, checkPositiveInt(options.nprobes, "nprobes", DEFAULT_NPROBES));
    // A bitmap filter is applied inside the scan kernels; a predicate row by row after each scan.
    const bitmap = options.allowed instanceof Uint8Array ? options.allowed : undefined;
    const test = bitmap ? undefined : allowedTest(options.allowed, this.#rowIds);
    const centroidDist = this.#kernels.distances(spaceOf(this.metric), q, this.#centroidBlock, this.dim);

    const session = this.#sessions.pop() ?? new ScanSession(this.#kernels);
    const probed: number[] = []; // partition, start, partition, start, …
    // Probed partitions stay pinned until their rows are mapped to positions in #collect.
    const pinned: Int32Array[] = [];
    let hits: SearchHits;
    try {
      // A filter allowing a share s of the rows puts the k nearest allowed rows about as far out as
      // the k/s nearest overall: probe nprobes / √s partitions (the share known from a bitmap), and
      // more while fewer than the candidates asked for are allowed.
      const share = bitmap ? bitCount(bitmap, this.size) / this.size : 1;
      const widened = share > 0 && share < 1 ? Math.min(nlist, Math.ceil(nprobes / Math.sqrt(share))) : nprobes;
      // maximumNprobes (LanceDB's name) caps how far a filtered search widens.
      const most = Math.min(nlist, Math.max(nprobes, options.maximumNprobes ?? nlist));
      let order = this.#kernels.topk(centroidDist, widened).index;
      const constants = this.#codec.begin(session, q);
      let rows = 0;
      for (let i = 0; i < widened; i++) rows += this.#parts.rows(order[i]!);
      session.reset(rows);
      session.setAllowed(bitmap, this.size);
      let allowed = 0;
      let next = 0;
      while (next < most) {
        if (next >= order.length) order = this.#kernels.topk(centroidDist, nlist).index;
        const batch = order.subarray(next, next === 0 ? Math.min(widened, most) : Math.min(most, next + nprobes));
        const loading = this.#parts.pin(batch);
        pinned.push(batch);
        if (loading) await loading;
        for (let i = 0; i < batch.length; i++) {
          const p = batch[i]!;
          const part = this.#parts.get(p);
          if (part.rows === 0) continue;
          const scored = session.scored;
          const start = this.#codec.scan(session, part, p, centroidDist[p]!, constants);
          probed.push(p, start);
          if (test) {
            const positions = this.#parts.positions(p);
            allowed += session.mask(start, part.rows, (j) => test(positions[j]!));
          } else allowed += session.scored - scored;
        }
        next += batch.length;
        if (allowed >= need && next >= widened) break;
      }
      hits = this.#collect(session, probed, need, k);
    } finally {
      for (const batch of pinned) this.#parts.unpin(batch);
      this.#sessions.push(session);
    }
    if (need > k) return refine(this.#kernels, this.metric, this.dim, Float32Array.from(query as ArrayLike<number>), hits, k, options);
    return hits;
  }

  /**
   * The `need` best scanned rows, mapped from buffer positions to partition rows and row ids
   * (RaBitQ: those its error bound does not rule out, rabitq.ts).
   */
  #collect(session: ScanSession, probed: number[], need: number, k: number): SearchHits {
    const top = this.kind === "IVF_RQ" ? rqCandidates(session, session.top(need), k) : session.top(need);
    const positions = new Int32Array(top.index.length);
    for (let j = 0; j < top.index.length; j++) {
      const i = top.index[j]!;
      // Binary search for the last probed partition whose start ≤ i (starts ascend).
      let a = 0;
      let b = probed.length / 2 - 1;
      while (a < b) {
        const mid = (a + b + 1) >> 1;
        if (probed[2 * mid + 1]! <= i) a = mid;
        else b = mid - 1;
      }
      positions[j] = this.#parts.position(probed[2 * a]!, i - probed[2 * a + 1]!);
    }
    return { rows: this.#rowIds.lookup(positions), positions, distances: top.distance };
  }

  /**
   * Assigns each vector to its nearest centroid and appends its code to that partition; with
   * `parallel`, both steps split the rows across its threads (the same result). `scratch`: the
   * vectors are the caller's to discard (a build's read buffer), so cosine normalizes them in place
   * instead of into a buffer of the add's own.
   */
  async add(vectors: Float32Array, rowIds: Float64Array, parallel?: RowParallel, scratch = false, assign?: Int32Array): Promise<void> {
    checkVectors(vectors, this.dim, rowIds);
    if (assign !== undefined) this.#checkAssign(assign, rowIds.length);
    await this.#addInSpace(vectors, rowIds, parallel, this.metric === "cosine", scratch, assign);
  }

  /**
   * The partition `add` would put each vector in. A build's first pass: with every row's partition
   * known, `reserve` sizes each partition once, and `add` is then given the assignment.
   */
  async assign(vectors: Float32Array, parallel?: RowParallel, scratch = false): Promise<Int32Array> {
    checkVectors(vectors, this.dim, undefined);
    return this.#assignInSpace(vectors, parallel, this.metric === "cosine", scratch);
  }

  /**
   * Allocates, once, the room the rows `assign` sent to each partition will take: appending them
   * then writes in place, and growing partitions leave no holes in WebAssembly memory.
   */
  reserve(assign: Int32Array): void {
    this.#checkAssign(assign, assign.length);
    const more = new Int32Array(this.#parts.count);
    for (let r = 0; r < assign.length; r++) more[assign[r]!]!++;
    this.#parts.reserve(more);
  }

  #checkAssign(assign: Int32Array, n: number): void {
    const nlist = this.#parts.count;
    if (assign.length !== n) throw createError("INVALID_ARGUMENT", `An assignment of ${assign.length} rows was given for ${n} vectors.`);
    for (let r = 0; r < n; r++) {
      if (!(assign[r]! >= 0 && assign[r]! < nlist)) throw createError("INVALID_ARGUMENT", `Row ${r} is assigned to partition ${assign[r]}; the index has ${nlist}.`);
    }
  }

  async #assignInSpace(x: Float32Array, parallel: RowParallel | undefined, normalize: boolean, scratch = false): Promise<Int32Array> {
    const p = parallelFor(this.#kernels, parallel);
    if (p?.transport === "message") return (await nearestCentroids(this.#kernels, this.#inSpace(x, normalize, scratch), this.dim, this.#centroids, this.metric, p)).assign;
    return (await this.#encodeSliced(x, p, normalize, scratch, undefined, false)).assign;
  }

  /** x in index space: normalized for cosine (`normalize`), in place when x is the caller's `scratch`. */
  #inSpace(x: Float32Array, normalize: boolean, scratch: boolean): Float32Array {
    if (!normalize) return x;
    return scratch ? normalizeRows(x, this.dim) : forSpace(x, this.dim, this.metric);
  }

  /**
   * `add` of vectors in index space, or to be normalized first (`normalize`: cosine's raw vectors);
   * `given`: their partitions, from `assign`.
   */
  async #addInSpace(x: Float32Array, rowIds: Float64Array, parallel: RowParallel | undefined, normalize: boolean, scratch = false, given?: Int32Array): Promise<void> {
    const n = rowIds.length;
    if (n === 0) return;
    const p = parallelFor(this.#kernels, parallel);
    const { codes, norms, assign } = p?.transport === "message"
      ? await this.#encodeHeld(p, this.#inSpace(x, normalize, scratch), given)
      : await this.#encodeSliced(x, p, normalize, scratch, given);
    const first = this.#rowIds.size;

    // Counting sort by partition: rows of partition p at order[starts[p] .. starts[p + 1]).
    const nlist = this.#parts.count;
    const starts = new Int32Array(nlist + 1);
    for (let r = 0; r < n; r++) starts[assign[r]! + 1]!++;
    for (let p = 0; p < nlist; p++) starts[p + 1]! += starts[p]!;
    const order = new Int32Array(n);
    const fill = starts.slice(0, nlist);
    for (let r = 0; r < n; r++) order[fill[assign[r]!]!++] = r;

    const touched = Int32Array.from({ length: nlist }, (_, p) => p).filter((p) => starts[p + 1]! > starts[p]!);
    const loading = this.#parts.pin(touched);
    try {
      if (loading) await loading;
      // The rows' codes, norms and positions gathered in partition order once (three arrays per
      // add, not per partition); each partition appends its run of them.
      const size = this.#codec.codeSize;
      const sortedCodes = new Uint8Array(n * size);
      const sortedNorms = norms ? new Float32Array(n) : undefined;
      const positions = new Int32Array(n);
      for (let j = 0; j < n; j++) {
        const r = order[j]!;
        sortedCodes.set(codes.subarray(r * size, (r + 1) * size), j * size);
        if (sortedNorms) sortedNorms[j] = norms![r]!;
        positions[j] = first + r;
      }
      for (const p of touched) {
        const [a, b] = [starts[p]!, starts[p + 1]!];
        this.#parts.append(p, positions.subarray(a, b), sortedCodes.subarray(a * size, b * size), sortedNorms?.subarray(a, b));
      }
    } finally {
      this.#parts.unpin(touched);
      this.#parts.endAppends();
    }
    this.#rowIds.append(rowIds);
  }

  /**
   * Partitions and codes of x's rows over message passing: the workers are sent the rows once, for
   * both the assignment (unless `given`: a build's first pass made it) and the encoding (residuals
   * formed there).
   */
  async #encodeHeld(p: RowParallel, x: Float32Array, given: Int32Array | undefined): Promise<Encoded> {
    const held = await p.hold(x, this.dim);
    try {
      const assign = given ?? (await held.assign(this.#centroids, this.#parts.count, metricCode(assignMetric(this.metric)), 0, this.dim)).assign;
      const codec = this.#codec;
      const encoded = codec.encodeOn
        ? await codec.encodeOn(this.#kernels, x, assign, this.#centroids, p, held)
        : codec.encode(this.#kernels, x, assign, this.#centroids);
      return { ...encoded, assign };
    } finally {
      held.release();
    }
  }

  /**
   * Partitions and codes of x's rows a slice at a time (ADD_SLICE_BYTES), on this thread or on
   * `p`'s threads over shared memory. Every row's partition and code depend on that row alone, so
   * the output is the whole batch's at once, byte for byte.
   */
  async #encodeSliced(x: Float32Array, p: RowParallel | undefined, normalize: boolean, scratch: boolean, given?: Int32Array, encode = true): Promise<Encoded> {
    const { dim } = this;
    const codec = this.#codec;
    const n = x.length / dim;
    const assign = given ?? new Int32Array(n);
    // IVF_FLAT stores the rows themselves: its codes are x, or x normalized slice by slice in place
    // of a codes array (as forSpace's one copy). Other codecs' codes are small next to x.
    const flat = codec.name === "flat";
    const inCodes = flat && encode && normalize;
    const codes = !encode ? new Uint8Array(0) : flat && !normalize ? new Uint8Array(x.buffer, x.byteOffset, x.byteLength) : new Uint8Array(n * codec.codeSize);
    const norms = encode && codec.hasNorms ? new Float32Array(n) : undefined;
    const slice = Math.max(1, Math.min(n, Math.floor(ADD_SLICE_BYTES / (dim * 4))));
    // Cosine: each slice normalized into one reused buffer (or in place, in the caller's scratch),
    // the same floats as forSpace's copy.
    const space = normalize && !inCodes && !scratch ? new Float32Array(slice * dim) : undefined;
    const slicer = new TimeSlicer();
    for (let first = 0; first < n; first += slice) {
      const rows = Math.min(slice, n - first);
      let xs = x.subarray(first * dim, (first + rows) * dim);
      if (normalize) {
        const into = inCodes ? new Float32Array(codes.buffer, first * dim * 4, rows * dim) : space?.subarray(0, rows * dim) ?? xs;
        if (into !== xs) into.set(xs);
        xs = normalizeRows(into, dim);
      }
      const a = given ? given.subarray(first, first + rows) : (await nearestCentroids(this.#kernels, xs, dim, this.#centroids, this.metric, p)).assign;
      if (!given) assign.set(a, first);
      if (encode && !flat) {
        const e = p && codec.encodeOn ? await codec.encodeOn(this.#kernels, xs, a, this.#centroids, p) : codec.encode(this.#kernels, xs, a, this.#centroids);
        codes.set(e.codes, first * codec.codeSize);
        if (norms) norms.set(e.norms!, first);
      }
      if (slicer.due()) await slicer.yieldNow();
    }
    return { codes, norms, assign };
  }

  async serialize(): Promise<Uint8Array> {
    const { size, parts } = await this.serializeStream();
    const out = new Uint8Array(size);
    let at = 0;
    for await (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  /**
   * The file `serialize` returns, as its size and its bytes in order, for `writeStream`: the head,
   * then the partition bodies copied out of WebAssembly memory through one reused buffer of
   * STREAM_PART_BYTES. A 1M-row index's codes (~100 MB) are then never copied whole into JS; each
   * part must be consumed before the next is asked for, and the index not changed meanwhile.
   * Bodies are read twice — once for their checksums, which the head lists, once to be written —
   * straight from WebAssembly memory when resident, through the loader otherwise.
   */
  async serializeStream(): Promise<SerializedStream> {
    const nlist = this.#parts.count;
    const w = new IndexWriter();
    w.section("centroids", this.#centroids);
    const runs = this.#rowIds.runPairs();
    if (runs !== null) w.section("rowIdRuns", runs);
    else w.section("rowIds", this.#rowIds.toArray());
    w.section("partitionRows", Int32Array.from({ length: nlist }, (_, p) => this.#parts.rows(p)));
    this.#codec.write(w);
    const offsets = new Float64Array(nlist);
    // The offsets table is a head section too, so the bodies start after it.
    w.section("partitionOffsets", offsets);
    const start = w.bodiesStart;
    const lengths = new Float64Array(nlist);
    for (let p = 0; p < nlist; p++) {
      // Checksummed as soon as they are had: resident pieces are views valid until WebAssembly memory next grows.
      const pieces = this.#parts.residentPieces(p) ?? [await this.#parts.body(p)];
      let crc = 0;
      for (const piece of pieces) {
        crc = crc32(piece, crc);
        lengths[p]! += piece.length;
      }
      offsets[p] = start + w.bodyOf(lengths[p]!, crc);
    }
    // Row id runs: format version 4; 4-bit codes: 3. Builds that would misread either refuse them (format.ts).
    const version = runs !== null ? 4 : this.#params.numBits === 4 ? 3 : 2;
    const head = w.head({ kind: this.kind, metric: this.metric, dim: this.dim, size: this.size, params: this.#params }, version);
    return { size: head.length + w.bodyBytes, headLength: head.length, parts: this.#bodyParts(head, lengths) };
  }

  /** The head, then every body padded to 16 bytes, gathered into one reused buffer (`serializeStream`). */
  async *#bodyParts(head: Uint8Array, lengths: Float64Array): AsyncGenerator<Uint8Array> {
    yield head;
    const buffer = new Uint8Array(STREAM_PART_BYTES);
    let used = 0;
    for (let p = 0; p < lengths.length; p++) {
      const length = lengths[p]!;
      const padded = Math.ceil(length / 16) * 16;
      // A body not resident is read once here; resident pieces are taken again after every yield
      // (the consumer's awaits may let WebAssembly memory grow and move them).
      const read = this.#parts.residentPieces(p) === undefined ? [await this.#parts.body(p)] : undefined;
      for (let at = 0; at < padded;) {
        if (used === buffer.length) {
          yield buffer;
          used = 0;
        }
        const n = Math.min(buffer.length - used, padded - at);
        buffer.fill(0, used, used + n);
        copyPieces(read ?? this.#parts.residentPieces(p)!, at, buffer.subarray(used, used + Math.max(0, Math.min(n, length - at))));
        used += n;
        at += n;
      }
    }
    if (used > 0) yield buffer.subarray(0, used);
  }

  free(): void {
    this.#parts.free();
    this.#codec.free();
    this.#centroidBlock.free();
    for (const s of this.#sessions) s.release();
    this.#sessions.length = 0;
  }
}

/** Rows `rows` of a block as a new block of the same kernels, copied within WebAssembly memory. */
function gatherOnHeap(kernels: Kernels, from: Block, dim: number, rows: ArrayLike<number>): Block {
  const heap = kernels.heap;
  const length = rows.length * dim;
  const ptr = heap.alloc(length * 4);
  // Views taken after the allocation, which may have grown (and so moved) the memory.
  gatherRows(heap.f32(from.ptr, from.length), dim, rows, heap.f32(ptr, length));
  return new Block(heap, ptr, length, dim, "f32", length * 4);
}

/** Bytes of the buffer `serializeStream` hands its partition bodies out in. */
const STREAM_PART_BYTES = 4 * 2 ** 20;

/** Bytes [from, from + into.length) of `pieces` laid end to end, copied into `into`. */
function copyPieces(pieces: readonly Uint8Array[], from: number, into: Uint8Array): void {
  let skip = from;
  let at = 0;
  for (const piece of pieces) {
    if (at === into.length) return;
    if (skip >= piece.length) {
      skip -= piece.length;
      continue;
    }
    const n = Math.min(piece.length - skip, into.length - at);
    into.set(piece.subarray(skip, skip + n), at);
    at += n;
    skip = 0;
  }
}

/** A batch's codes (n × codeSize), norm terms (codecs with norms) and partitions, in row order. */
interface Encoded {
  codes: Uint8Array;
  norms?: Float32Array;
  assign: Int32Array;
}

/** Partition membership: nearest centroid by l2 (cosine: by dot, the same order on unit vectors). */
function assignMetric(metric: DistanceType): "l2" | "dot" {
  return metric === "cosine" ? "dot" : "l2";
}

/** Each row's partition, on `parallel`'s threads when it runs on `kernels` (the same answer). */
async function nearestCentroids(kernels: Kernels, x: Float32Array, dim: number, centroids: Float32Array, metric: DistanceType, parallel: RowParallel | undefined): Promise<{ assign: Int32Array; dist: Float32Array }> {
  const p = parallelFor(kernels, parallel);
  return p ? assignNearestParallel(p, x, dim, centroids, metricCode(assignMetric(metric))) : assignNearest(kernels, x, dim, centroids, assignMetric(metric));
}
