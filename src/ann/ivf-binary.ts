/**
 * IVF over bit-packed vectors, searched by Hamming distance.
 *
 * Partitions come from k-means on the vectors mapped to ±1 floats (bit b → +1, else −1), where
 * squared L2 is 4 × Hamming, so the centroids split Hamming space. A query probes the `nprobes`
 * nearest centroids (L2 on its ±1 form) and scans their rows exactly with the Hamming kernel.
 *
 *   codes      n × B bytes (B = bits / 8), in build/add order (position), resident in WASM
 *   centroids  P × bits f32 (±1 space), resident in WASM
 *   order      n i32 positions grouped by partition; partition p is order[offsets[p] … offsets[p+1])
 *   rowIds     n f64, the caller's ids by position
 *
 * File: a checked envelope "QVBI" around [u32 meta length][meta JSON][pad to 8]
 * [rowIds f64 (n)][centroids f32 (P × bits)][assign i32 (n)][codes u8 (n × B)] (order is rebuilt on open).
 */
import { createError } from "../errors.js";
import type { Kernels, VectorBlock } from "../kernels/index.js";
import { corrupt, openEnvelope, sealEnvelope } from "../storage/envelope.js";
import { checkK, seededRandom, sampleRows } from "./common.js";
import { kmeans } from "./kmeans.js";
import type { BuildProgress, SearchHits } from "./types.js";

export interface BinaryIvfOptions {
  /** k-means partitions. Default ≈ √n. */
  numPartitions?: number;
  maxIterations?: number;
  /** Training rows per partition. Default 256. */
  sampleRate?: number;
  seed?: number;
  progress?: (p: BuildProgress) => void;
}

export interface BinarySearchOptions {
  /** Partitions to scan, nearest first. Default 20. */
  nprobes?: number;
  /** Partitions to scan at most while `allowed` leaves fewer than k rows. Default: all of them. */
  maximumNprobes?: number;
  /** Only these rows may be returned; more partitions are probed until k allowed rows are found. */
  allowed?: (rowId: number, position: number) => boolean;
}

const MAGIC = "QVBI";
const CHUNK = 4096;

/** Rows [from, to) of packed codes as ±1 floats, (to − from) × bits. */
function unpack(codes: Uint8Array, bytes: number, from: number, to: number): Float32Array {
  const bits = bytes * 8;
  const out = new Float32Array((to - from) * bits);
  for (let r = from; r < to; r++) {
    const o = (r - from) * bits;
    for (let b = 0; b < bytes; b++) {
      const v = codes[r * bytes + b]!;
      for (let j = 0; j < 8; j++) out[o + b * 8 + j] = (v >> (7 - j)) & 1 ? 1 : -1; // MSB first, as the column stores it
    }
  }
  return out;
}

export class BinaryIvfIndex {
  readonly kind = "IVF_BINARY" as const;
  readonly metric = "hamming" as const;
  #codesBlock: VectorBlock;
  #centroidBlock: VectorBlock;

  private constructor(
    private readonly kernels: Kernels,
    /** Bytes per vector. */
    readonly bytes: number,
    private centroids: Float32Array,
    private codes: Uint8Array,
    private rowIds: Float64Array,
    private assign: Int32Array,
  ) {
    this.#codesBlock = kernels.upload(codes, bytes);
    this.#centroidBlock = kernels.upload(centroids, bytes * 8);
    this.regroup();
  }

  #order = new Int32Array(0);
  #offsets = new Int32Array(0);

  get dim(): number {
    return this.bytes * 8;
  }

  get size(): number {
    return this.rowIds.length;
  }

  get numPartitions(): number {
    return this.centroids.length / this.dim;
  }

  /** Counting sort of positions by partition. */
  private regroup(): void {
    const p = this.numPartitions;
    const offsets = new Int32Array(p + 1);
    for (const a of this.assign) offsets[a + 1]!++;
    for (let i = 0; i < p; i++) offsets[i + 1]! += offsets[i]!;
    const next = offsets.slice(0, p);
    const order = new Int32Array(this.assign.length);
    this.assign.forEach((a, pos) => (order[next[a]!++] = pos));
    this.#order = order;
    this.#offsets = offsets;
  }

