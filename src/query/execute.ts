/**
 * Runs a `QueryPlan` against one version of a table: plain scans and exact (flat) vector search.
 *
 *   filter ─► per-fragment mask ─► row ids ─┐
 *                                           ├─► kernels.search (one call per fragment block, one top-k)
 *   query vectors ─► typed, checked ────────┘            │
 *                                                        ▼
 *                                  hits (fragment, row, distance) ─► postfilter ─► offset ─► rows
 */
import { createError } from "../errors.js";
import { concatColumns, readValue, takeColumn, type Column, type ColumnSource } from "../data/column.js";
import type { Row } from "../data/rows.js";
import { findField, vectorFields, type DataType, type Field, type Schema } from "../data/schema.js";
import type { Kernels, SearchTarget } from "../kernels/index.js";
import type { Fragment } from "../table/fragment.js";
import { fragmentSource, selectRows } from "../table/fragment.js";
import type { TableState } from "../table/dataset.js";
import { compileExpression, compileFilter, type CompiledExpression, type CompiledFilter } from "./filter/index.js";
import { DEFAULT_VECTOR_LIMIT, type DistanceType, type QueryPlan, type QueryVector, type VectorPlan } from "./plan.js";
import { vectorBlock } from "./vector-blocks.js";

export interface ExecutionContext {
  readonly state: TableState;
  readonly kernels: () => Promise<Kernels>;
  /** Loads the named columns of every fragment of `state` (they are read from storage on demand). */
  readonly ensureColumns: (names: Iterable<string>) => Promise<void>;
}

interface Hit {
  readonly frag: Fragment;
  readonly row: number;
  readonly distance?: number;
  readonly queryIndex?: number;
}

interface Output {
  /** Output name → source column name. */
  readonly plain: readonly (readonly [string, string])[];
  /** Output name → computed expression. */
  readonly computed: readonly (readonly [string, CompiledExpression])[];
  readonly needed: readonly string[];
}

type VectorField = Field & { readonly type: Extract<DataType, { kind: "vector" }> };

export function unknownColumn(schema: Schema, name: string, where: string): never {
  const names = schema.fields.map((f) => f.name);
  const near = names.filter((n) => n.toLowerCase() === name.toLowerCase() || n.toLowerCase().includes(name.toLowerCase()));
  const hint = near.length > 0 ? ` Did you mean ${near.map((n) => `"${n}"`).join(" or ")}?` : ` Columns: ${names.join(", ")}.`;
  throw createError("UNKNOWN_COLUMN", `${where}: no column "${name}".${hint}`, { column: name });
}

function resolveOutput(schema: Schema, select: QueryPlan["select"]): Output {
  if (select === undefined) {
    const plain = schema.fields.map((f) => [f.name, f.name] as const);
    return { plain, computed: [], needed: plain.map(([, c]) => c) };
  }
  if (Array.isArray(select)) {
    for (const name of select as readonly string[]) if (!findField(schema, name)) unknownColumn(schema, name, "select()");
    const plain = (select as readonly string[]).map((n) => [n, n] as const);
    return { plain, computed: [], needed: [...new Set(select as readonly string[])] };
  }
  const plain: (readonly [string, string])[] = [];
  const computed: (readonly [string, CompiledExpression])[] = [];
  const needed = new Set<string>();
  for (const [out, sql] of Object.entries(select as Record<string, string>)) {
    if (findField(schema, sql)) {
      plain.push([out, sql]);
      needed.add(sql);
    } else {
      const expr = compileExpression(sql, schema);
      computed.push([out, expr]);
      for (const c of expr.columns) needed.add(c);
    }
  }
  return { plain, computed, needed: [...needed] };
}

/** The columns of `hits`, in hit order, as a source for expressions and filters. */
function hitSource(hits: readonly Hit[], names: readonly string[]): ColumnSource {
  const byFrag = new Map<Fragment, number[]>();
  for (const h of hits) {
    let rows = byFrag.get(h.frag);
    if (rows === undefined) byFrag.set(h.frag, (rows = []));
    rows.push(h.row);
  }
  // Concatenating per-fragment takes groups hits by fragment; `order` maps them back to hit order.
  const order = new Int32Array(hits.length);
  const start = new Map<Fragment, number>();
  let at = 0;
  for (const [frag, rows] of byFrag) { start.set(frag, at); at += rows.length; }
  const seen = new Map<Fragment, number>();
  hits.forEach((h, i) => {
    const k = seen.get(h.frag) ?? 0;
    seen.set(h.frag, k + 1);
    order[i] = start.get(h.frag)! + k;
  });
  const cache = new Map<string, Column>();
  return {
    numRows: hits.length,
    column(name: string): Column {
      let col = cache.get(name);
      if (col === undefined) {
        const parts = [...byFrag].map(([frag, rows]) => takeColumn(frag.columns.get(name)!, rows));
        const type = parts[0]?.type ?? hits[0]?.frag.columns.get(name)?.type;
        col = parts.length === 1 ? takeColumn(parts[0]!, order) : takeColumn(concatColumns(type!, parts), order);
        cache.set(name, col);
      }
      return col;
    },
  };
}

