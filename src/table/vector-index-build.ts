/**
 * Building vector indexes for a table (createIndex, and folding added rows into an index at
 * optimize): gathering or streaming the vectors, training and encoding (on the scan pool's threads
 * when asked), writing the index file. Loaded on the first build, so tables that only query do not
 * ship it (vector-index.ts opens and finds indexes).
 */
import { createError } from "../errors.js";
import type { Column } from "../data/column.js";
import { findField, type DataType, type Schema } from "../data/schema.js";
import type { VectorIndex } from "../ann/index.js";
import type { VectorIndexConfig } from "../indexes/config.js";
import type { Kernels } from "../kernels/index.js";
import { writeStream } from "../storage/blob-store.js";
import { randomId } from "../storage/envelope.js";
import { tableDir, type IndexEntry } from "../storage/manifest.js";
import type { Dataset, TableState, Transaction } from "../dataset/dataset.js";
import { ROW_ID_FRAGMENT, selectRows, type Fragment } from "../dataset/fragment.js";
import { copyVectorF32 } from "../data/column.js";
import { Block } from "../kernels/block.js";
import { LeaseScope } from "../session.js";
import type { RowParallel } from "../kernels/parallel.js";
import type { ScanPool } from "../pool/pool.js";
import { ann, binary, IVF_KINDS, loadVectorIndex, type CreateIndexOptions } from "./vector-index.js";

type VectorType = Extract<DataType, { kind: "vector" }>;

/**
 * Live rows with a vector, of the given fragments, as one n × dim float32 block and their row ids.
 * One fragment whose rows are all live, present and float32 comes back as a view of its column
 * block, not a copy: index builds only read it.
 */
export function gatherVectors(fragments: readonly Fragment[], column: string, type: VectorType): { vectors: Float32Array; rowIds: Float64Array } {
  const picks = fragments.map((f) => {
    const col = f.columns.get(column)!;
    return [f, col, selectRows(f, col.validity ?? undefined)] as const;
  });
  const n = picks.reduce((s, [, , rows]) => s + rows.length, 0);
  const same = picks.length === 1 && type.element === "float32" && n === fragments[0]!.numRows;
  const vectors = same ? (picks[0]![1].data as Float32Array).subarray(0, n * type.dim) : new Float32Array(n * type.dim);
  const rowIds = new Float64Array(n);
  let at = 0;
  for (const [frag, col, rows] of picks) {
    if (type.element === "float32" && rows.length === frag.numRows) {
      // Every row live and present: the column block is already the layout wanted, copy it at once.
      if (!same) vectors.set((col.data as Float32Array).subarray(0, rows.length * type.dim), at * type.dim);
      for (let i = 0; i < rows.length; i++) rowIds[at + i] = frag.id * ROW_ID_FRAGMENT + i;
      at += rows.length;
      continue;
    }
    for (const r of rows) {
      copyVectorF32(col, type, r, vectors, at * type.dim);
      rowIds[at++] = frag.id * ROW_ID_FRAGMENT + r;
    }
  }
  return { vectors, rowIds };
}

function vectorField(state: TableState, column: string): VectorType {
  const f = findField(state.schema, column);
  if (f === undefined) throw createError("UNKNOWN_COLUMN", `createIndex(): no column "${column}".`, { column });
  if (f.type.kind !== "vector") {
    throw createError("INVALID_ARGUMENT", `createIndex(): column "${column}" is ${f.type.kind}, not a vector column; vector indexes need vectors.`, { column });
  }
  return f.type;
}

/**
 * Writes a new index's file and hands the index to the session's cache (it owns it from now on).
 * An index that can stream its file (IVF) is written a piece at a time: its codes, already in
 * WebAssembly memory, are not copied whole into JS (and again by the store) to be written.
 */
