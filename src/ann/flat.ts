/**
 * Exact search through the VectorIndex interface: every query scans every (allowed) vector. It is
 * the oracle the approximate indexes are measured against, and the right choice below a few
 * thousand rows.
 *
 * Memory: n × dim f32 in WebAssembly (normalized for cosine) + n f64 row ids.
 * File sections: "rowIds" n f64, "vectors" n × dim f32.
 */
import type { Kernels } from "../kernels/kernels.js";
import { VectorStore } from "../kernels/store.js";
import { allowedPositions, allowedTest, checkDistanceType, checkK, checkVectors, forSpace, prepareQuery, RowIds, spaceOf } from "./common.js";
import { corruptIndex, IndexWriter, type IndexHead } from "./format.js";
import { candidateCount, emptyHits } from "./refine.js";
import type { CommonBuildOptions, DistanceType, IndexStats, SearchHits, SearchOptions, VectorIndex } from "./types.js";

export class FlatIndex implements VectorIndex {
  readonly kind = "FLAT" as const;
  readonly metric: DistanceType;
  readonly dim: number;
  readonly #store: VectorStore;
  readonly #rowIds: RowIds;

  private constructor(kernels: Kernels, dim: number, metric: DistanceType, rowIds: RowIds, capacity: number) {
    this.dim = dim;
    this.metric = metric;
    this.#rowIds = rowIds;
    this.#store = new VectorStore(kernels, { kind: "f32", dim, metric: spaceOf(metric) }, capacity);
  }

  static async build(kernels: Kernels, vectors: Float32Array, dim: number, rowIds?: Float64Array, options: CommonBuildOptions = {}): Promise<FlatIndex> {
    const metric = checkDistanceType(options.distanceType);
    const n = checkVectors(vectors, dim, rowIds);
    const index = new FlatIndex(kernels, dim, metric, new RowIds(n), n);
    await index.add(vectors, rowIds ?? RowIds.sequence(0, n));
    return index;
  }

  static open(kernels: Kernels, head: IndexHead): FlatIndex {
    const { dim, metric } = head.meta;
    const rowIds = RowIds.from(head.f64("rowIds"));
    const index = new FlatIndex(kernels, dim, metric as DistanceType, rowIds, rowIds.size);
    index.#store.appendEncoded(head.bytes("vectors"));
    if (index.#store.size !== rowIds.size) corruptIndex("its vectors and row ids disagree in number");
    return index;
  }

  get size(): number {
    return this.#store.size;
  }

  bytes(): number {
    return this.#store.bytes + this.size * 8;
  }

  stats(): IndexStats {
    return { kind: this.kind, metric: this.metric, dim: this.dim, size: this.size, memoryBytes: this.bytes(), params: {} };
  }

  rowId(position: number): number {
    return this.#rowIds.get(position);
  }

  async search(query: Float32Array | ArrayLike<number>, k: number, options: SearchOptions = {}): Promise<SearchHits> {
    checkK(k);
    const q = prepareQuery(query, this.dim, this.metric);
    candidateCount(k, options); // validates refine options; distances here are exact already
    if (k === 0 || this.size === 0) return emptyHits();
    const test = allowedTest(options.allowed, this.#rowIds);
    this.#store.setQuery(q);
    const top = this.#store.nearest(k, test ? allowedPositions(test, this.size) : undefined);
    return { rows: this.#rowIds.lookup(top.index), positions: top.index, distances: top.distance };
  }

  async add(vectors: Float32Array, rowIds: Float64Array): Promise<void> {
    checkVectors(vectors, this.dim, rowIds);
    this.#store.append(forSpace(vectors, this.dim, this.metric));
    this.#rowIds.append(rowIds);
  }

  async serialize(): Promise<Uint8Array> {
    const w = new IndexWriter();
    w.section("rowIds", this.#rowIds.toArray());
    w.section("vectors", this.#store.encoded());
    return w.finish({ kind: this.kind, metric: this.metric, dim: this.dim, size: this.size, params: {} });
  }

  free(): void {
    this.#store.free();
  }
}