  /** Nearest centroid of rows [from, to) of `codes`, in chunks (one batched kernel call per chunk). */
  private static assignRows(kernels: Kernels, centroidBlock: VectorBlock, codes: Uint8Array, bytes: number, from: number, to: number): Int32Array {
    const out = new Int32Array(to - from);
    for (let at = from; at < to; at += CHUNK) {
      const end = Math.min(to, at + CHUNK);
      const res = kernels.searchBatch("l2", unpack(codes, bytes, at, end), [{ block: centroidBlock }], bytes * 8, 1);
      res.forEach((r, i) => (out[at - from + i] = r.row[0]!));
    }
    return out;
  }

  static async build(kernels: Kernels, codes: Uint8Array, bytes: number, rowIds: Float64Array, options: BinaryIvfOptions = {}): Promise<BinaryIvfIndex> {
    const n = rowIds.length;
    if (n === 0 || codes.length !== n * bytes) throw createError("INVALID_ARGUMENT", `A binary IVF index needs n × ${bytes} bytes of codes for ${n} rows.`);
    const partitions = Math.max(1, Math.min(n, options.numPartitions ?? Math.round(Math.sqrt(n))));
    const sampleCount = Math.min(n, partitions * (options.sampleRate ?? 256));
    const sample = sampleRows(n, sampleCount, seededRandom(options.seed ?? 42));
    const train = new Uint8Array(sample.length * bytes);
    sample.forEach((r, i) => train.set(codes.subarray(r * bytes, (r + 1) * bytes), i * bytes));
    options.progress?.({ phase: "sample", done: sample.length, total: sample.length });
    const block = kernels.upload(unpack(train, bytes, 0, sample.length), bytes * 8);
    let centroids: Float32Array;
    try {
      const maxIterations = options.maxIterations ?? 25;
      centroids = (await kmeans(kernels, block, bytes * 8, {
        k: partitions, metric: "l2", maxIterations, seed: options.seed,
        progress: (done) => options.progress?.({ phase: "kmeans", done, total: maxIterations }),
      })).centroids;
    } finally {
      block.free();
    }
    const centroidBlock = kernels.upload(centroids, bytes * 8);
    let assign: Int32Array;
    try {
      assign = BinaryIvfIndex.assignRows(kernels, centroidBlock, codes, bytes, 0, n);
    } finally {
      centroidBlock.free();
    }
    options.progress?.({ phase: "assign", done: n, total: n });
    return new BinaryIvfIndex(kernels, bytes, centroids, codes.slice(), rowIds.slice(), assign);
  }

