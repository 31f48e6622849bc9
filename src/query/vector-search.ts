/**
 * Vector search over one table version: through a vector index for the fragments it covers, and
 * by exact scan (one kernel call per fragment block) for the rest; the two are merged by distance.
 *
 *   fragments the index covers ─► index.search (allowed = live ∧ filter) ─┐
 *                                                                          ├─► merge top-k ─► postfilter ─► offset
 *   other fragments ─► filter mask ─► row ids ─► kernels.searchBatch ──────┘
 */
import { createError } from "../errors.js";
import { findField, unknownColumn, vectorFields, type DataType, type Field, type Schema } from "../data/schema.js";
import type { VectorIndex } from "../ann/index.js";
import type { Kernels, SearchTarget, VectorBlock } from "../kernels/index.js";
import type { IndexEntry } from "../storage/manifest.js";
import type { TableState } from "../dataset/dataset.js";
import type { Column } from "../data/column.js";
import { f32ToF16Bits } from "../data/float16.js";
import { selectRows, type Fragment } from "../dataset/fragment.js";
import { copyVectorF32, vectorStride, type NumericArray } from "../data/column.js";
import { ROW_ID_FRAGMENT } from "../dataset/fragment.js";
import type { CompiledFilter } from "../filter/index.js";
import { hitSource, type Hit } from "./hits.js";
import { selectFilter, selectParts, type FilterSelection } from "./selection.js";
import type { FragmentRows } from "../scalar/rowmask.js";
import { DEFAULT_VECTOR_LIMIT, type DistanceType, type QueryPlan, type QueryVector, type VectorPlan } from "./plan.js";
import type { ScanPool } from "../pool/pool.js";
import type { BufferPool } from "../util/buffer-pool.js";
import { liveBitmap, rowPositions } from "./live-rows.js";
import { lazyImport } from "../util/lazy.js";
import { fewChunks, isFixedWidth, rowBytes } from "../storage/fragment-file.js";

export type VectorField = Field & { readonly type: Extract<DataType, { kind: "vector" }> };

/** Rows of one column of one fragment read for some rows alone: the column and each row's place in it. */
export interface PickedRows {
  readonly col: Column;
  readonly at: ReadonlyMap<number, number>;
}

/** Columns' rows read ahead by refine, per fragment (see VectorSearchContext.readAhead). */
export type RowsRead = Map<Fragment, Map<string, PickedRows>>;

/** Finds a usable index on `column` for `metric`, opened; undefined when there is none. */
export type VectorIndexLookup = (column: string, metric: DistanceType) => Promise<{ index: VectorIndex; entry: IndexEntry } | undefined>;

/** A fragment's vector column in WebAssembly memory, and which of its rows hold a vector (null: all). */
export interface VectorColumnBlock {
  readonly block: VectorBlock;
  readonly validity: Uint8Array | null;
}

export interface VectorSearchContext {
  readonly state: TableState;
  /**
   * The vector column of a fragment as a block in WebAssembly memory, held for the rest of the
   * query (a lease on the session's cache): exact search scans it there, without a JS copy.
   */
  readonly vectorBlock: (fragment: Fragment, column: string) => Promise<VectorColumnBlock>;
  /**
   * The block when it is cheap to have: already cached, or the store is in memory (where the block
   * is the one copy of the vectors). Refine reads candidates from it instead of from storage.
   */
  readonly residentVectorBlock?: (fragment: Fragment, column: string) => Promise<VectorColumnBlock | undefined>;
  readonly kernels: () => Promise<Kernels>;
  readonly ensureColumns: (names: Iterable<string>, fragments?: readonly Fragment[]) => Promise<void>;
  readonly vectorIndex?: VectorIndexLookup;
  readonly scanPool?: () => Promise<ScanPool>;
  /**
   * Range-reads rows of one fixed-width column of a fragment without loading the column (refine
   * reads candidates' vectors this way); absent: the column is loaded.
   */
  readonly readRows?: (fragment: Fragment, column: string, rows: Int32Array, out?: Uint8Array) => Promise<Column>;
  /** Host buffers reused across queries (the session's), for the reads refine makes. */
  readonly buffers?: BufferPool;
  /**
   * Remote tables, where every dependent read is a round trip: opens the data files holding
   * `columns` of `fragments` (reads their footers) in the background, so they travel with the
   * index head; and tells refine to read its candidates' rows of the output's fixed-width columns
   * along with their vectors (into `RowsRead`), so the result needs no read of its own.
   */
  readonly readAhead?: (fragments: readonly Fragment[], columns: readonly string[]) => void;
}

