/**
 * Turns the parts of a filter that touch indexed columns into row sets. SQL's three-valued logic is
 * kept exactly by tracking, for each node, the rows where it is TRUE and the rows where it is FALSE;
 * the rest are NULL (Kleene logic):
 *   AND: T = ∩ T,  F = ∪ F        OR: T = ∪ T,  F = ∩ F        NOT: swap T and F
 * A comparison `col op literal` is TRUE on the index's matches, NULL on the column's NULL rows, and
 * FALSE on the other live rows. All sets are within `live` (indexed rows not deleted).
 *
 * A node that cannot be answered from indexes makes its parent inexact; an AND with at least one exact
 * operand still yields candidates (its T is a superset of the filter's TRUE rows), on which the caller
 * evaluates the whole filter. Anything else falls back to a scan.
 */
import type { CompareOp, Expr, Literal } from "../filter/ast.js";
import { compareKeys, type KeyRange, type ScalarKey } from "./keys.js";
import type { SubstringQuery } from "./fm.js";
import { RowMask, type MaskFrame } from "./rowmask.js";
import type { RowSet } from "./rowset.js";

/** What the mask step needs from an index (btree or bitmap). */
export interface ScalarLookup {
  range(range: KeyRange): RowSet | Promise<RowSet>;
  equals(key: ScalarKey): RowSet | Promise<RowSet>;
  isNull(): RowSet;
  /** The rows of `range` as a mask over `frame`, built without a sorted row list (BTREE, BITMAP, LABEL_LIST). */
  rangeMask?(range: KeyRange, frame: MaskFrame): Promise<RowMask>;
  /** How many rows (live or not) the index holds in `range`, from page statistics where it can (a BTREE). */
  countRange?(range: KeyRange): Promise<number>;
}

export interface IndexedColumn {
  readonly kind: string;
  readonly lookup: ScalarLookup;
  /**
   * The index key a literal compares as, `null` for SQL NULL, or undefined when the literal's type
   * would need a cast the index cannot reproduce exactly (the node then falls back to a scan).
   */
  keyOf(literal: Literal): ScalarKey | null | undefined;
  /** A LABEL_LIST index (of a list column): it answers the array functions, not comparisons. */
  readonly labels?: boolean;
  /**
   * An FM index (of a text column): the rows matching a substring, prefix, suffix or whole-value
   * query, or undefined when locating them would cost more than scanning. It answers LIKE and
   * contains(), not comparisons.
   */
  readonly text?: (q: SubstringQuery) => RowSet | undefined;
  /** Fragments the index was built over (every row it holds belongs to one of them). */
  readonly fragments?: readonly number[];
}

export type IndexResolver = (column: string) => IndexedColumn | undefined;

/**
 * The rows a mask is computed within (indexed, not deleted). `keep` filters a lookup's result, so
 * an equality costs what it matches; `all` is every live row and is asked for only where the
 * answer is about that large anyway (NOT, !=, the FALSE side of an OR under NOT). `frame` sizes the
 * bitmaps of large lookups; `intact(ids)`: the fragments are all covered and none has a deleted row.
 */
export interface LiveRows {
  keep(rows: RowMask): RowMask;
  all(): RowMask;
  readonly frame: MaskFrame;
  intact(ids: readonly number[]): boolean;
}

/** LiveRows over an explicit set of row addresses (ascending). */
export function liveRowSet(rows: RowSet): LiveRows {
  const all = RowMask.fromAddresses(rows);
  const numRows = new Map([...all.parts.keys()].map((id) => [id, all.rowsOf(id).at(-1)! + 1] as const));
  return {
    keep: (set) => set.and(all),
    all: () => all,
    frame: { numRows: (id) => numRows.get(id), totalRows: [...numRows.values()].reduce((a, b) => a + b, 0) },
    intact: () => false,
  };
}

/** Exact answer (the TRUE rows) or candidates (a superset of the TRUE rows). */
export type MaskResult = { exact: true; t: RowMask; steps: string[] } | { exact: false; candidates: RowMask; steps: string[] };

/** A node's TRUE rows, and its FALSE rows computed only when asked for. */
interface Tf {
  t: RowMask;
  f: () => RowMask;
}

function lazy(compute: () => RowMask): () => RowMask {
  let v: RowMask | undefined;
  return () => (v ??= compute());
}

/** The rows of `range` in `col`'s index, as a mask (BTREE from its pages, BITMAP from its value groups). */
async function lookupRange(col: IndexedColumn, range: KeyRange, live: LiveRows): Promise<RowMask> {
  return col.lookup.rangeMask ? col.lookup.rangeMask(range, live.frame) : RowMask.fromAddresses(await col.lookup.range(range));
}