  /** Adds rows (n × bytes codes) under `rowIds`, each into its nearest partition. */
  async add(codes: Uint8Array, rowIds: Float64Array): Promise<void> {
    const extra = BinaryIvfIndex.assignRows(this.kernels, this.#centroidBlock, codes, this.bytes, 0, rowIds.length);
    const all = new Uint8Array(this.codes.length + codes.length);
    all.set(this.codes);
    all.set(codes, this.codes.length);
    const ids = new Float64Array(this.rowIds.length + rowIds.length);
    ids.set(this.rowIds);
    ids.set(rowIds, this.rowIds.length);
    const assign = new Int32Array(this.assign.length + extra.length);
    assign.set(this.assign);
    assign.set(extra, this.assign.length);
    this.#codesBlock.free();
    this.codes = all;
    this.rowIds = ids;
    this.assign = assign;
    this.#codesBlock = this.kernels.upload(all, this.bytes);
    this.regroup();
  }

  async search(query: Uint8Array, k: number, options: BinarySearchOptions = {}): Promise<SearchHits> {
    checkK(k);
    if (query.length !== this.bytes) throw createError("DIMENSION_MISMATCH", `Query has ${query.length} bytes; the index holds ${this.bytes}.`);
    const p = this.numPartitions;
    const nprobes = Math.min(p, options.nprobes ?? 20);
    const near = this.kernels.search("l2", unpack(query, this.bytes, 0, 1), [{ block: this.#centroidBlock }], this.dim, p);
    const allowed = options.allowed;
    const ids: number[] = [];
    let allowedCount = 0;
    for (let i = 0; i < near.row.length; i++) {
      // Probe nprobes partitions, and more while fewer than k allowed rows were found.
      if (i >= nprobes && (allowedCount >= k || i >= (options.maximumNprobes ?? p))) break;
      const part = near.row[i]!;
      for (let j = this.#offsets[part]!; j < this.#offsets[part + 1]!; j++) {
        const pos = this.#order[j]!;
        if (allowed !== undefined && !allowed(this.rowIds[pos]!, pos)) continue;
        ids.push(pos);
        allowedCount++;
      }
    }
    if (ids.length === 0) return { rows: new Float64Array(0), positions: new Int32Array(0), distances: new Float32Array(0) };
    const res = this.kernels.search("hamming", query, [{ block: this.#codesBlock, ids: Int32Array.from(ids) }], this.bytes, k);
    return { rows: Float64Array.from(res.row, (pos) => this.rowIds[pos]!), positions: res.row, distances: res.distance };
  }

  stats(): { kind: string; metric: string; dim: number; size: number; memoryBytes: number; params: Record<string, number> } {
    return { kind: this.kind, metric: this.metric, dim: this.dim, size: this.size, memoryBytes: this.memoryBytes(), params: { numPartitions: this.numPartitions } };
  }

  memoryBytes(): number {
    return this.codes.length * 2 + this.centroids.byteLength * 2 + this.rowIds.byteLength + this.assign.byteLength * 2;
  }

  async serialize(): Promise<Uint8Array> {
    const meta = new TextEncoder().encode(JSON.stringify({ bytes: this.bytes, n: this.size, partitions: this.numPartitions }));
    const head = 4 + meta.length;
    const pad = (8 - (head % 8)) % 8;
    const parts: Uint8Array[] = [
      new Uint8Array(new Uint32Array([meta.length]).buffer), meta, new Uint8Array(pad),
      new Uint8Array(this.rowIds.buffer, this.rowIds.byteOffset, this.rowIds.byteLength),
      new Uint8Array(this.centroids.buffer, this.centroids.byteOffset, this.centroids.byteLength),
      new Uint8Array(this.assign.buffer, this.assign.byteOffset, this.assign.byteLength),
      this.codes,
    ];
    const payload = new Uint8Array(parts.reduce((s, x) => s + x.length, 0));
    let at = 0;
    for (const x of parts) { payload.set(x, at); at += x.length; }
    return sealEnvelope(MAGIC, 2, payload);
  }

  static open(kernels: Kernels, bytes: Uint8Array, what = "binary IVF index"): BinaryIvfIndex {
    const { payload } = openEnvelope(MAGIC, 2, bytes, what);
    const copy = payload.slice(); // aligned, owned
    const dv = new DataView(copy.buffer);
    const metaLen = dv.getUint32(0, true);
    if (4 + metaLen > copy.length) corrupt(what, "meta length exceeds the file");
    let meta: { bytes: number; n: number; partitions: number };
    try {
      meta = JSON.parse(new TextDecoder().decode(copy.subarray(4, 4 + metaLen))) as typeof meta;
    } catch {
      return corrupt(what, "meta does not parse");
    }
    const { bytes: b, n, partitions: p } = meta;
    if (![b, n, p].every((x) => Number.isInteger(x) && x > 0)) corrupt(what, "meta fields are malformed");
    let at = 4 + metaLen;
    at += (8 - (at % 8)) % 8;
    const need = at + p * b * 8 * 4 + n * 4 + n * 8 + n * b;
    if (need !== copy.length) corrupt(what, `expected ${need} bytes, found ${copy.length}`);
    const rowIds = new Float64Array(copy.buffer, at, n); at += rowIds.byteLength;
    const centroids = new Float32Array(copy.buffer, at, p * b * 8); at += centroids.byteLength;
    const assign = new Int32Array(copy.buffer, at, n); at += assign.byteLength;
    const codes = copy.subarray(at, at + n * b);
    for (const a of assign) if (a < 0 || a >= p) corrupt(what, "a row's partition is out of range");
    return new BinaryIvfIndex(kernels, b, centroids, codes, rowIds, assign);
  }

  free(): void {
    this.#codesBlock.free();
    this.#centroidBlock.free();
  }
}
