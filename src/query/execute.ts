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
import { compileExpression, compileFilter, parseExpression, type CompiledExpression, type CompiledFilter } from "../filter/index.js";
import { indexMask, type IndexResolver } from "../scalar/mask.js";
import { filterMask, hitSource, type Hit } from "./hits.js";
import { DEFAULT_VECTOR_LIMIT, type QueryPlan } from "./plan.js";
import { resolveVectorField, runVectorSearch, type VectorField, type VectorIndexLookup, type VectorSearchContext } from "./vector-search.js";
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
  /** The table's scalar indexes usable by `where`, and the fragments all of them cover. */
  readonly scalarIndexes?: () => Promise<{ fragments: ReadonlySet<number>; resolve: IndexResolver } | undefined>;
  /** Splits large exact scans across worker threads. */
  readonly scanPool?: () => Promise<ScanPool>;
  /** See VectorSearchContext.readRows. */
  readonly readRows?: VectorSearchContext["readRows"];
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

/** Rows of one column of one fragment, read for the hits alone: the column and each row's place in it. */
interface PickedRows {
  readonly col: Column;
  readonly at: ReadonlyMap<number, number>;
}

/**
 * Loads what the hits' output needs. Vector columns are range-read for the hit rows only (ten
 * results read ten vectors, not their fragments' whole columns, and no JS copy stays); so are
 * numbers, bools and timestamps when the hits touch few of a column's chunks and the context
 * prefers it (a remote store, a column large against the cache). Other columns are loaded, and
 * cached by the session, for the fragments with hits.
 */
export async function loadOutput(ctx: ExecutionContext, output: Output, hits: readonly Hit[]): Promise<Map<Fragment, Map<string, PickedRows>>> {
  const rowsOf = new Map<Fragment, number[]>();
  for (const h of hits) {
    let rows = rowsOf.get(h.frag);
    if (rows === undefined) rowsOf.set(h.frag, (rows = []));
    rows.push(h.row);
  }
  const inExpressions = new Set(output.computed.flatMap(([, expr]) => expr.columns));
  const plain = [...new Set(output.plain.map(([, src]) => src))].filter((src) => !inExpressions.has(src));
  const picked = new Map<Fragment, Map<string, PickedRows>>();
  await Promise.all([...rowsOf].map(async ([frag, hitRows]) => {
    const rows = Int32Array.from(new Set(hitRows));
    const byRow = ctx.readRows === undefined ? [] : plain.filter((src) => {
      if (frag.columns.has(src)) return false;
      const type = findField(ctx.state.schema, src)?.type;
      if (type === undefined || !isFixedWidth(type)) return false;
      if (type.kind === "vector") return true;
      return fewChunks(type, frag.numRows, rows) && (ctx.preferRowReads?.(frag, src, frag.numRows * rowBytes(type)) ?? false);
    });
    await ctx.ensureColumns(output.needed.filter((c) => !byRow.includes(c)), [frag]);
    if (byRow.length === 0) return;
    const at = new Map<number, number>();
    rows.forEach((r, i) => at.set(r, i));
    const cols = new Map<string, PickedRows>();
    for (const c of byRow) cols.set(c, { col: await ctx.readRows!(frag, c, rows), at });
    picked.set(frag, cols);
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
async function runScan(ctx: ExecutionContext, plan: QueryPlan, filter: CompiledFilter | undefined): Promise<Hit[]> {
  const want = plan.limit === undefined ? Infinity : plan.offset + plan.limit;
  const hits: Hit[] = [];
  for (const frag of ctx.state.fragments) {
    if (hits.length >= want) break;
    if (filter !== undefined) await ctx.ensureColumns(filter.columns, [frag]);
    const rows = selectRows(frag, filterMask(filter, frag));
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
  field: VectorField | undefined, live: Reranker | undefined,
): Promise<Row[]> {
  const ft = plan.fullText!;
  const limit = plan.limit ?? DEFAULT_VECTOR_LIMIT;
  const k = plan.offset + limit;
  const reranker = rerankerOf(plan, live);
  const ftsHits = await runFtsSearch(ctx, ft, filter, k);
  const rows = async (hits: Hit[], withRowId: boolean): Promise<Row[]> => {
    return materialize(hits, output, { ...plan, withRowId }, await loadOutput(ctx, output, hits));
  };
  let ranked: Row[];
  if (field === undefined) {
    if (reranker === undefined) return rows(ftsHits.slice(plan.offset), plan.withRowId);
    if (reranker.rerankFts === undefined) throw createError("INVALID_ARGUMENT", "This reranker has no rerankFts(), so it cannot rerank a full-text query alone.");
    ranked = await reranker.rerankFts(ft.query, await rows(ftsHits, true));
  } else {
    const vecHits = await runVectorSearch(ctx, { ...plan, offset: 0, limit: k }, plan.vector!, field, filter);
    ranked = await (reranker ?? new RRFReranker()).rerankHybrid(ft.query, await rows(vecHits, true), await rows(ftsHits, true));
  }
  const page = ranked.slice(plan.offset, plan.offset + limit);
  if (!plan.withRowId) for (const r of page) delete r._rowid;
  return page;
}

export async function executeQuery(ctx: ExecutionContext, plan: QueryPlan, reranker?: Reranker): Promise<Row[]> {
  const schema = ctx.state.schema;
  const output = resolveOutput(schema, plan.select);
  const filter = plan.filter === undefined ? undefined : compileFilter(plan.filter, schema);
  const field = plan.vector === undefined ? undefined : resolveVectorField(schema, plan.vector);
  if (plan.fullText !== undefined) return runTextQuery(ctx, plan, output, filter, field, reranker);
  // Columns are read only where they are needed: filter columns where rows are tested, the vector
  // column by the search for the fragments it scans exactly, output columns for fragments with hits.
  if (field !== undefined && filter !== undefined) await ctx.ensureColumns(filter.columns);
  const hits = field === undefined ? await runScan(ctx, plan, filter) : await runVectorSearch(ctx, plan, plan.vector!, field, filter);
  const rows = materialize(hits, output, plan, await loadOutput(ctx, output, hits));
  const r = rerankerOf(plan, reranker);
  if (r === undefined || field === undefined) return rows;
  if (r.rerankVector === undefined) throw createError("INVALID_ARGUMENT", "This reranker has no rerankVector(), so it cannot rerank a vector query alone; add fullTextSearch() for a hybrid query.");
  return r.rerankVector(plan.vector!.queryText ?? "", rows);
}

export async function countRows(ctx: Omit<ExecutionContext, "kernels">, filter?: string): Promise<number> {
  const state = ctx.state;
  if (filter === undefined) return state.fragments.reduce((s, f) => s + f.liveRows, 0);
  const compiled = compileFilter(filter, state.schema);
  let n = 0;
  let scan = state.fragments;
  const scalar = await ctx.scalarIndexes?.();
  if (scalar) {
    // Fragments the scalar indexes cover are answered from them; the rest (rows added since) by scan.
    const covered = state.fragments.filter((f) => scalar.fragments.has(f.id));
    const live = Float64Array.from(covered.flatMap((f) => Array.from(selectRows(f), (r) => f.id * ROW_ID_FRAGMENT + r)));
    const mask = await indexMask(parseExpression(filter), live, scalar.resolve);
    if (mask?.exact) {
      n += mask.t.length;
      scan = state.fragments.filter((f) => !scalar.fragments.has(f.id));
    }
  }
  await ctx.ensureColumns(compiled.columns, scan);
  for (const frag of scan) n += selectRows(frag, compiled.evaluate(fragmentSource(frag))).length;
  return n;
}
