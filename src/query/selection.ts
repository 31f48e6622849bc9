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
import type { Expr } from "../filter/ast.js";
import { compileFilter, parseExpression, type CompiledFilter } from "../filter/index.js";
import type { IndexResolver, LiveRows } from "../scalar/mask.js";
import type { RowSet } from "../scalar/rowset.js";
import type { TableState } from "../dataset/dataset.js";
import { fragmentSource, ROW_ID_FRAGMENT, selectRows, type Fragment } from "../dataset/fragment.js";

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
  /**
   * Rows passing in fragments the indexes answered, known without scanning anything; a fragment
   * absent here is scanned by `rows`.
   */
  readonly answered: ReadonlyMap<number, Int32Array>;
}

const EMPTY = new Int32Array(0);

/** Splits ascending row addresses into ascending rows per fragment id. */
function byFragment(set: RowSet): Map<number, Int32Array> {
  const out = new Map<number, Int32Array>();
  let i = 0;
  while (i < set.length) {
    const id = Math.floor(set[i]! / ROW_ID_FRAGMENT);
    let j = i;
    while (j < set.length && Math.floor(set[j]! / ROW_ID_FRAGMENT) === id) j++;
    out.set(id, Int32Array.from(set.subarray(i, j), (a) => a - id * ROW_ID_FRAGMENT));
    i = j;
  }
  return out;
}

/** Live rows of `covered` fragments, without listing them unless asked to. */
function liveRowsOf(covered: ReadonlyMap<number, Fragment>): LiveRows {
  let all: RowSet | undefined;
  return {
    keep(set) {
      const out = new Float64Array(set.length);
      let n = 0;
      for (let i = 0; i < set.length; i++) {
        const a = set[i]!;
        const frag = covered.get(Math.floor(a / ROW_ID_FRAGMENT));
        if (frag === undefined || (frag.deletions !== null && frag.deletions[a % ROW_ID_FRAGMENT] === 1)) continue;
        out[n++] = a;
      }
      return n === set.length ? set : out.slice(0, n);
    },
    all() {
      if (all !== undefined) return all;
      const ids = [...covered.keys()].sort((a, b) => a - b);
      all = new Float64Array(ids.reduce((s, id) => s + covered.get(id)!.liveRows, 0));
      let n = 0;
      for (const id of ids) {
        const frag = covered.get(id)!;
        const base = id * ROW_ID_FRAGMENT;
        for (let r = 0; r < frag.numRows; r++) if (frag.deletions === null || frag.deletions[r] === 0) all[n++] = base + r;
      }
      return all;
    },
  };
}

/** Evaluates `filter` over the live rows of `frag` (after reading its columns). */
async function scanFragment(ctx: SelectionContext, filter: CompiledFilter, frag: Fragment): Promise<Int32Array> {
  await ctx.ensureColumns(filter.columns, [frag]);
  return selectRows(frag, filter.evaluate(fragmentSource(frag)));
}

export async function selectFilter(ctx: SelectionContext, filterSql: string, compiled?: CompiledFilter): Promise<FilterSelection> {
  const filter = compiled ?? compileFilter(filterSql, ctx.state.schema);
  const fragments = ctx.state.fragments;
  const scan = (answered: ReadonlyMap<number, Int32Array>, summary: Omit<SelectionSummary, "scannedFragments" | "scannedRows" | "filter">): FilterSelection => {
    const scanned = fragments.filter((f) => !answered.has(f.id));
    return {
      filter,
      answered,
      summary: { filter: filterSql, ...summary, scannedFragments: scanned.length, scannedRows: scanned.reduce((s, f) => s + f.liveRows, 0) },
      rows: async (frag) => answered.get(frag.id) ?? scanFragment(ctx, filter, frag),
    };
  };
  const noIndex = { indexes: [], lookups: [], mode: "scan", indexedFragments: 0, indexedRows: 0 } as const;
  const access = filter.columns.length === 0 ? undefined : await ctx.scalarIndexes?.(filter.columns);
  if (access === undefined) return scan(new Map(), noIndex);
  const covered = new Map(fragments.filter((f) => access.fragments.has(f.id)).map((f) => [f.id, f] as const));
  if (covered.size === 0) return scan(new Map(), noIndex);
  const expr: Expr = parseExpression(filterSql);
  const { indexMask } = await import("../scalar/mask.js");
  const mask = await indexMask(expr, liveRowsOf(covered), access.resolve);
  if (mask === undefined) return scan(new Map(), { ...noIndex, indexes: access.used });
  const found = byFragment(mask.exact ? mask.t : mask.candidates);
  const answered = new Map<number, Int32Array>();
  for (const [id, frag] of covered) {
    const rows = found.get(id) ?? EMPTY;
    if (mask.exact || rows.length === 0) {
      answered.set(id, rows);
      continue;
    }
    // Candidates: the filter decides, evaluated on these rows only.
    await ctx.ensureColumns(filter.columns, [frag]);
    const pass = filter.evaluate(fragmentSource(frag), rows);
    answered.set(id, rows.filter((_, i) => pass[i] === 1));
  }
  return scan(answered, {
    indexes: access.used,
    lookups: mask.steps,
    mode: mask.exact ? "exact" : "candidates",
    indexedFragments: covered.size,
    indexedRows: [...covered.values()].reduce((s, f) => s + f.liveRows, 0),
  });
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
