/**
 * Queries that are not searches: rows fetched by position (`takeOffsets`, `takeRowIds`) and
 * results sorted by columns (`orderBy`). Both reuse execute.ts's output stage, so a page of ten
 * rows reads ten rows' worth of output columns.
 */
import { createError } from "../errors.js";
import type { Row } from "../data/rows.js";
import type { TableState } from "../dataset/dataset.js";
import type { Reranker } from "../rerank/types.js";
import type { ExecutionContext } from "./execute.js";
import type { Hit } from "./hits.js";
import type { OnDemandKit } from "./on-demand-kit.js";
import type { ColumnOrdering, QueryPlan } from "./plan.js";

/** Hits for live-row positions in table order (sorted, duplicates once); past the end is an error. */
function hitsAtOffsets(k: OnDemandKit, state: TableState, offsets: readonly number[]): Hit[] {
  const { selectRows } = k;
  const wanted = [...new Set(offsets)].sort((a, b) => a - b);
  const total = state.fragments.reduce((s, f) => s + f.liveRows, 0);
  const past = wanted.find((o) => o >= total);
  if (past !== undefined) {
    throw createError("INVALID_ARGUMENT", `takeOffsets(): offset ${past} is past the end of the table (${total} rows).`, { offset: past });
  }
  const hits: Hit[] = [];
  let base = 0;
  let i = 0;
  for (const frag of state.fragments) {
    if (i >= wanted.length) break;
    const end = base + frag.liveRows;
    if (wanted[i]! < end) {
      // Positions count live rows only, so a fragment with deletions maps them through its live list.
      const live = frag.deletions === null ? undefined : selectRows(frag);
      for (; i < wanted.length && wanted[i]! < end; i++) {
        const at = wanted[i]! - base;
        hits.push({ frag, row: live === undefined ? at : live[at]! });
      }
    }
    base = end;
  }
  return hits;
}

/** Hits for `_rowid`s that name a live row of this version, in table order; others are skipped. */
function hitsOfRowIds(k: OnDemandKit, state: TableState, rowIds: readonly number[]): Hit[] {
  const { ROW_ID_FRAGMENT } = k;
  const order = new Map(state.fragments.map((f, i) => [f.id, i] as const));
  const byId = new Map(state.fragments.map((f) => [f.id, f] as const));
  const hits: Hit[] = [];
  for (const id of new Set(rowIds)) {
    const frag = byId.get(Math.floor(id / ROW_ID_FRAGMENT));
    const row = id % ROW_ID_FRAGMENT;
    if (frag === undefined || row >= frag.numRows || (frag.deletions !== null && frag.deletions[row] === 1)) continue;
    hits.push({ frag, row });
  }
  return hits.sort((a, b) => order.get(a.frag.id)! - order.get(b.frag.id)! || a.row - b.row);
}

/** `table.takeOffsets(…)` / `takeRowIds(…)`: the rows asked for, with the selected columns. */
export async function executeTake(k: OnDemandKit, ctx: ExecutionContext, plan: QueryPlan): Promise<Row[]> {
  const { resolveOutput, materialize, loadOutput } = k;
  const take = plan.take!;
  if (!take.ids.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw createError("INVALID_ARGUMENT", `take${take.kind === "offsets" ? "Offsets" : "RowIds"}() takes an array of integers >= 0.`);
  }
  if (plan.filter !== undefined || plan.limit !== undefined || plan.offset !== 0 || plan.vector !== undefined || plan.fullText !== undefined || plan.orderBy !== undefined) {
    throw createError("INVALID_ARGUMENT", "takeOffsets() / takeRowIds() fetch the rows named; where, limit, offset, orderBy and searches do not apply to them (select and withRowId do).");
  }
  const hits = take.kind === "offsets" ? hitsAtOffsets(k, ctx.state, take.ids) : hitsOfRowIds(k, ctx.state, take.ids);
  const output = resolveOutput(ctx.state.schema, plan.select);
  return materialize(hits, output, plan, await loadOutput(ctx, output, hits));
}

type Compare = (a: unknown, b: unknown) => number;