const EMPTY_ROWS = new Int32Array(0);

const allowedPositions = lazyImport((): Promise<typeof import("./allowed-bitmap.js")> => import("./allowed-bitmap.js"));

/** A fragment with at most 1/FEW_DELETED of its rows deleted is scanned whole, its deleted rows dropped after. */
const FEW_DELETED = 16;
/** At most this many deleted rows are made up for by a larger k (the top-k selection grows with it). */
const MAX_EXTRA_K = 4096;

/** Scans at least this many elements (rows × dim × queries, ~8 MB of f32) go to the worker pool; below, the hop costs more than it saves. */
const POOL_MIN_ELEMENTS = 1 << 21;

export function resolveVectorField(schema: Schema, vec: VectorPlan): VectorField {
  if (vec.column !== undefined) {
    const f = findField(schema, vec.column);
    if (f === undefined) unknownColumn(schema, vec.column, "column()");
    if (f.type.kind !== "vector") {
      throw createError("INVALID_ARGUMENT", `Column "${f.name}" is not a vector column, so it cannot be searched by vector.`, { column: f.name });
    }
    return f as VectorField;
  }
  const candidates = vectorFields(schema) as VectorField[];
  if (candidates.length === 0) {
    const lists = schema.fields.filter((f) => f.type.kind === "list" && f.type.item.kind === "float").map((f) => `"${f.name}"`);
    const why = lists.length > 0
      ? ` ${lists.join(", ")} ${lists.length > 1 ? "are lists" : "is a list"} of numbers, not a vector column: the arrays had different lengths when the table was created, so no dimension could be fixed. Recreate the table with a schema (DataTypes.vector(dim)) or arrays of one length.`
      : "";
    throw createError("INVALID_ARGUMENT", `The table has no vector column to search.${why}`);
  }
  if (candidates.length === 1) return candidates[0]!;
  const len = vec.queries[0]!.length;
  const matching = candidates.filter((f) => expectedLength(f) === len);
  if (matching.length === 1) return matching[0]!;
  const named = matching.find((f) => f.name === "vector");
  if (named) return named;
  if (matching.length === 0) {
    throw createError("DIMENSION_MISMATCH", `No vector column takes a query of length ${len} (${candidates.map((f) => `${f.name}: ${expectedLength(f)}`).join(", ")}).`);
  }
  throw createError("INVALID_ARGUMENT", `Several vector columns take a query of length ${len} (${matching.map((f) => f.name).join(", ")}); choose one with .column(name).`);
}

/** Numbers a query for this column holds: dimensions, or bytes for bit vectors. */
function expectedLength(f: VectorField): number {
  return f.type.element === "bit" ? f.type.dim / 8 : f.type.dim;
}

function toKernelQuery(f: VectorField, q: QueryVector, index: number): Float32Array | Int8Array | Uint8Array {
  const n = expectedLength(f);
  if (q.length !== n) {
    const unit = f.type.element === "bit" ? "bytes" : "dimensions";
    throw createError(
      "DIMENSION_MISMATCH",
      `Query vector ${index} has ${q.length} ${unit}; column "${f.name}" holds ${n}.`,
      { column: f.name, expected: n, actual: q.length },
    );
  }
  const element = f.type.element;
  const [lo, hi, integer] = element === "int8" ? [-128, 127, true] : element === "bit" ? [0, 255, true] : [-Infinity, Infinity, false];
  for (let j = 0; j < n; j++) {
    const v = q[j]!;
    const finite = element === "float16" ? (f32ToF16Bits(v) & 0x7c00) !== 0x7c00 : Number.isFinite(Math.fround(v));
    if (!Number.isFinite(v) || !finite || (integer && (!Number.isInteger(v) || v < lo || v > hi))) {
      const need = integer ? `integers in ${lo}..${hi}` : `finite numbers within ${element} range`;
      throw createError("INVALID_VECTOR", `Query vector ${index}, element ${j} is ${v}; column "${f.name}" (${element}) needs ${need}.`, { column: f.name, query: index, position: j });
    }
  }
  if (element === "int8") return q instanceof Int8Array ? q : Int8Array.from(q as ArrayLike<number>);
  if (element === "bit") return q instanceof Uint8Array ? q : Uint8Array.from(q as ArrayLike<number>);
  return q instanceof Float32Array ? q : Float32Array.from(q as ArrayLike<number>);
}