const nullsOf = (col: IndexedColumn): RowMask => RowMask.fromAddresses(col.lookup.isNull());

const FLIP: Record<CompareOp, CompareOp> = { "=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<=" };

/** The index-backed mask of `expr` within `live`, or undefined when no index helps. */
export async function indexMask(expr: Expr, live: LiveRows | RowSet, resolveAny: IndexResolver): Promise<MaskResult | undefined> {
  const rows = live instanceof Float64Array ? liveRowSet(live) : live;
  // Comparisons, IN and ranges read value indexes; a LABEL_LIST index answers the array functions
  // (and IS NULL, which means the same for both: the list or value itself is NULL).
  const resolve: IndexResolver = (column) => {
    const col = resolveAny(column);
    return col?.labels || col?.text ? undefined : col;
  };
  const labelsOf: IndexResolver = (column) => {
    const col = resolveAny(column);
    return col?.labels || col?.text ? col : undefined;
  };
  const steps: string[] = [];
  const ix: Resolvers = { values: resolve, labels: labelsOf };
  const exact = await tf(expr, rows, ix, steps);
  if (exact) return { exact: true, t: exact.t, steps };
  if (expr.kind === "logical" && expr.op === "AND") {
    steps.length = 0; // the lookups of the failed exact pass are made again below
    let candidates: RowMask | undefined;
    const { ranges, rest } = mergeRanges(expr.operands, resolve);
    for (const { column, col, range } of ranges) {
      const hits = rows.keep(await lookupRange(col, range, rows));
      steps.push(`${col.kind}(${column}) in ${describeRange(range)} → ${hits.size.toLocaleString("en-US")} rows`);
      candidates = candidates ? candidates.and(hits) : hits;
    }
    for (const operand of rest) {
      const sub = await tf(operand, rows, ix, steps);
      if (sub) candidates = candidates ? candidates.and(sub.t) : sub.t;
    }
    if (candidates) return { exact: false, candidates, steps };
  }
  return undefined;
}

/**
 * How many live rows pass `expr` when that is one range on one indexed column (`x < 5`, `x = 7`,
 * `x BETWEEN a AND b`, `x >= a AND x < b`) and every row the index holds is live: counted by the
 * index alone (a BTREE from its page statistics, reading at most the pages at the range's ends),
 * never listing a row. Undefined when it cannot be counted that way.
 */
export async function indexCount(expr: Expr, live: LiveRows, resolve: IndexResolver): Promise<number | undefined> {
  let found: ColumnRange | undefined;
  if (expr.kind === "logical" && expr.op === "AND") {
    const { ranges, rest } = mergeRanges(expr.operands, resolve);
    if (ranges.length === 1 && rest.length === 0) found = ranges[0];
  } else found = rangeOf(expr, resolve);
  const col = found?.col;
  if (found === undefined || col?.lookup.countRange === undefined || col.labels || col.text || col.fragments === undefined || !live.intact(col.fragments)) return undefined;
  return col.lookup.countRange(found.range);
}

/** TRUE = hits, FALSE = the other non-NULL live rows; `negated` swaps them. */
function split(live: LiveRows, hits: RowMask, nulls: RowMask, negated: boolean): Tf {
  const t = live.keep(hits);
  const rest = lazy(() => live.all().andNot(t).andNot(nulls));
  return negated ? { t: rest(), f: () => t } : { t, f: rest };
}

function counted(steps: string[], step: string, tfr: Tf): Tf {
  steps.push(`${step} → ${tfr.t.size.toLocaleString("en-US")} rows`);
  return tfr;
}

/** The value indexes (comparisons, IN, ranges) and the LABEL_LIST indexes (array functions) of the columns. */
interface Resolvers {
  readonly values: IndexResolver;
  readonly labels: IndexResolver;
}

