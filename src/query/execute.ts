/**
 * Runs a `QueryPlan` against one version of a table: plain scans here, vector search in
 * vector-search.ts; both produce hits (fragment, row, distance) that become rows with the selected
 * and computed columns.
 */
import { createError } from "../errors.js";
import { readValue, type Column } from "../data/column.js";
import type { Row } from "../data/rows.js";
import { findField, unknownColumn, type Schema } from "../data/schema.js";
import { fewChunks, isFixedWidth, rowBytes } from "../storage/fragment-file.js";
import type { Kernels } from "../kernels/index.js";
import { fragmentSource, ROW_ID_FRAGMENT, selectRows, type Fragment } from "../dataset/fragment.js";
import type { TableState } from "../dataset/dataset.js";
import { compileExpression, compileFilter, type CompiledExpression, type CompiledFilter } from "../filter/index.js";
import { hitSource, type Hit } from "./hits.js";
import { countFilter, selectFilter, type FilterSelection, type ScalarIndexLookup } from "./selection.js";
import type { QueryTrace } from "./explain.js";
import { DEFAULT_VECTOR_LIMIT, type QueryPlan } from "./plan.js";
import { resolveVectorField, runVectorSearch, type PickedRows, type RowsRead, type VectorField, type VectorSearchTrace, type VectorIndexLookup, type VectorSearchContext } from "./vector-search.js";
import { runFtsSearch, type FtsIndexLookup } from "./fts-search.js";
import { LinearCombinationReranker } from "../rerank/linear-combination.js";
import { RRFReranker } from "../rerank/rrf.js";
import type { Reranker } from "../rerank/types.js";
import type { ScanPool } from "../pool/pool.js";

export interface ExecutionContext {
  readonly state: TableState;
  readonly kernels: () => Promise<Kernels>;
  /** Loads the named columns of `fragments` (default: every fragment of `state`), read from storage on demand. */
  readonly ensureColumns: (names: Iterable<string>, fragments?: readonly Fragment[]) => Promise<void>;
  /** Finds an index for vector search; absent: every search is exact. */
  readonly vectorIndex?: VectorIndexLookup;
  /** Finds full-text indexes. */
  readonly ftsIndexes?: FtsIndexLookup;
  /** Opens the table's scalar indexes on the given columns, for `where`. */
  readonly scalarIndexes?: ScalarIndexLookup;
  /** Splits large exact scans across worker threads. */
  readonly scanPool?: () => Promise<ScanPool>;
  /** See VectorSearchContext.readRows. */
  readonly readRows?: VectorSearchContext["readRows"];
  /** See VectorSearchContext.buffers. */
  readonly buffers?: VectorSearchContext["buffers"];
  /** See VectorSearchContext.readAhead. */
  readonly readAhead?: VectorSearchContext["readAhead"];
  /**
   * Whether a scalar column of a fragment (of about `bytes`) should be read for a few hit rows
   * rather than loaded whole and cached: when it is not decoded yet and the store is remote, or
   * the column is large against the cache budget. Absent: always load whole columns.
   */
  readonly preferRowReads?: (fragment: Fragment, column: string, bytes: number) => boolean;
  /** See VectorSearchContext.vectorBlock. */
  readonly vectorBlock: VectorSearchContext["vectorBlock"];
  /** See VectorSearchContext.residentVectorBlock. */
  readonly residentVectorBlock?: VectorSearchContext["residentVectorBlock"];
}

export interface Output {
  /** Output name → source column name. */
  readonly plain: readonly (readonly [string, string])[];
  /** Output name → computed expression. */
  readonly computed: readonly (readonly [string, CompiledExpression])[];
  readonly needed: readonly string[];
}

