/**
 * The index half of a filter selection (see selection.ts), loaded with the scalar indexes: the live
 * rows of the covered fragments as row masks, the filter answered over them, and counts taken from
 * the indexes without listing rows.
 */
import type { Expr } from "../filter/ast.js";
import type { CompiledFilter } from "../filter/index.js";
import { indexCount, indexMask, type LiveRows } from "../scalar/mask.js";
import { RowMask, type FragmentRows } from "../scalar/rowmask.js";
import { fragmentSource, type Fragment } from "../dataset/fragment.js";
import type { ScalarIndexAccess, SelectionContext } from "./selection.js";

/** Live rows of fragments as a bitmap, per deletion map (plain JS memory, gone with the fragment's deletions). */
const liveBitsOf = new WeakMap<Uint8Array, Uint32Array>();

function fragmentBits(frag: Fragment): Uint32Array {
  const del = frag.deletions;
  const known = del === null ? undefined : liveBitsOf.get(del);
  if (known !== undefined) return known;
  const bits = new Uint32Array((frag.numRows + 31) >>> 5);
  for (let r = 0; r < frag.numRows; r++) if (del === null || del[r] === 0) bits[r >>> 5]! |= 1 << (r & 31);
  if (del !== null) liveBitsOf.set(del, bits);
  return bits;
}

/** Live rows of `covered` fragments; a lookup's rows in fragments without deletions pass through untouched. */
export function liveRowsOf(covered: ReadonlyMap<number, Fragment>): LiveRows {
  let all: RowMask | undefined;
  let deleted: RowMask | undefined;
  let totalRows = 0;
  for (const f of covered.values()) totalRows += f.numRows;
  return {
    frame: { numRows: (id) => covered.get(id)?.numRows, totalRows },
    intact: (ids) => ids.every((id) => covered.get(id)?.deletions === null),
    keep(mask) {
      const parts = new Map<number, FragmentRows>();
      let filter = false;
      for (const [id, p] of mask.parts) {
        const frag = covered.get(id);
        if (frag === undefined) continue;
        if (frag.deletions === null) parts.set(id, p);
        else filter = true;
      }
      if (!filter) return parts.size === mask.parts.size ? mask : new RowMask(parts);
      // The fragments with deleted rows: intersected with their live rows.
      deleted ??= new RowMask(new Map([...covered].filter(([, f]) => f.deletions !== null).map(([id, f]) => [id, { bits: fragmentBits(f), count: f.liveRows }] as const)));
      for (const [id, p] of mask.and(deleted).parts) parts.set(id, p);
      return new RowMask(parts);
    },
    all() {
      return (all ??= new RowMask(new Map([...covered].filter(([, f]) => f.liveRows > 0).map(([id, f]) => [id, { bits: fragmentBits(f), count: f.liveRows }] as const))));
    },
  };
}

/** Fragments answered from the indexes: their passing rows and counts. */
export interface IndexAnswer {
  readonly mode: "exact" | "candidates";
  readonly lookups: readonly string[];
  rows(id: number): Int32Array;
  count(id: number): number;
  /** The passing rows as the mask holds them (a bitmap for a large answer, not listed); undefined: none. */
  part(id: number): FragmentRows | undefined;
}

/** The filter answered over the `covered` fragments from their indexes, or undefined when no index helps. */
export async function answerFromIndexes(
  ctx: SelectionContext, filter: CompiledFilter, expr: Expr, covered: ReadonlyMap<number, Fragment>, access: ScalarIndexAccess,
): Promise<IndexAnswer | undefined> {
  const mask = await indexMask(expr, liveRowsOf(covered), access.resolve);
  if (mask === undefined) return undefined;
  if (mask.exact) {
    const listed = new Map<number, Int32Array>();
    return {
      mode: "exact",
      lookups: mask.steps,
      rows: (id) => listed.get(id) ?? listed.set(id, mask.t.rowsOf(id)).get(id)!,
      count: (id) => mask.t.countOf(id),
      part: (id) => mask.t.parts.get(id),
    };
  }
  // Candidates: the filter decides, evaluated on these rows only.
  const passing = new Map<number, Int32Array>();
  for (const [id, frag] of covered) {
    const rows = mask.candidates.rowsOf(id);
    if (rows.length === 0) continue;
    await ctx.ensureColumns(filter.columns, [frag]);
    const pass = filter.evaluate(fragmentSource(frag), rows);
    passing.set(id, rows.filter((_, i) => pass[i] === 1));
  }
  const none = new Int32Array(0);
  return {
    mode: "candidates", lookups: mask.steps, rows: (id) => passing.get(id) ?? none, count: (id) => passing.get(id)?.length ?? 0,
    part: (id) => (passing.get(id)?.length ? { rows: passing.get(id)! } : undefined),
  };
}

/** How many rows of the `covered` fragments pass, counted by an index without listing rows; undefined when that cannot be done. */
export function countFromIndexes(expr: Expr, covered: ReadonlyMap<number, Fragment>, access: ScalarIndexAccess): Promise<number | undefined> {
  return indexCount(expr, liveRowsOf(covered), access.resolve);
}
