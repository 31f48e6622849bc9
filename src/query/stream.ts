/**
 * Query results as a stream of pages (toBatches / `for await` / the worker's cursors), loaded on
 * first use.
 */
import type { Row } from "../data/rows.js";
import { selectRows, type Fragment } from "../dataset/fragment.js";
import { compileFilter } from "../filter/index.js";
import { loadOutput, materialize, resolveOutput, type ExecutionContext } from "./execute.js";
import type { Hit } from "./hits.js";
import type { QueryPlan } from "./plan.js";
import { selectFilter } from "./selection.js";

/**
 * A plain scan (no search, no ordering) as pages of at most `batch` rows, fragment by fragment.
 * Each fragment's columns are read into a private copy of it, so the table's fragments keep
 * nothing: a stream holds one fragment's columns at a time (and what the session's budget keeps
 * cached), not the table's.
 */
export async function* streamScan(ctx: ExecutionContext, plan: QueryPlan, batch: number): AsyncGenerator<Row[], void, undefined> {
  const output = resolveOutput(ctx.state.schema, plan.select);
  const filter = plan.filter === undefined ? undefined : compileFilter(plan.filter, ctx.state.schema);
  const selection = filter === undefined ? undefined : await selectFilter(ctx, plan.filter!, filter);
  let skip = plan.offset;
  let left = plan.limit ?? Infinity;
  for (const shared of ctx.state.fragments) {
    if (left <= 0) return;
    const frag: Fragment = { ...shared, columns: new Map(shared.columns) };
    const all = selection === undefined ? selectRows(frag) : await selection.rows(frag);
    if (skip >= all.length) {
      skip -= all.length;
      continue;
    }
    const rows = all.subarray(skip, skip + Math.min(left, all.length - skip));
    skip = 0;
    left -= rows.length;
    for (let at = 0; at < rows.length; at += batch) {
      const hits: Hit[] = Array.from(rows.subarray(at, at + batch), (row) => ({ frag, row }));
      yield materialize(hits, output, plan, await loadOutput(ctx, output, hits));
    }
  }
}

/** Whether `plan` is a plain scan that streamScan can run page by page. */
export function streamable(plan: QueryPlan): boolean {
  return plan.vector === undefined && plan.fullText === undefined && plan.orderBy === undefined && plan.take === undefined;
}