async function tf(e: Expr, live: LiveRows, ix: Resolvers, steps: string[]): Promise<Tf | undefined> {
  const resolve = ix.values;
  switch (e.kind) {
    case "logical": {
      const parts: Tf[] = [];
      let operands = e.operands;
      if (e.op === "AND") {
        // Comparisons on one column become one range lookup: `x >= a AND x < b` reads the rows
        // between a and b, not everything above a and everything below b.
        const { ranges, rest } = mergeRanges(operands, resolve);
        for (const { column, col, range } of ranges) {
          parts.push(counted(steps, `${col.kind}(${column}) in ${describeRange(range)}`, split(live, await lookupRange(col, range, live), nullsOf(col), false)));
        }
        operands = rest;
      }
      for (const operand of operands) {
        const p = await tf(operand, live, ix, steps);
        if (!p) return undefined;
        parts.push(p);
      }
      const [first, ...rest] = parts;
      return rest.reduce(
        (acc, p) => (e.op === "AND"
          ? { t: acc.t.and(p.t), f: lazy(() => acc.f().or(p.f())) }
          : { t: acc.t.or(p.t), f: lazy(() => acc.f().and(p.f())) }),
        first!,
      );
    }
    case "unary": {
      if (e.op !== "NOT") return undefined;
      const p = await tf(e.operand, live, ix, steps);
      return p && { t: p.f(), f: () => p.t };
    }
    case "call":
      return e.name === "contains" ? textCall(e, live, ix.labels, steps) : arrayCall(e, live, ix.labels, steps);
    case "like":
      return likeText(e, live, ix.labels, steps);
    case "is": {
      if (e.test !== "null" || e.operand.kind !== "column") return undefined;
      const col = resolve(e.operand.name) ?? ix.labels(e.operand.name);
      if (!col) return undefined;
      const nulls = live.keep(nullsOf(col));
      const notNull = lazy(() => live.all().andNot(nulls));
      return counted(steps, `${col.kind}(${e.operand.name}) IS ${e.negated ? "NOT " : ""}NULL`, e.negated ? { t: notNull(), f: () => nulls } : { t: nulls, f: notNull });
    }
    case "binary": {
      let column: string;
      let literal: Expr;
      let op = e.op as CompareOp;
      if (!(op in FLIP)) return undefined;
      if (e.left.kind === "column") [column, literal] = [e.left.name, e.right];
      else if (e.right.kind === "column") [column, literal, op] = [e.right.name, e.left, FLIP[op]];
      else return undefined;
      const col = resolve(column);
      if (!col || literal.kind !== "literal") return undefined;
      const key = col.keyOf(literal);
      if (key === undefined) return undefined;
      if (key === null) return { t: RowMask.empty(), f: () => RowMask.empty() };
      const range: KeyRange =
        op === "<" ? { upper: key, upperInclusive: false } : op === "<=" ? { upper: key, upperInclusive: true }
        : op === ">" ? { lower: key, lowerInclusive: false } : op === ">=" ? { lower: key, lowerInclusive: true }
        : { lower: key, lowerInclusive: true, upper: key, upperInclusive: true };
      // `x != k` is the complement of `x = k` among non-NULL rows (NaN included: NaN != k is TRUE).
      return counted(steps, `${col.kind}(${column}) ${op} ${JSON.stringify(key)}`, split(live, await lookupRange(col, range, live), nullsOf(col), op === "!="));
    }
    case "in": {
      if (e.operand.kind !== "column") return undefined;
      const column = e.operand.name;
      const col = resolve(column);
      if (!col) return undefined;
      const keys: ScalarKey[] = [];
      let listHasNull = false;
      for (const item of e.list) {
        if (item.kind !== "literal") return undefined;
        const key = col.keyOf(item);
        if (key === undefined) return undefined;
        if (key === null) listHasNull = true;
        else keys.push(key);
      }
      let hits = RowMask.empty();
      for (const k of keys) {
        hits = hits.or(col.lookup.rangeMask ? await lookupRange(col, { lower: k, lowerInclusive: true, upper: k, upperInclusive: true }, live) : RowMask.fromAddresses(await col.lookup.equals(k)));
      }
      const step = `${col.kind}(${column}) ${e.negated ? "NOT IN" : "IN"} (${keys.length} values)`;
      // A NULL in the list turns every non-match from FALSE into NULL.
      if (listHasNull) {
        const t = live.keep(hits);
        return counted(steps, step, e.negated ? { t: RowMask.empty(), f: () => t } : { t, f: () => RowMask.empty() });
      }
      return counted(steps, step, split(live, hits, nullsOf(col), e.negated));
    }
    case "between": {
      if (e.operand.kind !== "column" || e.low.kind !== "literal" || e.high.kind !== "literal") return undefined;
      const column = e.operand.name;
      const col = resolve(column);
      if (!col) return undefined;
      const low = col.keyOf(e.low);
      const high = col.keyOf(e.high);
      if (low === undefined || high === undefined || low === null || high === null) return undefined;
      const hits = await lookupRange(col, { lower: low, lowerInclusive: true, upper: high, upperInclusive: true }, live);
      return counted(steps, `${col.kind}(${column}) ${e.negated ? "NOT " : ""}BETWEEN ${JSON.stringify(low)} AND ${JSON.stringify(high)}`, split(live, hits, nullsOf(col), e.negated));
    }
    default:
      return undefined;
  }
}