function resolveMetric(f: VectorField, requested: DistanceType | undefined): DistanceType {
  const metric = requested ?? (f.type.element === "bit" ? "hamming" : "l2");
  if ((metric === "hamming") !== (f.type.element === "bit")) {
    throw createError(
      "INVALID_ARGUMENT",
      metric === "hamming"
        ? `Hamming distance needs a bit-packed vector column; "${f.name}" holds ${f.type.element}.`
        : `Column "${f.name}" holds bit vectors; only the hamming distance applies to it, not ${metric}.`,
      { column: f.name },
    );
  }
  return metric;
}


/**
 * Rows to scan in a fragment: undefined = every live row; otherwise the (live) rows passing the
 * prefilter. `readRows`: read just these rows' vectors when that touches few of the column's
 * chunks, instead of loading the fragment's block (an indexed fragment that a selective filter
 * sends to the exact scan: its whole column is not resident and should not become so).
 */
interface ScanRows {
  readonly rows: (frag: Fragment) => Int32Array | undefined;
  readonly readRows?: (frag: Fragment) => boolean;
}

/** A fragment's block to scan, and (for a block of picked rows) which fragment row each of its rows is. */
interface Scan {
  readonly frag: Fragment;
  readonly target: SearchTarget;
  readonly rowOf?: Int32Array;
  readonly temporary?: VectorBlock;
}

async function scanOf(ctx: VectorSearchContext, kernels: Kernels, field: VectorField, frag: Fragment, picked: Int32Array | undefined, byRows: boolean): Promise<{ scan?: Scan; deletedKept: number }> {
  if (picked !== undefined && picked.length === 0) return { deletedKept: 0 };
  // Rows of a resident block are scanned where they are; only a block not in memory is worth
  // bypassing by reading the picked rows alone.
  const resident = picked !== undefined && byRows ? await ctx.residentVectorBlock?.(frag, field.name) : undefined;
  if (resident === undefined && picked !== undefined && byRows && ctx.readRows !== undefined && fewChunks(field.type, frag.numRows, picked)) {
    const col = await ctx.readRows(frag, field.name, picked);
    const keep = col.validity === null ? undefined : Int32Array.from(picked.keys()).filter((i) => col.validity![i] === 1);
    if (keep !== undefined && keep.length === 0) return { deletedKept: 0 };
    const block = kernels.upload(col.data as NumericArray as Float32Array | Int8Array | Uint8Array | Uint16Array, vectorStride(field.type));
    return { scan: { frag, target: { block, ids: keep }, rowOf: picked, temporary: block }, deletedKept: 0 };
  }
  const { block, validity } = resident ?? (await ctx.vectorBlock(frag, field.name));
  let ids = picked;
  // Rows whose vector is null are never candidates.
  if (validity !== null) ids = (ids ?? selectRows(frag)).filter((r) => validity[r] === 1);
  if (ids !== undefined) return ids.length === 0 ? { deletedKept: 0 } : { scan: { frag, target: { block, ids } }, deletedKept: 0 };
  // Fragments with a few deleted rows (and nothing else to mask) are scanned whole: k grows by
  // their deleted rows and those are dropped from the results, which beats listing every live row.
  const deleted = frag.numRows - frag.liveRows;
  return { scan: { frag, target: { block } }, deletedKept: deleted };
}

