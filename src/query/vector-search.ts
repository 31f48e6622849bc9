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
import { copyVectorF32 } from "../data/column.js";
import { ROW_ID_FRAGMENT } from "../dataset/fragment.js";
import type { CompiledFilter } from "../filter/index.js";
import { filterMask, hitSource, type Hit } from "./hits.js";
import { DEFAULT_VECTOR_LIMIT, type DistanceType, type QueryPlan, type QueryVector, type VectorPlan } from "./plan.js";
import type { ScanPool } from "../pool/pool.js";
import { liveBitmap } from "./live-rows.js";

export type VectorField = Field & { readonly type: Extract<DataType, { kind: "vector" }> };

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
  readonly readRows?: (fragment: Fragment, column: string, rows: Int32Array) => Promise<Column>;
}

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


/** Exact top-k of every query over `frags`, as hits per query. */
async function flatSearch(
  ctx: VectorSearchContext, kernels: Kernels, field: VectorField, metric: DistanceType, queries: readonly (Float32Array | Int8Array | Uint8Array)[],
  frags: readonly Fragment[], mask: (frag: Fragment) => Uint8Array | undefined, k: number, range: { lo: number; hi: number },
): Promise<Hit[][]> {
  const used: Fragment[] = [];
  const targets: SearchTarget[] = [];
  // Fragments with a few deleted rows (and nothing else to mask) are scanned whole: k grows by
  // their deleted rows and those are dropped from the results, which beats listing every live row.
  let extra = 0;
  const blocks = await Promise.all(frags.map((frag) => ctx.vectorBlock(frag, field.name)));
  frags.forEach((frag, f) => {
    const { block, validity } = blocks[f]!;
    let m = mask(frag);
    if (validity !== null) {
      // Rows whose vector is null are never candidates.
      m = m === undefined ? validity : m.map((x, i) => x & validity[i]!);
    }
    const deleted = frag.numRows - frag.liveRows;
    const wholeScan = m === undefined && (frag.deletions === null || (deleted * FEW_DELETED <= frag.numRows && extra + deleted <= MAX_EXTRA_K));
    if (wholeScan && frag.deletions !== null) extra += deleted;
    const ids = wholeScan ? undefined : selectRows(frag, m);
    if (ids !== undefined && ids.length === 0) return;
    used.push(frag);
    targets.push({ block, ids });
  });
  const scanPool = ctx.scanPool;
  if (targets.length === 0) return queries.map(() => []);
  const rows = targets.reduce((n, t) => n + (t.ids?.length ?? t.block.rows ?? 0), 0);
  const pool = scanPool && rows * expectedLength(field) * queries.length >= POOL_MIN_ELEMENTS ? await scanPool() : undefined;
  const results = pool
    ? await pool.searchBatch(metric, queries, targets, expectedLength(field), k + extra, range)
    : kernels.searchBatch(metric, queries, targets, expectedLength(field), k + extra, range);
  return results.map((res) => {
    const hits: Hit[] = [];
    for (let i = 0; i < res.distance.length && hits.length < k; i++) {
      const frag = used[res.target[i]!]!;
      const row = res.row[i]!;
      if (frag.deletions !== null && frag.deletions[row] === 1) continue;
      hits.push({ frag, row, distance: res.distance[i]! });
    }
    return hits;
  });
}

/** Which rows of indexed fragments may be returned, or undefined when every indexed row may. */
function allowedRows(
  state: TableState, entry: IndexEntry, mask: (frag: Fragment) => Uint8Array | undefined,
): ((rowId: number) => boolean) | undefined {
  const covered = new Set(entry.fragments);
  const masks = new Map<number, Uint8Array | null>();
  let everyRow = true;
  for (const frag of state.fragments) {
    if (!covered.has(frag.id)) continue;
    const m = mask(frag);
    let allowed: Uint8Array | null = null;
    if (m !== undefined || frag.deletions !== null) {
      allowed = new Uint8Array(frag.numRows);
      for (let i = 0; i < frag.numRows; i++) allowed[i] = (m === undefined || m[i] === 1) && (frag.deletions === null || frag.deletions[i] === 0) ? 1 : 0;
      everyRow = false;
    }
    masks.set(frag.id, allowed);
  }
  // Fragments the index covers may have been dropped since (all their rows deleted).
  if (masks.size !== covered.size) everyRow = false;
  if (everyRow) return undefined;
  return (rowId) => {
    const m = masks.get(Math.floor(rowId / ROW_ID_FRAGMENT));
    return m !== undefined && (m === null || m[rowId % ROW_ID_FRAGMENT] === 1);
  };
}