function materialize(hits: readonly Hit[], output: Output, plan: QueryPlan): Row[] {
  const computed = output.computed.map(([name, expr]) => [name, expr.evaluate(hitSource(hits, expr.columns))] as const);
  const rows: Row[] = new Array<Row>(hits.length);
  for (let i = 0; i < hits.length; i++) {
    const h = hits[i]!;
    const r: Row = {};
    for (const [out, src] of output.plain) r[out] = readValue(h.frag.columns.get(src)!, h.row);
    for (const [out, col] of computed) r[out] = readValue(col, i);
    if (h.distance !== undefined) r._distance = h.distance;
    if (h.queryIndex !== undefined) r._query_index = h.queryIndex;
    if (plan.withRowId) r._rowid = h.frag.id * 2 ** 32 + h.row;
    rows[i] = r;
  }
  return rows;
}

function filterMask(filter: CompiledFilter | undefined, frag: Fragment): Uint8Array | undefined {
  return filter === undefined ? undefined : filter.evaluate(fragmentSource(frag));
}

function runScan(state: TableState, plan: QueryPlan, filter: CompiledFilter | undefined): Hit[] {
  const want = plan.limit === undefined ? Infinity : plan.offset + plan.limit;
  const hits: Hit[] = [];
  for (const frag of state.fragments) {
    if (hits.length >= want) break;
    const rows = selectRows(frag, filterMask(filter, frag));
    for (let i = 0; i < rows.length && hits.length < want; i++) hits.push({ frag, row: rows[i]! });
  }
  return hits.slice(plan.offset);
}

function resolveVectorField(schema: Schema, vec: VectorPlan): VectorField {
  if (vec.column !== undefined) {
    const f = findField(schema, vec.column);
    if (f === undefined) unknownColumn(schema, vec.column, "column()");
    if (f.type.kind !== "vector") {
      throw createError("INVALID_ARGUMENT", `Column "${f.name}" is not a vector column, so it cannot be searched by vector.`, { column: f.name });
    }
    return f as VectorField;
  }
  const candidates = vectorFields(schema) as VectorField[];
  if (candidates.length === 0) throw createError("INVALID_ARGUMENT", "The table has no vector column to search.");
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
    if (!Number.isFinite(v) || (integer && (!Number.isInteger(v) || v < lo || v > hi))) {
      const need = integer ? `integers in ${lo}..${hi}` : "finite numbers";
      throw createError("INVALID_VECTOR", `Query vector ${index}, element ${j} is ${v}; column "${f.name}" (${element}) needs ${need}.`, { column: f.name, index: j });
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

async function runVectorSearch(
  ctx: ExecutionContext, plan: QueryPlan, vec: VectorPlan, field: VectorField, filter: CompiledFilter | undefined,
): Promise<Hit[]> {
  const { state } = ctx;
  const metric = resolveMetric(field, vec.distanceType);
  const queries = vec.queries.map((q, i) => toKernelQuery(field, q, i));
  const limit = plan.limit ?? DEFAULT_VECTOR_LIMIT;
  const k = plan.offset + limit;
  const kernels = await ctx.kernels();

  const frags: Fragment[] = [];
  const targets: SearchTarget[] = [];
  for (const frag of state.fragments) {
    const col = frag.columns.get(field.name)!;
    let mask = vec.postfilter ? undefined : filterMask(filter, frag);
    if (col.validity !== null) {
      // Rows whose vector is null are never candidates.
      mask = mask === undefined ? col.validity : mask.map((m, i) => m & col.validity![i]!);
    }
    const ids = mask === undefined && frag.deletions === null ? undefined : selectRows(frag, mask);
    if (ids !== undefined && ids.length === 0) continue;
    frags.push(frag);
    targets.push({ block: vectorBlock(kernels, col), ids });
  }
  if (targets.length === 0) return [];

  const [lo, hi] = vec.distanceRange ?? [undefined, undefined];
  const range = { lo: lo ?? -Infinity, hi: hi ?? Infinity };
  const results = kernels.searchBatch(metric, queries, targets, expectedLength(field), k, range);
  const hits: Hit[] = [];
  results.forEach((res, qi) => {
    let perQuery: Hit[] = [];
    for (let i = 0; i < res.distance.length; i++) {
      perQuery.push({
        frag: frags[res.target[i]!]!,
        row: res.row[i]!,
        distance: res.distance[i]!,
        queryIndex: queries.length > 1 ? qi : undefined,
      });
    }
    if (vec.postfilter && filter !== undefined && perQuery.length > 0) {
      const mask = filter.evaluate(hitSource(perQuery, filter.columns));
      perQuery = perQuery.filter((_, i) => mask[i] === 1);
    }
    hits.push(...perQuery.slice(plan.offset, plan.offset + limit));
  });
  return hits;
}

export async function executeQuery(ctx: ExecutionContext, plan: QueryPlan): Promise<Row[]> {
  const schema = ctx.state.schema;
  const output = resolveOutput(schema, plan.select);
  const filter = plan.filter === undefined ? undefined : compileFilter(plan.filter, schema);
  const field = plan.vector === undefined ? undefined : resolveVectorField(schema, plan.vector);
  await ctx.ensureColumns([...output.needed, ...(filter?.columns ?? []), ...(field ? [field.name] : [])]);
  const hits = field === undefined ? runScan(ctx.state, plan, filter) : await runVectorSearch(ctx, plan, plan.vector!, field, filter);
  return materialize(hits, output, plan);
}

export async function countRows(ctx: Omit<ExecutionContext, "kernels">, filter?: string): Promise<number> {
  const state = ctx.state;
  if (filter === undefined) return state.fragments.reduce((s, f) => s + f.liveRows, 0);
  const compiled = compileFilter(filter, state.schema);
  await ctx.ensureColumns(compiled.columns);
  let n = 0;
  for (const frag of state.fragments) n += selectRows(frag, compiled.evaluate(fragmentSource(frag))).length;
  return n;
}