async function storeIndex(ds: Dataset, index: VectorIndex): Promise<{ file: string; fileSize: number; headLength?: number }> {
  const file = `_indices/${randomId()}.qvi`;
  const key = `${tableDir(ds.table)}${file}`;
  let fileSize: number;
  let headLength: number;
  try {
    if (index.serializeStream !== undefined) {
      const stream = await index.serializeStream();
      await writeStream(ds.store, key, stream.size, stream.parts);
      fileSize = stream.size;
      headLength = stream.headLength;
    } else {
      const bytes = await index.serialize();
      await ds.store.put(key, bytes);
      fileSize = bytes.length;
      headLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true);
    }
  } catch (e) {
    index.free();
    throw e;
  }
  ds.session.put("vectorIndex", ds.cacheKey + file, { value: index, bytes: index.stats().memoryBytes, free: () => index.free() });
  // IVF files open from their head alone; the manifest records its length (see stored-index.ts).
  return IVF_KINDS.has(index.kind) ? { file, fileSize, headLength } : { file, fileSize };
}

/** The threads `createIndex({ workers })` asks for, as a RowParallel on `kernels`, or undefined for this thread. */
async function buildThreads(kernels: Kernels, workers: number | undefined, scanPool: (() => Promise<ScanPool>) | undefined): Promise<RowParallel | undefined> {
  if (workers !== undefined && (!Number.isSafeInteger(workers) || workers < 1)) {
    throw createError("INVALID_ARGUMENT", `createIndex(): workers must be a positive integer, got ${String(workers)}.`, { workers });
  }
  if (workers === 1) return undefined;
  if (scanPool === undefined) {
    if (workers === undefined) return undefined;
    throw createError("INVALID_ARGUMENT", `createIndex(): workers ${workers} needs a connection with a scan pool: connect(uri, { workers: ${workers} }).`, { workers });
  }
  const pool = await scanPool();
  if (pool.kernels !== kernels) return undefined;
  return pool.rowParallel(workers ?? pool.size);
}

export async function createIndexTransaction(
  ds: Dataset, head: TableState, kernels: Kernels, column: string, options: CreateIndexOptions, scanPool?: () => Promise<ScanPool>,
): Promise<Transaction> {
  const type = vectorField(head, column);
  const config = options.config;
  if (config === undefined || config.kind !== "vector") throw createError("INVALID_ARGUMENT", "createIndex(): pass a vector index config, e.g. { config: Index.ivfPq() }.");
  const name = options.name ?? `${column}_idx`;
  if (!(options.replace ?? true) && head.indices.some((i) => i.name === name)) {
    throw createError("INVALID_ARGUMENT", `Index "${name}" already exists; pass replace: true to rebuild it.`);
  }
  if (type.element === "bit") return binaryIndexTransaction(ds, { ...head, fragments: await withColumn(ds, head, head.fragments, column) }, kernels, column, type, name, config, options);
  const params = { ...config.params, distanceType: (config.params.distanceType as string | undefined) ?? "l2" };
  const parallel = await buildThreads(kernels, options.workers, scanPool);
  let index: VectorIndex;
  if (IVF_KINDS.has(config.type)) {
    index = await buildIvfStreaming(ds, head, kernels, column, type, config.type, params, options.progress, parallel);
  } else {
    // HNSW is an in-memory design: the graph is built over all vectors at once.
    const { vectors, rowIds } = gatherVectors(await withColumn(ds, head, head.fragments, column), column, type);
    if (rowIds.length === 0) throw createError("INVALID_ARGUMENT", `createIndex(): column "${column}" has no vectors to index yet; add rows first.`);
    index = await (await ann()).buildIndex(kernels, config.type, vectors, type.dim, rowIds, { ...params, progress: options.progress, parallel } as never);
  }
  const stored = await storeIndex(ds, index);
  const entry: IndexEntry = {
    name, columns: [column], kind: config.type, ...stored,
    fragments: head.fragments.map((f) => f.id), params,
  };
  return { type: "create_index", readVersion: head.version, indices: [...head.indices.filter((i) => i.name !== name), entry] };
}

/**
 * Folds rows of fragments the index does not cover into it (a new index file), as `optimize()` does.
 * Returns the new entry, or the old one when there is nothing to add.
 */
