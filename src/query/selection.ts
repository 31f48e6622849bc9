/**
 * Which live rows of a table version pass a `where` filter, found as cheaply as the filter allows.
 * Fragments covered by scalar indexes on the filter's columns are answered from the indexes: exactly
 * (the filter's TRUE rows, no column read), or as candidates the filter is then evaluated on (an AND
 * with an unindexed part). Other fragments — rows added since the indexes were built, or every
 * fragment when no index helps — are answered by evaluating the filter over the fragment.
 *
 * Plain queries, counts, deletes, updates and every kind of search take their rows from here, so an
 * indexed point lookup reads an index page or two instead of the column.
 */
import { compileFilter, parseExpression, type CompiledFilter } from "../filter/index.js";
import type { IndexResolver } from "../scalar/mask.js";
import type { FragmentRows } from "../scalar/rowmask.js";
import type { IndexAnswer } from "./index-selection.js";
import { lazyImport } from "../util/lazy.js";
import type { TableState } from "../dataset/dataset.js";
import { fragmentSource, selectRows, type Fragment } from "../dataset/fragment.js";

const indexSelection = lazyImport((): Promise<typeof import("./index-selection.js")> => import("./index-selection.js"));

/** The scalar indexes a filter can use. */
export interface ScalarIndexAccess {
  /** Fragments every index in `resolve` covers. */
  readonly fragments: ReadonlySet<number>;
  readonly resolve: IndexResolver;
  /** "name (KIND on column)" of each index opened, for plans. */
  readonly used: readonly string[];
}

/** Opens the scalar indexes on `columns` (only those), or undefined when none of them has one. */
export type ScalarIndexLookup = (columns: readonly string[]) => Promise<ScalarIndexAccess | undefined>;

export interface SelectionContext {
  readonly state: TableState;
  readonly ensureColumns: (names: Iterable<string>, fragments?: readonly Fragment[]) => Promise<void>;
  readonly scalarIndexes?: ScalarIndexLookup;
}

/** How a filter was answered, for explainPlan() / analyzePlan(). */
export interface SelectionSummary {
  readonly filter: string;
  /** Indexes used, and the lookups made ("btree(id) = 5 → 1 rows"). */
  readonly indexes: readonly string[];
  readonly lookups: readonly string[];
  /** "exact": the index answer is the result; "candidates": the filter is evaluated on the rows the indexes allow; "scan": no index helps. */
  readonly mode: "exact" | "candidates" | "scan";
  /** Fragments (and their rows) answered from indexes, and those left to scan. */
  readonly indexedFragments: number;
  readonly indexedRows: number;
  readonly scannedFragments: number;
  readonly scannedRows: number;
}

export interface FilterSelection {
  readonly filter: CompiledFilter;
  readonly summary: SelectionSummary;
  /** Live rows of `frag` that pass, ascending; scans the fragment (reading the filter's columns) unless the indexes answered it. */
  rows(frag: Fragment): Promise<Int32Array>;
  /** How many live rows of `frag` pass; where the indexes answered, without listing them. */
  count(frag: Fragment): Promise<number>;
  /** The live rows of `frag` that pass, as listed rows or (a large index answer) a bitmap; undefined: none. */
  part(frag: Fragment): Promise<FragmentRows | undefined>;
}

/** Evaluates `filter` over the live rows of `frag` (after reading its columns). */
async function scanFragment(ctx: SelectionContext, filter: CompiledFilter, frag: Fragment): Promise<Int32Array> {
  await ctx.ensureColumns(filter.columns, [frag]);
  return selectRows(frag, filter.evaluate(fragmentSource(frag)));
}

/** The scalar indexes the filter can use and the fragments they all cover (none: undefined). */
async function openIndexes(ctx: SelectionContext, filter: CompiledFilter): Promise<{ access: ScalarIndexAccess; covered: Map<number, Fragment> } | undefined> {
  const access = filter.columns.length === 0 ? undefined : await ctx.scalarIndexes?.(filter.columns);
  if (access === undefined) return undefined;
  const covered = new Map(ctx.state.fragments.filter((f) => access.fragments.has(f.id)).map((f) => [f.id, f] as const));
  return { access, covered };
}