/** Exact top-k of every query over `frags`, as hits per query. */
async function flatSearch(
  ctx: VectorSearchContext, kernels: Kernels, field: VectorField, metric: DistanceType, queries: readonly (Float32Array | Int8Array | Uint8Array)[],
  frags: readonly Fragment[], which: ScanRows, k: number, range: { lo: number; hi: number },
): Promise<Hit[][]> {
  const scans: Scan[] = [];
  let extra = 0;
  try {
    for (const frag of frags) {
      let picked = which.rows(frag);
      const deleted = frag.numRows - frag.liveRows;
      // Too many deleted rows to make up for with a larger k: list the live ones.
      if (picked === undefined && deleted > 0 && (deleted * FEW_DELETED > frag.numRows || extra + deleted > MAX_EXTRA_K)) picked = selectRows(frag);
      const { scan, deletedKept } = await scanOf(ctx, kernels, field, frag, picked, which.readRows?.(frag) ?? false);
      if (scan === undefined) continue;
      scans.push(scan);
      extra += deletedKept;
    }
    if (scans.length === 0) return queries.map(() => []);
    const targets = scans.map((s) => s.target);
    const scanPool = ctx.scanPool;
    const rows = targets.reduce((n, t) => n + (t.ids?.length ?? t.block.rows ?? 0), 0);
    const pool = scanPool && rows * expectedLength(field) * queries.length >= POOL_MIN_ELEMENTS && scans.every((s) => s.temporary === undefined) ? await scanPool() : undefined;
    const results = pool
      ? await pool.searchBatch(metric, queries, targets, expectedLength(field), k + extra, range)
      : kernels.searchBatch(metric, queries, targets, expectedLength(field), k + extra, range);
    return results.map((res) => {
      const hits: Hit[] = [];
      for (let i = 0; i < res.distance.length && hits.length < k; i++) {
        const scan = scans[res.target[i]!]!;
        const frag = scan.frag;
        const row = scan.rowOf === undefined ? res.row[i]! : scan.rowOf[res.row[i]!]!;
        if (frag.deletions !== null && frag.deletions[row] === 1) continue;
        hits.push({ frag, row, distance: res.distance[i]! });
      }
      return hits;
    });
  } finally {
    for (const s of scans) s.temporary?.free();
  }
}

/** A predicate over row ids allowing the given rows of indexed fragments (for indexes that take no bitmap). */
function allowedRows(state: TableState, entry: IndexEntry, passing: (frag: Fragment) => Int32Array | undefined): (rowId: number) => boolean {
  const masks = new Map<number, Uint8Array | null>();
  for (const frag of state.fragments) {
    if (!entry.fragments.includes(frag.id)) continue;
    const rows = passing(frag);
    if (rows === undefined && frag.deletions === null) masks.set(frag.id, null);
    else {
      const m = new Uint8Array(frag.numRows);
      for (const r of rows ?? selectRows(frag)) m[r] = 1;
      masks.set(frag.id, m);
    }
  }
  return (rowId) => {
    const m = masks.get(Math.floor(rowId / ROW_ID_FRAGMENT));
    return m !== undefined && (m === null || m[rowId % ROW_ID_FRAGMENT] === 1);
  };
}

/**
 * Vectors of `rowIds` (for refine), as rows × dim float32. Fragments whose vector column is loaded
 * are read from memory; for the others only the candidates' rows are range-read from storage
 * (a few KiB per candidate), not the whole column — and, in the same wave, the candidates' rows
 * of the fixed-width output columns `ahead` into `read` (the hits are among the candidates), where
 * they touch at most a quarter of a column's checked 4 KiB chunks: the over-read is about one
 * chunk per candidate and column, and never a whole column of a large fragment.
 */
/**
 * A column of a fragment this small is read ahead with the candidates' vectors whichever of its
 * chunks they touch: at most this many bytes, where a later read would cost a round trip.
 */
const SMALL_COLUMN_BYTES = 16_384;