export async function extendIndex(ds: Dataset, head: TableState, kernels: Kernels, entry: IndexEntry): Promise<IndexEntry> {
  const column = entry.columns[0]!;
  const type = vectorField(head, column);
  const covered = new Set(entry.fragments);
  const unindexed = head.fragments.filter((f) => !covered.has(f.id));
  if (unindexed.length === 0) return entry;
  const fresh = await withColumn(ds, head, unindexed, column);
  // A copy: the cached index object may still serve readers of the previous version.
  const scope = new LeaseScope(ds.session);
  let bytes: Uint8Array;
  try {
    bytes = await (await loadVectorIndex(ds, kernels, entry, scope)).serialize();
  } finally {
    scope.release();
  }
  let index: VectorIndex;
  if (entry.kind === "IVF_BINARY") {
    const copy = (await binary()).BinaryIvfIndex.open(kernels, bytes);
    const { codes, rowIds } = gatherCodes(fresh, column, type);
    if (rowIds.length > 0) await copy.add(codes, rowIds);
    index = copy as unknown as VectorIndex;
  } else {
    index = (await ann()).openIndex(kernels, bytes);
    const { vectors, rowIds } = gatherVectors(fresh, column, type);
    if (rowIds.length > 0) await index.add(vectors, rowIds);
  }
  const stored = await storeIndex(ds, index);
  return { ...entry, ...stored, fragments: [...entry.fragments, ...fresh.map((f) => f.id)] };
}

/**
 * Private copies of `fragments` holding `column` (loaded, or read from storage now): an index build
 * reads the vectors without leaving a JS copy on the fragments, which queries of this version share
 * and whose exact searches use the session's WebAssembly blocks instead.
 */
async function withColumn(ds: Dataset, state: TableState, fragments: readonly Fragment[], column: string): Promise<Fragment[]> {
  return Promise.all(fragments.map(async (f) => ({ ...f, columns: new Map([[column, f.columns.get(column) ?? (await ds.readColumn(state.schema, f, column))]]) })));
}

/** Live rows with a vector of a bit column, as packed codes (n × dim/8 bytes) and their row ids. */
function gatherCodes(fragments: readonly Fragment[], column: string, type: VectorType): { codes: Uint8Array; rowIds: Float64Array } {
  const bytes = type.dim / 8;
  const picks = fragments.map((f) => {
    const col = f.columns.get(column)!;
    return [f, col, selectRows(f, col.validity ?? undefined)] as const;
  });
  const n = picks.reduce((s, [, , rows]) => s + rows.length, 0);
  const codes = new Uint8Array(n * bytes);
  const rowIds = new Float64Array(n);
  let at = 0;
  for (const [frag, col, rows] of picks) {
    const src = col.data as Uint8Array;
    for (const r of rows) {
      codes.set(src.subarray(r * bytes, (r + 1) * bytes), at * bytes);
      rowIds[at++] = frag.id * ROW_ID_FRAGMENT + r;
    }
  }
  return { codes, rowIds };
}

/**
 * IVF built without holding the table's vectors: the quantizers are trained on a sample read row by
 * row, then fragments are read, encoded and released one at a time. Peak memory is the sample plus
 * one fragment's vectors plus the index, not the whole vector column.
 */