const ARRAY_FUNCTIONS: Readonly<Record<string, "has" | "any" | "all">> = {
  array_has: "has", array_contains: "has", list_has: "has", array_has_any: "any", array_has_all: "all",
};

/**
 * array_has(col, v), array_has_any(col, [..]) and array_has_all(col, [..]) on a LABEL_LIST-indexed
 * column: TRUE on the rows holding the label(s), NULL where the list is NULL, FALSE on the other
 * rows. A NULL label, a literal that does not convert exactly or an empty list: not answered here.
 */
async function arrayCall(e: Extract<Expr, { kind: "call" }>, live: LiveRows, labelsOf: IndexResolver, steps: string[]): Promise<Tf | undefined> {
  const fn = ARRAY_FUNCTIONS[e.name];
  if (fn === undefined || e.args.length !== 2 || e.args[0]!.kind !== "column") return undefined;
  const column = e.args[0].name;
  const col = labelsOf(column);
  if (!col?.labels) return undefined;
  const arg = e.args[1]!;
  const items = arg.kind === "array" ? arg.elements : [arg];
  if (items.length === 0 || (fn === "has" && arg.kind === "array")) return undefined;
  const keys: ScalarKey[] = [];
  for (const item of items) {
    if (item.kind !== "literal") return undefined;
    const key = col.keyOf(item);
    if (key === undefined || key === null) return undefined;
    keys.push(key);
  }
  let hits: RowMask | undefined;
  for (const k of keys) {
    const rows = await lookupRange(col, { lower: k, lowerInclusive: true, upper: k, upperInclusive: true }, live);
    hits = hits === undefined ? rows : fn === "all" ? hits.and(rows) : hits.or(rows);
  }
  return counted(steps, `${col.kind}(${column}) ${e.name}(${keys.map((k) => JSON.stringify(k)).join(", ")})`, split(live, hits!, nullsOf(col), false));
}

/** A surrogate code unit: substring search by code units could split a character LIKE compares whole. */
const SURROGATE = /[\uD800-\uDFFF]/;

/** `col LIKE 'x'`, `'x%'`, `'%x'` or `'%x%'` (no `_`, no escapes, no ILIKE) on an FM-indexed column. */
function likeText(e: Extract<Expr, { kind: "like" }>, live: LiveRows, textOf: IndexResolver, steps: string[]): Tf | undefined {
  if (e.caseInsensitive || e.escape !== null || e.operand.kind !== "column" || e.pattern.kind !== "literal" || e.pattern.type !== "string") return undefined;
  const col = textOf(e.operand.name);
  const pattern = e.pattern.value;
  const inner = pattern.replace(/^%+/, "").replace(/%+$/, "");
  if (!col?.text || /[%_\\]/.test(inner) || SURROGATE.test(inner)) return undefined;
  const hits = col.text({ text: inner, anchoredStart: !pattern.startsWith("%"), anchoredEnd: !pattern.endsWith("%") });
  if (hits === undefined) return undefined;
  return counted(steps, `fm(${e.operand.name}) ${e.negated ? "NOT " : ""}LIKE ${JSON.stringify(pattern)}`, split(live, RowMask.fromAddresses(hits), nullsOf(col), e.negated));
}

/** contains(col, 'x') on an FM-indexed column. */
function textCall(e: Extract<Expr, { kind: "call" }>, live: LiveRows, textOf: IndexResolver, steps: string[]): Tf | undefined {
  const [c, x] = e.args;
  if (e.args.length !== 2 || c!.kind !== "column" || x!.kind !== "literal" || x!.type !== "string" || SURROGATE.test(x!.value)) return undefined;
  const col = textOf(c!.name);
  const hits = col?.text?.({ text: x!.value, anchoredStart: false, anchoredEnd: false });
  if (hits === undefined) return undefined;
  return counted(steps, `fm(${c!.name}) contains ${JSON.stringify(x!.value)}`, split(live, RowMask.fromAddresses(hits), nullsOf(col!), false));
}

interface ColumnRange {
  column: string;
  col: IndexedColumn;
  range: KeyRange;
}