async function readCandidateVectors(
  ctx: VectorSearchContext, field: VectorField, byId: ReadonlyMap<number, Fragment>, rowIds: Float64Array, ahead: readonly string[], read?: RowsRead, lent?: Uint8Array[],
): Promise<Float32Array> {
  const dim = field.type.dim;
  // Refine is done with the vectors when the search returns: they go in a buffer of the session's
  // (BufferPool), which the search gives back (`lent`). So do the rows read, once copied.
  const pool = ctx.buffers;
  const lend = lent && pool?.take(rowIds.length * dim * 4);
  if (lend) lent.push(lend);
  const out = lend ? new Float32Array(lend.buffer, 0, rowIds.length * dim) : new Float32Array(rowIds.length * dim);
  const picks = new Map<Fragment, number[]>();
  rowIds.forEach((id, i) => {
    const frag = byId.get(Math.floor(id / ROW_ID_FRAGMENT))!;
    let list = picks.get(frag);
    if (list === undefined) picks.set(frag, (list = []));
    list.push(i);
  });
  // Settled, not all: a lent `out` goes back when this fails, so no read may still write to it then.
  const done = await Promise.allSettled([...picks].map(async ([frag, at]) => {
    const rows = Int32Array.from(at, (i) => rowIds[i]! % ROW_ID_FRAGMENT);
    const resident = field.type.element === "bit" ? undefined : await ctx.residentVectorBlock?.(frag, field.name);
    if (resident !== undefined) {
      at.forEach((i, j) => resident.block.copyRowF32(rows[j]!, out, i * dim));
      return;
    }
    let col = frag.columns.get(field.name);
    if (col === undefined && ctx.readRows !== undefined) {
      const also = ahead.filter((c) => {
        if (frag.columns.has(c)) return false;
        const type = findField(ctx.state.schema, c)!.type;
        return fewChunks(type, frag.numRows, rows, 1 / 4) || frag.numRows * rowBytes(type) <= SMALL_COLUMN_BYTES;
      });
      const rowsOut = pool?.take(rows.length * rowBytes(field.type));
      try {
        const [sub, ...cols] = await Promise.all([ctx.readRows(frag, field.name, rows, rowsOut), ...also.map((c) => ctx.readRows!(frag, c, rows))]);
        if (read !== undefined && also.length > 0) {
          const at = new Map<number, number>();
          rows.forEach((r, j) => at.set(r, j));
          let own = read.get(frag);
          if (own === undefined) read.set(frag, (own = new Map()));
          also.forEach((c, j) => own.set(c, { col: cols[j]!, at }));
        }
        at.forEach((i, j) => copyVectorF32(sub, field.type, j, out, i * dim));
      } finally {
        if (rowsOut) pool!.give(rowsOut);
      }
      return;
    }
    if (col === undefined) {
      await ctx.ensureColumns([field.name], [frag]);
      col = frag.columns.get(field.name)!;
    }
    at.forEach((i, j) => copyVectorF32(col, field.type, rows[j]!, out, i * dim));
  }));
  for (const d of done) if (d.status === "rejected") throw d.reason;
  return out;
}

/** At most this many elements (matching rows × dimensions, ~8 MB of float32), a prefiltered search always scans the matching rows exactly. */
export const EXACT_PREFILTER_ELEMENTS = 1 << 21;

/** How a vector search runs over the fragments a vector index covers. */
export type VectorStrategy =
  | { readonly kind: "exact" }
  | { readonly kind: "ann" }
  | { readonly kind: "ann-prefiltered"; readonly allowedRows: number; readonly share: number; readonly exactCost: number; readonly annCost: number }
  | { readonly kind: "exact-prefiltered"; readonly allowedRows: number; readonly share: number; readonly exactCost: number; readonly annCost: number };

/** What the planner knows of the index: its kind, build parameters and rows. */
export interface IndexShape {
  readonly kind: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly rows: number;
}

/**
 * Distance work (in element operations) of a search through `index` when a share `share` of its
 * rows is allowed. IVF: the partitions probed (nprobes / √share of them, see IvfIndex.search) times
 * the work per row of its codes; HNSW: about ef · 2m neighbours visited per result kept, each a
 * full distance, stretched by 1 / share as the walk passes over rows the filter rejects.
 */
export function annCost(index: IndexShape, share: number, dim: number, knobs: { nprobes?: number; ef?: number; refineFactor?: number }, k: number): number {
  const refine = k * (knobs.refineFactor ?? 1) * dim;
  if (index.kind.startsWith("IVF")) {
    const nlist = (index.params.numPartitions as number | undefined) ?? Math.max(1, Math.round(Math.sqrt(index.rows)));
    const probed = Math.min(1, (knobs.nprobes ?? 20) / nlist / Math.sqrt(Math.max(share, 1e-9)));
    const perRow = index.kind === "IVF_PQ" ? ((index.params.numSubVectors as number | undefined) ?? Math.max(1, dim / 4)) : index.kind === "IVF_SQ" ? dim / 4 : index.kind === "IVF_RQ" ? dim / 16 : dim;
    return index.rows * probed * perRow + refine;
  }
  const m = (index.params.m as number | undefined) ?? 16;
  const ef = Math.max(knobs.ef ?? 64, k);
  return Math.min(index.rows * dim, (ef * 2 * m * dim) / Math.max(share, 1e-9)) + refine;
}

/**
 * The strategy for the fragments a vector index covers. Without a prefilter: the index. With one
 * leaving `allowedRows` of them: an exact scan of those rows when it costs no more than the index
 * search would (always when it is small), else the index with the filter as a bitmap inside it.
 */