async function buildIvfStreaming(
  ds: Dataset, head: TableState, kernels: Kernels, column: string, type: VectorType, kind: string,
  params: Record<string, unknown>, progress: CreateIndexOptions["progress"], parallel: RowParallel | undefined,
): Promise<VectorIndex> {
  const { IvfIndex, ivfBuildBytes, ivfSampleRows, reserveMemory } = await ann();
  const dim = type.dim;
  const liveRows = head.fragments.map((f) => selectRows(f));
  const total = liveRows.reduce((s, r) => s + r.length, 0);
  if (total === 0) throw createError("INVALID_ARGUMENT", `createIndex(): column "${column}" has no vectors to index yet; add rows first.`);
  const numPartitions = (params.numPartitions as number | undefined) ?? Math.max(1, Math.round(Math.sqrt(total)));
  const sampleRate = params.sampleRate as number | undefined;
  // One sample serves k-means (capped in bytes unless a sampleRate is given) and the codec.
  const want = Math.min(total, ivfSampleRows(kind, numPartitions, dim, sampleRate));
  // The build's working set in one growth of WebAssembly memory, before the sample takes its share
  // of it (see reserveMemory).
  reserveMemory(kernels, ivfBuildBytes(kind as "IVF_FLAT", total, dim, { ...params, numPartitions: Math.min(numPartitions, want) } as never));
  // The sample is read straight into WebAssembly memory, where k-means wants it: not held in JS
  // too (at 1M × 384 with 1,000 partitions it is 98 MB). train takes the block over.
  const heap = kernels.heap;
  const ptr = heap.alloc(want * dim * 4);
  let taken = 0;
  // One read buffer for the sample's runs and then every slice of every fragment (vectorSlices).
  const reuse: { buffer?: Uint8Array } = {};
  try {
    // Every `step`-th live row: a deterministic sample spread over all fragments.
    const step = total / want;
    let seen = 0;
    for (let f = 0; f < head.fragments.length && taken < want; f++) {
      const frag = head.fragments[f]!;
      const rows = liveRows[f]!;
      const picks: number[] = [];
      for (let i = 0; i < rows.length; i++) {
        if (taken + picks.length < want && Math.floor((seen + i) / step) >= taken + picks.length) picks.push(rows[i]!);
      }
      seen += rows.length;
      if (picks.length === 0) continue;
      const loaded = frag.columns.get(column);
      const reads = loaded !== undefined ? [{ col: loaded, picks, at: (j: number) => picks[j]! }] : sampleReads(ds, head.schema, frag, column, type, picks, reuse);
      for await (const { col, picks: group, at } of reads) {
        // A view taken after the read's awaits: memory that grew meanwhile is only seen by a new view.
        const sample = heap.f32(ptr, want * dim);
        for (let j = 0; j < group.length; j++) {
          if (col.validity !== null && col.validity[at(j)] === 0) continue;
          copyVectorF32(col, type, at(j), sample, taken++ * dim);
        }
      }
    }
  } catch (e) {
    heap.free(ptr);
    throw e;
  }
  const index = await IvfIndex.train(kernels, kind as "IVF_FLAT", new Block(heap, ptr, taken * dim, dim, "f32", taken * dim * 4), dim, {
    ...params, numPartitions: Math.min(numPartitions, taken), sampleRate, progress, parallel,
  } as never);
  // Two passes over the vectors (the same snapshot, read twice): every row's partition first, so
  // that each partition is allocated once at its final size (IvfIndex.reserve: partitions grown a
  // slice at a time leave holes in WebAssembly memory, a quarter of the index's size at 1M rows);
  // then the codes, written in place.
  const assign = new Int32Array(total);
  let done = 0;
  for (const frag of head.fragments) {
    for await (const { vectors, rowIds, scratch } of vectorSlices(ds, head.schema, frag, column, type, ADD_READ_BYTES, reuse)) {
      if (rowIds.length > 0) assign.set(await index.assign(vectors, parallel, scratch), done);
      done += rowIds.length;
      progress?.({ phase: "assign", done, total });
    }
  }
  index.reserve(assign.subarray(0, done));
  done = 0;
  for (const frag of head.fragments) {
    for await (const { vectors, rowIds, scratch } of vectorSlices(ds, head.schema, frag, column, type, ADD_READ_BYTES, reuse)) {
      if (rowIds.length > 0) await index.add(vectors, rowIds, parallel, scratch, assign.subarray(done, done + rowIds.length));
      done += rowIds.length;
      progress?.({ phase: "encode", done, total });
    }
  }
  return index;
}

/** Bytes of vectors read from storage at once while an index adds a fragment's rows. */
const ADD_READ_BYTES = 16 * 2 ** 20;