export async function selectFilter(ctx: SelectionContext, filterSql: string, compiled?: CompiledFilter): Promise<FilterSelection> {
  const filter = compiled ?? compileFilter(filterSql, ctx.state.schema);
  const fragments = ctx.state.fragments;
  const scan = (answer: IndexAnswer | undefined, covered: ReadonlyMap<number, Fragment>, summary: Omit<SelectionSummary, "scannedFragments" | "scannedRows" | "filter">): FilterSelection => {
    const scanned = answer === undefined ? fragments : fragments.filter((f) => !covered.has(f.id));
    const by = answer !== undefined && ((frag: Fragment) => covered.has(frag.id));
    return {
      filter,
      summary: { filter: filterSql, ...summary, scannedFragments: scanned.length, scannedRows: scanned.reduce((s, f) => s + f.liveRows, 0) },
      rows: async (frag) => (by && by(frag) ? answer!.rows(frag.id) : scanFragment(ctx, filter, frag)),
      count: async (frag) => (by && by(frag) ? answer!.count(frag.id) : (await scanFragment(ctx, filter, frag)).length),
      part: async (frag) => {
        if (by && by(frag)) return answer!.part(frag.id);
        const rows = await scanFragment(ctx, filter, frag);
        return rows.length === 0 ? undefined : { rows };
      },
    };
  };
  const noIndex = { indexes: [], lookups: [], mode: "scan", indexedFragments: 0, indexedRows: 0 } as const;
  const opened = await openIndexes(ctx, filter);
  if (opened === undefined || opened.covered.size === 0) return scan(undefined, new Map(), noIndex);
  const { access, covered } = opened;
  const { answerFromIndexes } = await indexSelection();
  const answer = await answerFromIndexes(ctx, filter, parseExpression(filterSql), covered, access);
  if (answer === undefined) return scan(undefined, covered, { ...noIndex, indexes: access.used });
  return scan(answer, covered, {
    indexes: access.used,
    lookups: answer.lookups,
    mode: answer.mode,
    indexedFragments: covered.size,
    indexedRows: [...covered.values()].reduce((s, f) => s + f.liveRows, 0),
  });
}

/**
 * How many live rows pass `filterSql`. A range on one indexed column over fragments without deleted
 * rows is counted from the index alone (no row listed); otherwise per fragment, as selectFilter answers it.
 */
export async function countFilter(ctx: SelectionContext, filterSql: string): Promise<number> {
  const filter = compileFilter(filterSql, ctx.state.schema);
  const opened = await openIndexes(ctx, filter);
  let fromIndex: number | undefined;
  if (opened !== undefined && opened.covered.size > 0) {
    const { countFromIndexes } = await indexSelection();
    fromIndex = await countFromIndexes(parseExpression(filterSql), opened.covered, opened.access);
  }
  const selection = fromIndex === undefined ? await selectFilter(ctx, filterSql, filter) : undefined;
  let n = fromIndex ?? 0;
  for (const frag of ctx.state.fragments) {
    if (selection !== undefined) n += await selection.count(frag);
    else if (!opened!.covered.has(frag.id)) n += (await scanFragment(ctx, filter, frag)).length;
  }
  return n;
}

/** Every fragment's passing rows (fragments with none left out), and how many in all. */
export async function selectAll(selection: FilterSelection, fragments: readonly Fragment[]): Promise<{ rows: Map<Fragment, Int32Array>; count: number }> {
  const rows = new Map<Fragment, Int32Array>();
  let count = 0;
  for (const frag of fragments) {
    const r = await selection.rows(frag);
    if (r.length === 0) continue;
    rows.set(frag, r);
    count += r.length;
  }
  return { rows, count };
}

/** Every fragment's passing rows as `part` gives them (fragments with none left out). */
export async function selectParts(selection: FilterSelection, fragments: readonly Fragment[]): Promise<Map<Fragment, FragmentRows>> {
  const parts = new Map<Fragment, FragmentRows>();
  for (const frag of fragments) {
    const p = await selection.part(frag);
    if (p !== undefined) parts.set(frag, p);
  }
  return parts;
}