/** `col op literal` (either side; not !=) or `col BETWEEN a AND b` on an indexed column, as a key range. */
function rangeOf(e: Expr, resolve: IndexResolver): ColumnRange | undefined {
  const keyed = (column: string, literal: Expr): [IndexedColumn, ScalarKey] | undefined => {
    const col = resolve(column);
    if (!col || literal.kind !== "literal") return undefined;
    const key = col.keyOf(literal);
    return key === undefined || key === null || (typeof key === "number" && Number.isNaN(key)) ? undefined : [col, key];
  };
  if (e.kind === "between" && !e.negated && e.operand.kind === "column") {
    const low = keyed(e.operand.name, e.low);
    const high = keyed(e.operand.name, e.high);
    return low && high && { column: e.operand.name, col: low[0], range: { lower: low[1], lowerInclusive: true, upper: high[1], upperInclusive: true } };
  }
  if (e.kind !== "binary" || !(e.op in FLIP) || e.op === "!=") return undefined;
  let op = e.op as CompareOp;
  let column: string;
  let literal: Expr;
  if (e.left.kind === "column") [column, literal] = [e.left.name, e.right];
  else if (e.right.kind === "column") [column, literal, op] = [e.right.name, e.left, FLIP[op]];
  else return undefined;
  const k = keyed(column, literal);
  if (!k) return undefined;
  const [col, key] = k;
  const range: KeyRange =
    op === "<" ? { upper: key, upperInclusive: false } : op === "<=" ? { upper: key, upperInclusive: true }
    : op === ">" ? { lower: key, lowerInclusive: false } : op === ">=" ? { lower: key, lowerInclusive: true }
    : { lower: key, lowerInclusive: true, upper: key, upperInclusive: true };
  return { column, col, range };
}

/** The tighter of two bounds on the same side. */
function intersectRanges(a: KeyRange, b: KeyRange): KeyRange {
  const out: KeyRange = { ...a };
  if (b.lower !== undefined) {
    const c = out.lower === undefined ? -1 : compareKeys(out.lower, b.lower);
    if (c < 0) Object.assign(out, { lower: b.lower, lowerInclusive: b.lowerInclusive });
    else if (c === 0) out.lowerInclusive = out.lowerInclusive !== false && b.lowerInclusive !== false;
  }
  if (b.upper !== undefined) {
    const c = out.upper === undefined ? 1 : compareKeys(out.upper, b.upper);
    if (c > 0) Object.assign(out, { upper: b.upper, upperInclusive: b.upperInclusive });
    else if (c === 0) out.upperInclusive = out.upperInclusive !== false && b.upperInclusive !== false;
  }
  return out;
}

/**
 * AND operands that bound the same indexed column (two or more of them), merged into one range per
 * column; the other operands are returned as they are. Exact under three-valued logic: the AND of
 * comparisons of one column with non-NULL literals is TRUE inside the merged range, NULL where the
 * column is NULL and FALSE elsewhere — what one range lookup gives.
 */
function mergeRanges(operands: readonly Expr[], resolve: IndexResolver): { ranges: ColumnRange[]; rest: Expr[] } {
  const byColumn = new Map<string, { found: ColumnRange[]; exprs: Expr[] }>();
  for (const e of operands) {
    const r = rangeOf(e, resolve);
    if (!r) continue;
    const g = byColumn.get(r.column) ?? { found: [], exprs: [] };
    g.found.push(r);
    g.exprs.push(e);
    byColumn.set(r.column, g);
  }
  const ranges: ColumnRange[] = [];
  const merged = new Set<Expr>();
  for (const g of byColumn.values()) {
    if (g.found.length < 2) continue;
    ranges.push({ ...g.found[0]!, range: g.found.map((f) => f.range).reduce(intersectRanges) });
    for (const e of g.exprs) merged.add(e);
  }
  return { ranges, rest: operands.filter((e) => !merged.has(e)) };
}

function describeRange(r: KeyRange): string {
  const lo = r.lower === undefined ? "(−∞" : `${r.lowerInclusive === false ? "(" : "["}${JSON.stringify(r.lower)}`;
  const hi = r.upper === undefined ? "+∞)" : `${JSON.stringify(r.upper)}${r.upperInclusive === false ? ")" : "]"}`;
  return `${lo}, ${hi}`;
}

/**
 * keyOf for a numeric column (ints, floats, timestamps in epoch units, bools as 0 / 1): integer literals
 * within ±2^53 and float literals; anything else (strings that would be cast, huge int64s) falls back.
 */
export function numericKeyOf(literal: Literal): ScalarKey | null | undefined {
  switch (literal.type) {
    case "null": return null;
    case "int": return Number.isSafeInteger(Number(literal.value)) && BigInt(Number(literal.value)) === literal.value ? Number(literal.value) : undefined;
    case "float": return literal.value;
    default: return undefined;
  }
}

/** keyOf for a string column: string literals only. */
export function stringKeyOf(literal: Literal): ScalarKey | null | undefined {
  return literal.type === "null" ? null : literal.type === "string" ? literal.value : undefined;
}