/**
 * Sample picks this close together (bytes from one pick's row to the next's, beyond one row) are
 * read as whole runs of rows: a read of the picks alone fetches each pick's 4 KiB chunks (two at
 * most) and bridges gaps up to 16 KiB (FragmentFile.readRows), so it would fetch nearly every
 * byte between them anyway — and, past half the column, the fragment's whole column at once (at
 * 1M × 384 rows and 1,000 partitions the picks are 24 KB apart: 77 MB per fragment, twenty of them
 * read faster than the collector frees them).
 */
const DENSE_PICK_GAP_BYTES = 16 * 1024 + 2 * 4096;

/**
 * The sample's picked rows (`picks`, ascending) of an on-disk fragment, as columns to copy them
 * from: `at(j)` is pick j's row in `col`. Dense picks are read ADD_READ_BYTES of rows at a time
 * into `reuse`'s buffer (each group is copied out before the next is read), so sampling a
 * fragment leaves no column-sized buffer for the GC; sparse picks, or a store or column that
 * cannot be read into a buffer, take one read of the picks alone.
 */
async function* sampleReads(
  ds: Dataset, schema: Schema, frag: Fragment, column: string, type: VectorType, picks: number[], reuse: { buffer?: Uint8Array },
): AsyncGenerator<{ col: Column; picks: number[]; at: (j: number) => number }> {
  const rowBytes = type.dim * 4;
  const spacing = picks.length > 1 ? ((picks[picks.length - 1]! - picks[0]!) / (picks.length - 1)) * rowBytes : Infinity;
  let from = 0;
  if (type.element === "float32" && spacing <= DENSE_PICK_GAP_BYTES + rowBytes) {
    const groupRows = Math.max(1, Math.floor(ADD_READ_BYTES / rowBytes));
    reuse.buffer ??= new Uint8Array(groupRows * rowBytes + 2 * 65_536);
    while (from < picks.length) {
      const lo = picks[from]!;
      let end = from;
      while (end < picks.length && picks[end]! < lo + groupRows) end++;
      const group = picks.slice(from, end);
      const col = await ds.readRowsInto(schema, frag, column, lo, group[group.length - 1]! - lo + 1, reuse.buffer);
      if (col === undefined) break;
      yield { col, picks: group, at: (j) => group[j]! - lo };
      from = end;
    }
  }
  if (from === picks.length) return;
  const rest = picks.slice(from);
  yield { col: await ds.readRows(schema, frag, column, Int32Array.from(rest)), picks: rest, at: (j) => j };
}

/**
 * A fragment's live, present vectors (float32) with their row ids. A column already in memory is
 * gathered at once; one in storage is read ADD_READ_BYTES of rows at a time, so adding a fragment
 * of any size holds one slice of it in JS, not its whole column (and the fragment, shared with
 * queries of this version, is never changed). Where the store can read into a given buffer, runs
 * of consecutive float32 rows are read into one buffer reused slice after slice (`reuse`), so a
 * build over a million rows does not leave a 16 MiB buffer per slice for the GC: each slice's
 * vectors are then valid only until the next slice is asked for.
 */