export function resolveOutput(schema: Schema, select: QueryPlan["select"]): Output {
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

/** Output columns copied as they are (not only read by expressions): the ones worth reading row by row. */
function rowColumns(output: Output): string[] {
  const inExpressions = new Set(output.computed.flatMap(([, expr]) => expr.columns));
  return [...new Set(output.plain.map(([, src]) => src))].filter((src) => !inExpressions.has(src));
}


/**
 * Loads what the hits' output needs. Vector columns are range-read for the hit rows only (ten
 * results read ten vectors, not their fragments' whole columns, and no JS copy stays); so are
 * numbers, bools and timestamps when the hits touch few of a column's chunks and the context
 * prefers it (a remote store, a column large against the cache). Other columns are loaded, and
 * cached by the session, for the fragments with hits.
 */
export async function loadOutput(ctx: ExecutionContext, output: Output, hits: readonly Hit[], read?: RowsRead): Promise<Map<Fragment, Map<string, PickedRows>>> {
  const rowsOf = new Map<Fragment, number[]>();
  for (const h of hits) {
    let rows = rowsOf.get(h.frag);
    if (rows === undefined) rowsOf.set(h.frag, (rows = []));
    rows.push(h.row);
  }
  const plain = rowColumns(output);
  const picked = new Map<Fragment, Map<string, PickedRows>>();
  await Promise.all([...rowsOf].map(async ([frag, hitRows]) => {
    const rows = Int32Array.from(new Set(hitRows));
    // Columns refine read ahead for candidates holding every hit row need no read.
    const cols = new Map<string, PickedRows>();
    for (const [c, p] of read?.get(frag) ?? []) if (rows.every((r) => p.at.has(r))) cols.set(c, p);
    const byRow = ctx.readRows === undefined ? [] : plain.filter((src) => {
      if (frag.columns.has(src) || cols.has(src)) return false;
      const type = findField(ctx.state.schema, src)?.type;
      if (type === undefined || !isFixedWidth(type)) return false;
      if (type.kind === "vector") return true;
      return fewChunks(type, frag.numRows, rows) && (ctx.preferRowReads?.(frag, src, frag.numRows * rowBytes(type)) ?? false);
    });
    const at = new Map<number, number>();
    rows.forEach((r, i) => at.set(r, i));
    // Whole columns and rows of others at once: one round trip over HTTP.
    await Promise.all([
      ctx.ensureColumns(output.needed.filter((c) => !byRow.includes(c) && !cols.has(c)), [frag]),
      ...byRow.map(async (c) => cols.set(c, { col: await ctx.readRows!(frag, c, rows), at })),
    ]);
    if (cols.size > 0) picked.set(frag, cols);
  }));
  return picked;
}

export function materialize(hits: readonly Hit[], output: Output, plan: QueryPlan, picked: ReadonlyMap<Fragment, ReadonlyMap<string, PickedRows>>): Row[] {
  if (hits.length === 0) return []; // nothing to compute (and no column to take a type from)
  const computed = output.computed.map(([name, expr]) => [name, expr.evaluate(hitSource(hits))] as const);
  const rows: Row[] = new Array<Row>(hits.length);
  for (let i = 0; i < hits.length; i++) {
    const h = hits[i]!;
    const r: Row = {};
    const own = picked.get(h.frag);
    for (const [out, src] of output.plain) {
      const p = own?.get(src);
      r[out] = p === undefined ? readValue(h.frag.columns.get(src)!, h.row) : readValue(p.col, p.at.get(h.row)!);
    }
    for (const [out, col] of computed) r[out] = readValue(col, i);
    if (h.distance !== undefined) r._distance = h.distance;
    if (h.score !== undefined) r._score = h.score;
    if (h.queryIndex !== undefined) r._query_index = h.queryIndex;
    if (plan.withRowId) r._rowid = h.frag.id * 2 ** 32 + h.row;
    rows[i] = r;
  }
  return rows;
}

/** Rows in table order; filter columns are read fragment by fragment, so a limit stops the reading too. */
async function runScan(ctx: ExecutionContext, plan: QueryPlan, selection: FilterSelection | undefined): Promise<Hit[]> {
  const want = plan.limit === undefined ? Infinity : plan.offset + plan.limit;
  const hits: Hit[] = [];
  for (const frag of ctx.state.fragments) {
    if (hits.length >= want) break;
    const rows = selection === undefined ? selectRows(frag) : await selection.rows(frag);
    for (let i = 0; i < rows.length && hits.length < want; i++) hits.push({ frag, row: rows[i]! });
  }
  return hits.slice(plan.offset);
}

function rerankerOf(plan: QueryPlan, live: Reranker | undefined): Reranker | undefined {
  const spec = plan.rerank;
  if (live !== undefined || spec === undefined) return live;
  if (spec.kind === "rrf") return new RRFReranker(spec.k, spec.returnScore);
  if (spec.kind === "linear") return new LinearCombinationReranker({ weight: spec.weight, fill: spec.fill, returnScore: spec.returnScore });
  throw createError("UNSUPPORTED", "A custom reranker cannot travel with a query plan (e.g. to a worker); use it in the same thread as the table.");
}

/** Full-text queries: BM25 alone, or hybrid (vector + BM25) fused by the reranker. */
async function runTextQuery(
  ctx: ExecutionContext, plan: QueryPlan, output: Output, filter: CompiledFilter | undefined,
  field: VectorField | undefined, live: Reranker | undefined, trace: QueryTrace | undefined,
): Promise<Row[]> {
  const ft = plan.fullText!;
  const limit = plan.limit ?? DEFAULT_VECTOR_LIMIT;
  const k = plan.offset + limit;
  const reranker = rerankerOf(plan, live);
  const selection = filter === undefined ? undefined : await timed(trace, () => selectFilter(ctx, plan.filter!, filter), (sel, t) => (trace!.selection = { ...sel.summary, ms: t }));
  if (trace) {
    const found = (await ctx.ftsIndexes?.(ft.columns)) ?? [];
    trace.fts = { query: ft.query, indexes: found.map((f) => `${f.entry.name} (FTS on ${f.entry.columns[0]})`), operator: ft.operator ?? "OR", k };
    if (reranker !== undefined || field !== undefined) trace.rerank = { name: (reranker ?? new RRFReranker()).constructor.name };
  }
  if (trace?.dryRun) {
    if (field !== undefined) await runVectorSearch(ctx, { ...plan, offset: 0, limit: k }, plan.vector!, field, filter, selection, { dryRun: true, record: (v) => (trace.vector = v) });
    return [];
  }
  // The data files the hits will be read from open while the index loads (fragments ≤ hits).
  if (!trace?.dryRun && ctx.state.fragments.length <= k) ctx.readAhead?.(ctx.state.fragments, rowColumns(output));
  const ftsHits = await timed(trace, () => runFtsSearch(ctx, ft, selection, k), (hits, t) => Object.assign(trace!.fts!, { ms: t, rows: hits.length }));
  const rows = async (hits: Hit[], withRowId: boolean, read?: RowsRead): Promise<Row[]> => {
    return materialize(hits, output, { ...plan, withRowId }, await loadOutput(ctx, output, hits, read));
  };
  let ranked: Row[];
  if (field === undefined) {
    if (reranker === undefined) return rows(ftsHits.slice(plan.offset), plan.withRowId);
    if (reranker.rerankFts === undefined) throw createError("INVALID_ARGUMENT", "This reranker has no rerankFts(), so it cannot rerank a full-text query alone.");
    const ftsRows = await rows(ftsHits, true);
    ranked = await timed(trace, () => reranker.rerankFts!(ft.query, ftsRows), (r, t) => Object.assign(trace!.rerank!, { ms: t, rows: r.length }));
  } else {
    const vecTrace = trace && { dryRun: false, record: (v: VectorSearchTrace) => (trace.vector = v) };
    const read: RowsRead = new Map();
    const vecHits = await timed(trace, () => runVectorSearch(ctx, { ...plan, offset: 0, limit: k }, plan.vector!, field, filter, selection, vecTrace, rowColumns(output), read), (hits, t) => Object.assign(trace!.vector!, { ms: t, rows: hits.length }));
    const [vecRows, ftsRows] = await Promise.all([rows(vecHits, true, read), rows(ftsHits, true)]);
    ranked = await timed(trace, () => (reranker ?? new RRFReranker()).rerankHybrid(ft.query, vecRows, ftsRows), (r, t) => Object.assign(trace!.rerank!, { ms: t, rows: r.length }));
  }
  const page = ranked.slice(plan.offset, plan.offset + limit);
  if (!plan.withRowId) for (const r of page) delete r._rowid;
  return page;
}

/** Runs `fn`; with a trace, hands its result and duration (ms) to `record`. */
async function timed<T>(trace: QueryTrace | undefined, fn: () => Promise<T>, record: (value: T, ms: number) => void): Promise<T> {
  if (trace === undefined) return fn();
  const t0 = performance.now();
  const value = await fn();
  record(value, performance.now() - t0);
  return value;
}

/**
 * Runs `plan`. With a `trace`, records each stage's decisions (and, unless it is a dry run, its
 * rows and time) for explainPlan() / analyzePlan(); a dry run stops after the decisions.
 */
export async function executeQuery(ctx: ExecutionContext, plan: QueryPlan, reranker?: Reranker, trace?: QueryTrace): Promise<Row[]> {
  const schema = ctx.state.schema;
  const output = resolveOutput(schema, plan.select);
  const filter = plan.filter === undefined ? undefined : compileFilter(plan.filter, schema);
  const field = plan.vector === undefined ? undefined : resolveVectorField(schema, plan.vector);
  if (trace) trace.output = { columns: outputNames(output, plan, field !== undefined), limit: plan.limit ?? (field !== undefined || plan.fullText !== undefined ? DEFAULT_VECTOR_LIMIT : undefined), offset: plan.offset };
  const rows = await timedRows(trace, async () => {
    if (plan.fullText !== undefined) return runTextQuery(ctx, plan, output, filter, field, reranker, trace);
    // Columns are read only where they are needed: filter columns where rows are tested (not where
    // scalar indexes answer), the vector column by the search for the fragments it scans exactly,
    // output columns for fragments with hits.
    const prefilter = filter !== undefined && !(field !== undefined && plan.vector!.postfilter);
    const selection = prefilter ? await timed(trace, () => selectFilter(ctx, plan.filter!, filter), (sel, t) => (trace!.selection = { ...sel.summary, ms: t })) : undefined;
    let hits: Hit[];
    const read: RowsRead = new Map();
    if (field === undefined) {
      if (trace) trace.scan = { fragments: ctx.state.fragments.length, rows: ctx.state.fragments.reduce((n, f) => n + f.liveRows, 0) };
      if (trace?.dryRun) return [];
      hits = await timed(trace, () => runScan(ctx, plan, selection), (h, t) => Object.assign(trace!.scan!, { ms: t }));
    } else {
      const vecTrace = trace && { dryRun: trace.dryRun, record: (v: VectorSearchTrace) => (trace.vector = v) };
      hits = await timed(trace, () => runVectorSearch(ctx, plan, plan.vector!, field, filter, selection, vecTrace, rowColumns(output), read), (h, t) => Object.assign(trace!.vector!, { ms: t, rows: h.length }));
      if (trace?.dryRun) return [];
    }
    const rows = materialize(hits, output, plan, await loadOutput(ctx, output, hits, read));
    const r = rerankerOf(plan, reranker);
    if (r === undefined || field === undefined) return rows;
    if (r.rerankVector === undefined) throw createError("INVALID_ARGUMENT", "This reranker has no rerankVector(), so it cannot rerank a vector query alone; add fullTextSearch() for a hybrid query.");
    if (trace) trace.rerank = { name: r.constructor.name };
    return timed(trace, () => r.rerankVector!(plan.vector!.queryText ?? "", rows), (out, t) => Object.assign(trace!.rerank!, { ms: t, rows: out.length }));
  });
  return rows;
}

async function timedRows(trace: QueryTrace | undefined, fn: () => Promise<Row[]>): Promise<Row[]> {
  return timed(trace, fn, (rows, t) => {
    if (trace!.dryRun) return;
    Object.assign(trace!.output!, { rows: rows.length });
    trace!.totalMs = t;
  });
}

/** The result's column names, as the plan would return them. */
function outputNames(output: Output, plan: QueryPlan, vector: boolean): string[] {
  const names = [...output.plain.map(([o]) => o), ...output.computed.map(([o]) => o)];
  if (vector && plan.fullText !== undefined) names.push("_relevance_score");
  else if (vector) names.push("_distance");
  else if (plan.fullText !== undefined) names.push("_score");
  if (plan.withRowId) names.push("_rowid");
  return names;
}

export async function countRows(ctx: Omit<ExecutionContext, "kernels">, filter?: string): Promise<number> {
  const state = ctx.state;
  if (filter === undefined) return state.fragments.reduce((s, f) => s + f.liveRows, 0);
  return countFilter(ctx, filter);
}