export function chooseStrategy(index: IndexShape | undefined, allowedRows: number | undefined, dim: number, knobs: { nprobes?: number; ef?: number; refineFactor?: number }, k: number): VectorStrategy {
  if (index === undefined) return { kind: "exact" };
  if (allowedRows === undefined) return { kind: "ann" };
  const share = index.rows === 0 ? 0 : allowedRows / index.rows;
  const exactCost = allowedRows * dim;
  const ann = annCost(index, share, dim, knobs, k);
  const exact = exactCost <= EXACT_PREFILTER_ELEMENTS || exactCost <= ann;
  return { kind: exact ? "exact-prefiltered" : "ann-prefiltered", allowedRows, share, exactCost, annCost: ann };
}

/** Whether the passing rows of indexed fragments can be scanned without loading whole vector columns from storage. */
async function cheapToScan(ctx: VectorSearchContext, field: VectorField, passing: ReadonlyMap<Fragment, unknown>, rowsOf: (frag: Fragment) => Int32Array | undefined, covered: ReadonlySet<number>): Promise<boolean> {
  for (const frag of passing.keys()) {
    if (!covered.has(frag.id) || fewChunks(field.type, frag.numRows, rowsOf(frag)!)) continue;
    if ((await ctx.residentVectorBlock?.(frag, field.name)) === undefined) return false;
  }
  return true;
}

/** What a vector search decided and did, for explainPlan() / analyzePlan(). */
export interface VectorSearchTrace {
  column: string;
  metric: DistanceType;
  k: number;
  index?: { name: string; kind: string; fragments: number; nprobes?: number; ef?: number; refineFactor?: number };
  strategy: VectorStrategy;
  /** Fragments (rows) scanned exactly because no index covers them. */
  flatFragments: number;
  flatRows: number;
  postfilter: boolean;
}