export async function* vectorSlices(ds: Dataset, schema: Schema, frag: Fragment, column: string, type: VectorType, sliceBytes = ADD_READ_BYTES, reuse?: { buffer?: Uint8Array }): AsyncGenerator<{ vectors: Float32Array; rowIds: Float64Array; scratch: boolean }> {
  if (frag.columns.has(column)) {
    // Possibly a view of the fragment's own column, which queries share: not to be changed.
    yield { ...gatherVectors([frag], column, type), scratch: false };
    return;
  }
  const live = selectRows(frag);
  const step = Math.max(1, Math.floor(sliceBytes / (type.dim * 4)));
  for (let at = 0; at < live.length; at += step) {
    const rows = live.subarray(at, at + step);
    const run = reuse !== undefined && type.element === "float32" && rows[rows.length - 1]! - rows[0]! === rows.length - 1;
    // The rows' bytes plus the partial chunks at either end (chunks are 4 KiB; 64 KiB of slack).
    if (run) reuse.buffer ??= new Uint8Array(step * type.dim * 4 + 2 * 65_536);
    const into = run ? await ds.readRowsInto(schema, frag, column, rows[0]!, rows.length, reuse.buffer!) : undefined;
    if (into !== undefined) {
      const rowIds = new Float64Array(rows.length);
      for (let i = 0; i < rows.length; i++) rowIds[i] = frag.id * ROW_ID_FRAGMENT + rows[i]!;
      yield { vectors: into.data as Float32Array, rowIds, scratch: true };
      continue;
    }
    const col = await ds.readRows(schema, frag, column, rows);
    const present = col.validity === null ? rows.length : col.validity.reduce((n, v) => n + v, 0);
    const rowIds = new Float64Array(present);
    if (present === rows.length && type.element === "float32") {
      // Every row present and float32: the rows read are the layout wanted, no copy.
      for (let i = 0; i < rows.length; i++) rowIds[i] = frag.id * ROW_ID_FRAGMENT + rows[i]!;
      yield { vectors: col.data as Float32Array, rowIds, scratch: false };
      continue;
    }
    const vectors = new Float32Array(present * type.dim);
    let k = 0;
    for (let i = 0; i < rows.length; i++) {
      if (col.validity !== null && col.validity[i] === 0) continue;
      copyVectorF32(col, type, i, vectors, k * type.dim);
      rowIds[k++] = frag.id * ROW_ID_FRAGMENT + rows[i]!;
    }
    yield { vectors, rowIds, scratch: true };
  }
}

/** Bit vectors: an IVF over Hamming space (src/ann/ivf-binary.ts); only IVF_FLAT applies. */
async function binaryIndexTransaction(
  ds: Dataset, head: TableState, kernels: Kernels, column: string, type: VectorType, name: string,
  config: VectorIndexConfig, options: CreateIndexOptions,
): Promise<Transaction> {
  if (config.type !== "IVF_FLAT") {
    throw createError("UNSUPPORTED", `createIndex(): bit-vector column "${column}" takes Index.ivfFlat() (an IVF over Hamming distance), not ${config.type}.`, { column });
  }
  if (config.params.distanceType !== undefined && config.params.distanceType !== "hamming") {
    throw createError("INVALID_ARGUMENT", `createIndex(): bit vectors are compared by Hamming distance, not ${String(config.params.distanceType)}.`, { column });
  }
  const { codes, rowIds } = gatherCodes(head.fragments, column, type);
  if (rowIds.length === 0) throw createError("INVALID_ARGUMENT", `createIndex(): column "${column}" has no vectors to index yet; add rows first.`);
  const params = { ...config.params, distanceType: "hamming" };
  const index = await (await binary()).BinaryIvfIndex.build(kernels, codes, type.dim / 8, rowIds, {
    numPartitions: config.params.numPartitions as number | undefined, maxIterations: config.params.maxIterations as number | undefined,
    sampleRate: config.params.sampleRate as number | undefined, progress: options.progress,
  });
  const stored = await storeIndex(ds, index as unknown as VectorIndex);
  const entry: IndexEntry = { name, columns: [column], kind: "IVF_BINARY", ...stored, fragments: head.fragments.map((f) => f.id), params };
  return { type: "create_index", readVersion: head.version, indices: [...head.indices.filter((i) => i.name !== name), entry] };
}

/** Rebuilds an index over the current fragments (after compaction rewrote rows it covered). */
export async function rebuildIndex(ds: Dataset, head: TableState, kernels: Kernels, entry: IndexEntry): Promise<IndexEntry> {
  const tx = await createIndexTransaction(ds, head, kernels, entry.columns[0]!, {
    name: entry.name, replace: true,
    config: { kind: "vector", type: (entry.kind === "IVF_BINARY" ? "IVF_FLAT" : entry.kind) as VectorIndexConfig["type"], params: entry.params as VectorIndexConfig["params"] },
  });
  return tx.indices!.find((i) => i.name === entry.name)!;
}