export function compareValues(o: ColumnOrdering): Compare {
  const dir = o.ascending === false ? -1 : 1;
  const nulls = o.nullsFirst === true ? -1 : 1;
  return (a, b) => {
    const an = a === null || a === undefined;
    const bn = b === null || b === undefined;
    if (an || bn) return an && bn ? 0 : an ? nulls : -nulls;
    const x = a instanceof Date ? a.getTime() : a;
    const y = b instanceof Date ? b.getTime() : b;
    return ((x as number) < (y as number) ? -1 : (x as number) > (y as number) ? 1 : 0) * dir;
  };
}

function checkOrdering(k: OnDemandKit, state: TableState, plan: QueryPlan): void {
  const { findField, unknownColumn } = k;
  for (const o of plan.orderBy!) {
    const f = findField(state.schema, o.columnName);
    if (f === undefined) {
      // A search may sort by what it computes; a plain scan only by table columns.
      const computed = plan.vector !== undefined || plan.fullText !== undefined ? ["_distance", "_score", "_relevance_score"] : [];
      if (!computed.includes(o.columnName)) unknownColumn(state.schema, o.columnName, "orderBy()");
    } else if (f.type.kind === "vector" || f.type.kind === "list") {
      throw createError("INVALID_ARGUMENT", `orderBy(): column "${o.columnName}" holds ${f.type.kind}s, which have no order.`, { column: o.columnName });
    }
  }
}

/**
 * A query with `orderBy`. A plain scan sorts every matching row by the keys (reading only the key
 * and filter columns), then pages and reads the output of the page alone. A search (vector, full
 * text, hybrid) finds its `limit` rows as usual, and they are returned in the keys' order.
 */
export async function executeOrdered(k: OnDemandKit, ctx: ExecutionContext, plan: QueryPlan, reranker?: Reranker): Promise<Row[]> {
  const { compileFilter, executeQuery, filterMask, findField, loadOutput, materialize, readValue, resolveOutput, selectRows } = k;
  const { state } = ctx;
  checkOrdering(k, state, plan);
  const keys = plan.orderBy!.map((o) => [o.columnName, compareValues(o)] as const);
  const compare = (get: (name: string, i: number) => unknown) => (i: number, j: number): number => {
    for (const [name, cmp] of keys) {
      const c = cmp(get(name, i), get(name, j));
      if (c !== 0) return c;
    }
    return 0;
  };
  const unordered: QueryPlan = { ...plan, orderBy: undefined };
  if (plan.vector !== undefined || plan.fullText !== undefined) {
    // The keys travel with the rows (and leave them afterwards if the caller did not select them).
    const sel = plan.select;
    const present = (name: string): boolean => sel === undefined || (Array.isArray(sel) ? (sel as readonly string[]).includes(name) : Object.hasOwn(sel, name));
    const extra = keys.map(([name]) => name).filter((name) => !present(name) && findField(state.schema, name) !== undefined);
    const select = extra.length === 0 ? sel : Array.isArray(sel) ? [...sel as readonly string[], ...extra] : { ...sel, ...Object.fromEntries(extra.map((n) => [n, n])) };
    const rows = await executeQuery(ctx, { ...unordered, select }, reranker);
    const order = rows.map((_, i) => i).sort(compare((name, i) => rows[i]![name]));
    const sorted = order.map((i) => rows[i]!);
    for (const r of sorted) for (const name of extra) delete r[name];
    return sorted;
  }
  const filter = plan.filter === undefined ? undefined : compileFilter(plan.filter, state.schema);
  const hits: Hit[] = [];
  for (const frag of state.fragments) {
    await ctx.ensureColumns([...(filter?.columns ?? []), ...keys.map(([name]) => name)], [frag]);
    for (const row of selectRows(frag, filterMask(filter, frag))) hits.push({ frag, row });
  }
  const value = (name: string, i: number): unknown => {
    const h = hits[i]!;
    return readValue(h.frag.columns.get(name)!, h.row);
  };
  const order = hits.map((_, i) => i).sort(compare(value));
  const end = plan.limit === undefined ? undefined : plan.offset + plan.limit;
  const page = order.slice(plan.offset, end).map((i) => hits[i]!);
  const output = resolveOutput(state.schema, plan.select);
  return materialize(page, output, unordered, await loadOutput(ctx, output, page));
}