export async function runVectorSearch(
  ctx: VectorSearchContext, plan: QueryPlan, vec: VectorPlan, field: VectorField, filter: CompiledFilter | undefined,
  selection?: FilterSelection, trace?: { readonly dryRun: boolean; record(t: VectorSearchTrace): void }, output: readonly string[] = [], read?: RowsRead,
): Promise<Hit[]> {
  const { state } = ctx;
  const metric = resolveMetric(field, vec.distanceType);
  const queries = vec.queries.map((q, i) => toKernelQuery(field, q, i));
  const limit = plan.limit ?? DEFAULT_VECTOR_LIMIT;
  const k = plan.offset + limit;
  const [lo, hi] = vec.distanceRange ?? [undefined, undefined];
  const range = { lo: lo ?? -Infinity, hi: hi ?? Infinity };
  // The kernels load (on a first query, a request of their own) while the index opens.
  const loading = ctx.kernels();
  loading.catch(() => {});

  // The index opens first (its head is the read the query waits on: over HTTP/1.1 it must not
  // queue behind the footers), then the footers wanted by refine (or the output) go out with the
  // head: at most one per candidate.
  const opening = vec.bypassVectorIndex ? undefined : ctx.vectorIndex?.(field.name, metric);
  opening?.catch(() => {});
  const ahead = read === undefined ? [] : output.filter((c) => c !== field.name && isFixedWidth(findField(state.schema, c)!.type));
  if (!trace?.dryRun && state.fragments.length <= k * (vec.refineFactor ?? 1)) ctx.readAhead?.(state.fragments, [field.name, ...ahead]);
  const indexed = await opening;
  const kernels = await loading;
  const covered = new Set(indexed?.entry.fragments ?? []);
  const searched = indexed && vec.fastSearch ? state.fragments.filter((f) => covered.has(f.id)) : state.fragments;

  // The prefilter's rows, per fragment (absent: none pass), when there is one: as the selection
  // holds them (an index's large answer is a bitmap), listed only for the fragments scanned exactly
  // (an index takes the bitmaps as they are, see allowedBitmap).
  let passing: Map<Fragment, FragmentRows> | undefined;
  let sel: FilterSelection | undefined;
  if (filter !== undefined && !vec.postfilter) {
    sel = selection ?? (await selectFilter(ctx, plan.filter!, filter));
    passing = await selectParts(sel, searched);
  }
  const listed = new Map<Fragment, Int32Array>();
  const list = async (frags: readonly Fragment[]): Promise<void> => {
    for (const f of frags) {
      const p = passing?.get(f);
      if (p !== undefined && !listed.has(f)) listed.set(f, p.rows ?? (await sel!.rows(f)));
    }
  };
  const rowsOf = (frag: Fragment): Int32Array | undefined => (passing === undefined ? undefined : listed.get(frag) ?? EMPTY_ROWS);
  await list(searched.filter((f) => !covered.has(f.id)));
  let allowedIndexed: number | undefined;
  if (passing !== undefined) {
    allowedIndexed = 0;
    for (const [frag, p] of passing) if (covered.has(frag.id)) allowedIndexed += p.rows !== undefined ? p.rows.length : p.count;
  }
  const shape = indexed && { kind: indexed.entry.kind, params: indexed.entry.params, rows: indexed.index.size };
  let strategy = chooseStrategy(shape, allowedIndexed, expectedLength(field), vec, k);
  // The exact paths (and binary IVF, which takes a predicate over rows) need the indexed fragments' rows listed.
  if (strategy.kind === "exact-prefiltered" || indexed?.entry.kind === "IVF_BINARY") await list(searched);
  if (strategy.kind === "exact-prefiltered" && strategy.exactCost > EXACT_PREFILTER_ELEMENTS && !(await cheapToScan(ctx, field, passing!, rowsOf, covered))) {
    // Scanning would first load vector columns that are not in memory: the index reads far less.
    strategy = { ...strategy, kind: "ann-prefiltered" };
  }
  const exactAll = strategy.kind === "exact-prefiltered";
  const flatFrags = exactAll ? searched : searched.filter((f) => !covered.has(f.id));
  trace?.record({
    column: field.name, metric, k, strategy, postfilter: vec.postfilter && filter !== undefined,
    index: indexed && { name: indexed.entry.name, kind: indexed.entry.kind, fragments: indexed.entry.fragments.length, nprobes: vec.nprobes, ef: vec.ef, refineFactor: vec.refineFactor },
    flatFragments: searched.filter((f) => !covered.has(f.id)).length,
    flatRows: searched.filter((f) => !covered.has(f.id)).reduce((n, f) => n + (rowsOf(f)?.length ?? f.liveRows), 0),
  });
  if (trace?.dryRun) return [];
  const perQuery = await flatSearch(ctx, kernels, field, metric, queries, flatFrags, { rows: rowsOf, readRows: (f) => covered.has(f.id) }, k, range);

  if (indexed && !exactAll) {
    const byId = new Map(state.fragments.map((f) => [f.id, f] as const));
    // Binary IVF takes a row predicate only; every other index a bitmap over its positions.
    const bitmapOk = indexed.entry.kind !== "IVF_BINARY";
    const allowed = passing === undefined
      ? (bitmapOk ? liveBitmap(indexed.index, state, indexed.entry) : allowedRows(state, indexed.entry, () => undefined))
      : (bitmapOk ? (await allowedPositions()).allowedBitmap(indexed.index, state, indexed.entry, (frag) => passing!.get(frag), rowPositions) : allowedRows(state, indexed.entry, rowsOf));
    const lent: Uint8Array[] = [];
    const fetchVectors = (rowIds: Float64Array): Promise<Float32Array> => readCandidateVectors(ctx, field, byId, rowIds, ctx.readAhead ? ahead : [], read, lent);
    for (let qi = 0; qi < queries.length; qi++) {
      let res: Awaited<ReturnType<VectorIndex["search"]>>;
      try {
        res = await indexed.index.search(queries[qi]!, k, { nprobes: vec.nprobes, maximumNprobes: vec.maximumNprobes, ef: vec.ef, refineFactor: vec.refineFactor, fetchVectors, allowed });
      } finally {
        for (const b of lent.splice(0)) ctx.buffers!.give(b);
      }
      for (let i = 0; i < res.rows.length; i++) {
        const d = res.distances[i]!;
        if (d < range.lo || d >= range.hi) continue;
        const id = res.rows[i]!;
        perQuery[qi]!.push({ frag: byId.get(Math.floor(id / ROW_ID_FRAGMENT))!, row: id % ROW_ID_FRAGMENT, distance: d });
      }
      perQuery[qi]!.sort((a, b) => a.distance! - b.distance!);
    }
  }

  const hits: Hit[] = [];
  perQuery.forEach((list, qi) => {
    let found = list.slice(0, k).map((h) => (queries.length > 1 ? { ...h, queryIndex: qi } : h));
    if (vec.postfilter && filter !== undefined && found.length > 0) {
      const m = filter.evaluate(hitSource(found));
      found = found.filter((_, i) => m[i] === 1);
    }
    hits.push(...found.slice(plan.offset, plan.offset + limit));
  });
  return hits;
}
