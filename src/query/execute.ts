/**
 * Runs a `QueryPlan` against one version of a table: plain scans here, vector search in
 * vector-search.ts; both produce hits (fragment, row, distance) that become rows with the selected
 * and computed columns.
 */
import { createError } from "../errors.js";
import { readValue } from "../data/column.js";
import type { Row } from "../data/rows.js";
import { findField, unknownColumn, type Schema } from "../data/schema.js";
import type { Kernels } from "../kernels/index.js";
import { fragmentSource, selectRows, type Fragment } from "../table/fragment.js";
import type { TableState } from "../table/dataset.js";
import { compileExpression, compileFilter, type CompiledExpression, type CompiledFilter } from "./filter/index.js";
import { filterMask, hitSource, type Hit } from "./hits.js";
import type { QueryPlan } from "./plan.js";
import { resolveVectorField, runVectorSearch, type VectorIndexLookup } from "./vector-search.js";

export interface ExecutionContext {
  readonly state: TableState;
  readonly kernels: () => Promise<Kernels>;
  /** Loads the named columns of `fragments` (default: every fragment of `state`), read from storage on demand. */
  readonly ensureColumns: (names: Iterable<string>, fragments?: readonly Fragment[]) => Promise<void>;
  /** Finds an index for vector search; absent: every search is exact. */
  readonly vectorIndex?: VectorIndexLookup;
}

interface Output {
  /** Output name → source column name. */
  readonly plain: readonly (readonly [string, string])[];
  /** Output name → computed expression. */
  readonly computed: readonly (readonly [string, CompiledExpression])[];
  readonly needed: readonly string[];
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

export async function executeQuery(ctx: ExecutionContext, plan: QueryPlan): Promise<Row[]> {
  const schema = ctx.state.schema;
  const output = resolveOutput(schema, plan.select);
  const filter = plan.filter === undefined ? undefined : compileFilter(plan.filter, schema);
  const field = plan.vector === undefined ? undefined : resolveVectorField(schema, plan.vector);
  // Columns are read only where they are needed: filter columns where rows are tested, the vector
  // column by the search for the fragments it scans exactly, output columns for fragments with hits.
  if (field !== undefined && filter !== undefined) await ctx.ensureColumns(filter.columns);
  const hits = field === undefined ? await runScan(ctx, plan, filter) : await runVectorSearch(ctx, plan, plan.vector!, field, filter);
  await ctx.ensureColumns(output.needed, [...new Set(hits.map((h) => h.frag))]);
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