/**
 * Vectors of `rowIds` (for refine), as rows × dim float32. Fragments whose vector column is loaded
 * are read from memory; for the others only the candidates' rows are range-read from storage
 * (a few KiB per candidate), not the whole column.
 */
async function readCandidateVectors(
  ctx: VectorSearchContext, field: VectorField, byId: ReadonlyMap<number, Fragment>, rowIds: Float64Array,
): Promise<Float32Array> {
  const dim = field.type.dim;
  const out = new Float32Array(rowIds.length * dim);
  const picks = new Map<Fragment, number[]>();
  rowIds.forEach((id, i) => {
    const frag = byId.get(Math.floor(id / ROW_ID_FRAGMENT))!;
    let list = picks.get(frag);
    if (list === undefined) picks.set(frag, (list = []));
    list.push(i);
  });
  await Promise.all([...picks].map(async ([frag, at]) => {
    const rows = Int32Array.from(at, (i) => rowIds[i]! % ROW_ID_FRAGMENT);
    const resident = field.type.element === "bit" ? undefined : await ctx.residentVectorBlock?.(frag, field.name);
    if (resident !== undefined) {
      at.forEach((i, j) => resident.block.copyRowF32(rows[j]!, out, i * dim));
      return;
    }
    let col = frag.columns.get(field.name);
    if (col === undefined && ctx.readRows !== undefined) {
      const sub = await ctx.readRows(frag, field.name, rows);
      at.forEach((i, j) => copyVectorF32(sub, field.type, j, out, i * dim));
      return;
    }
    if (col === undefined) {
      await ctx.ensureColumns([field.name], [frag]);
      col = frag.columns.get(field.name)!;
    }
    at.forEach((i, j) => copyVectorF32(col, field.type, rows[j]!, out, i * dim));
  }));
  return out;
}

export async function runVectorSearch(
  ctx: VectorSearchContext, plan: QueryPlan, vec: VectorPlan, field: VectorField, filter: CompiledFilter | undefined,
): Promise<Hit[]> {
  const { state } = ctx;
  const metric = resolveMetric(field, vec.distanceType);
  const queries = vec.queries.map((q, i) => toKernelQuery(field, q, i));
  const limit = plan.limit ?? DEFAULT_VECTOR_LIMIT;
  const k = plan.offset + limit;
  const [lo, hi] = vec.distanceRange ?? [undefined, undefined];
  const range = { lo: lo ?? -Infinity, hi: hi ?? Infinity };
  const mask = (frag: Fragment): Uint8Array | undefined => (vec.postfilter ? undefined : filterMask(filter, frag));
  const kernels = await ctx.kernels();

  const indexed = vec.bypassVectorIndex ? undefined : await ctx.vectorIndex?.(field.name, metric);
  const covered = new Set(indexed?.entry.fragments ?? []);
  const flatFrags = indexed && vec.fastSearch ? [] : state.fragments.filter((f) => !covered.has(f.id));
  const perQuery = await flatSearch(ctx, kernels, field, metric, queries, flatFrags, mask, k, range);

  if (indexed) {
    const byId = new Map(state.fragments.map((f) => [f.id, f] as const));
    // Binary IVF takes a row predicate only; every other index a bitmap over its positions too.
    const bitmapOk = indexed.entry.kind !== "IVF_BINARY";
    const allowed = bitmapOk && (filter === undefined || vec.postfilter) ? liveBitmap(indexed.index, state, indexed.entry) : allowedRows(state, indexed.entry, mask);
    const fetchVectors = (rowIds: Float64Array): Promise<Float32Array> => readCandidateVectors(ctx, field, byId, rowIds);
    for (let qi = 0; qi < queries.length; qi++) {
      const res = await indexed.index.search(queries[qi]!, k, { nprobes: vec.nprobes, maximumNprobes: vec.maximumNprobes, ef: vec.ef, refineFactor: vec.refineFactor, fetchVectors, allowed });
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
