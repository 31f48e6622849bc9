/**
 * Full-text search over one table version: BM25 through the table's FTS indexes (one per column),
 * the `where` filter and deleted rows applied before the top-k cut, so k rows come back whenever k
 * rows match.
 */
import { createError } from "../errors.js";
import type { FtsIndex } from "../fts/index.js";
import type { IndexEntry } from "../storage/manifest.js";
import type { TableState } from "../dataset/dataset.js";
import type { Fragment } from "../dataset/fragment.js";
import { ROW_ID_FRAGMENT } from "../dataset/fragment.js";
import type { Hit } from "./hits.js";
import type { FilterSelection } from "./selection.js";
import type { FullTextPlan } from "./plan.js";

/**
 * The FTS indexes of the named columns (default: all), covering every fragment of the state: each
 * as shards (its file's index, and one over rows added since the build) searched as one.
 */
export type FtsIndexLookup = (columns?: readonly string[]) => Promise<{ entry: IndexEntry; shards: readonly FtsIndex[] }[]>;

export interface FtsSearchContext {
  readonly state: TableState;
  readonly ensureColumns: (names: Iterable<string>, fragments?: readonly Fragment[]) => Promise<void>;
  readonly ftsIndexes?: FtsIndexLookup;
}

export async function runFtsSearch(ctx: FtsSearchContext, ft: FullTextPlan, selection: FilterSelection | undefined, k: number): Promise<Hit[]> {
  const found = (await ctx.ftsIndexes?.(ft.columns)) ?? [];
  if (found.length === 0) {
    throw createError(
      "INVALID_ARGUMENT",
      ft.columns
        ? `No full-text index on ${ft.columns.map((c) => `"${c}"`).join(", ")}; create one with createIndex(column, { config: Index.fts() }).`
        : "The table has no full-text index; create one with createIndex(column, { config: Index.fts() }).",
    );
  }
  const byId = new Map(ctx.state.fragments.map((f) => [f.id, f] as const));
  // The prefilter's rows (from scalar indexes where they answer, else a scan), as a mask per fragment.
  const masks = new Map<number, Uint8Array | undefined>();
  for (const frag of ctx.state.fragments) {
    if (selection === undefined) continue;
    const m = new Uint8Array(frag.numRows);
    for (const r of await selection.rows(frag)) m[r] = 1;
    masks.set(frag.id, m);
  }
  const allowed = (rowId: number): boolean => {
    const frag = byId.get(Math.floor(rowId / ROW_ID_FRAGMENT));
    if (frag === undefined) return false;
    const r = rowId % ROW_ID_FRAGMENT;
    const m = masks.get(frag.id);
    return (frag.deletions === null || frag.deletions[r] === 0) && (m === undefined || m[r] === 1);
  };
  const { searchIndexes } = await import("../fts/index.js");
  const res = searchIndexes(found.map((f) => f.shards), ft.query, { k, operator: ft.operator, phrase: ft.phrase, allowed, statistics: ft.statistics });
  const hits: Hit[] = [];
  for (let i = 0; i < res.rows.length; i++) {
    const id = res.rows[i]!;
    hits.push({ frag: byId.get(Math.floor(id / ROW_ID_FRAGMENT))!, row: id % ROW_ID_FRAGMENT, score: res.scores[i]! });
  }
  return hits;
}
