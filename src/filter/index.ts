/**
 * The filter / SQL-expression language used by `.where()`, `delete()`, `update({ where, valuesSql })`
 * and computed columns. Compile once against a schema, then evaluate per fragment, column-wise.
 * The supported SQL subset is documented in docs/FILTERS.md.
 */
import { DivisionByZero, divisionHint } from "./kernels.js";
import { createError } from "../errors.js";
import { takeColumn, type Column, type ColumnSource } from "../data/column.js";
import type { DataType, Schema } from "../data/schema.js";
import type { Expr } from "./ast.js";
import type { Bound } from "./bound.js";
import { canCast } from "./cast.js";
import { filterError } from "./diagnostics.js";
import { CastLoss, evaluateBound, type EvalContext } from "./evaluate.js";
import { parseExpression } from "./parser.js";
import { Binder, show } from "./typecheck.js";
import { columnVec, reprOf, vecToColumn, type Repr, type Vec } from "./vector.js";

export type { Expr } from "./ast.js";
export { parseExpression, MAX_FILTER_DEPTH, MAX_FILTER_LENGTH } from "./parser.js";

export interface CompiledFilter {
  /** The filter text as given. */
  readonly sql: string;
  /** Columns the filter reads, in first-use order. */
  readonly columns: readonly string[];
  /**
   * One byte per row, 1 where the filter is TRUE (NULL and FALSE both reject). With `rows`, only
   * those row positions are evaluated and the result is indexed like `rows`.
   */
  evaluate(source: ColumnSource, rows?: Int32Array): Uint8Array;
}

export interface CompiledExpression {
  readonly sql: string;
  /** Result type (see docs/FILTERS.md for how arithmetic widens). */
  readonly type: DataType;
  readonly columns: readonly string[];
  /** The value for every row (or for `rows`, in that order), laid out as in src/data/column.ts. */
  evaluate(source: ColumnSource, rows?: Int32Array): Column;
}

export interface CompileExpressionOptions {
  /**
   * Convert the result to this type with CAST semantics (a value that does not fit becomes NULL);
   * lets `valuesSql` write `NULL` or `x * 2` into a column of a given type. Default: the expression's own type.
   */
  readonly targetType?: DataType;
  /**
   * Writes (update's valuesSql): text is never converted implicitly to another type (write CAST),
   * and a value the conversion to `targetType` would turn into NULL (an out-of-range number, text
   * that is no number) fails with SCHEMA_MISMATCH instead, so a write never stores NULL by accident.
   */
  readonly strict?: boolean;
}

function referencedColumns(b: Bound, out: string[] = []): string[] {
  switch (b.op) {
    case "const": break;
    case "column": if (!out.includes(b.name)) out.push(b.name); break;
    case "not": case "neg": case "is": case "in": case "cast": referencedColumns(b.arg, out); break;
    case "and": case "or": case "call": for (const a of b.args) referencedColumns(a, out); break;
    case "compare": case "arith": referencedColumns(b.left, out); referencedColumns(b.right, out); break;
    case "between": referencedColumns(b.arg, out); referencedColumns(b.low, out); referencedColumns(b.high, out); break;
    case "like": referencedColumns(b.arg, out); referencedColumns(b.pattern, out); break;
  }
  return out;
}

function checkRows(source: ColumnSource, rows: Int32Array | undefined): number {
  if (rows === undefined) return source.numRows;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (r < 0 || r >= source.numRows) {
      throw createError("INVALID_ARGUMENT", `Row position ${r} (at index ${i} of rows) is outside 0..${source.numRows - 1}.`, { row: r });
    }
  }
  return rows.length;
}

function run(bound: Bound, source: ColumnSource, rows: Int32Array | undefined, sql: string, strictCasts = false): { vec: Vec; n: number } {
  try {
    return runBound(bound, source, rows, strictCasts);
  } catch (e) {
    if (e instanceof DivisionByZero) throw filterError(sql, e.position, e.message, {}, divisionHint(e));
    if (e instanceof CastLoss) {
      const shown = typeof e.value === "string" ? JSON.stringify(e.value) : String(e.value);
      throw createError(
        "SCHEMA_MISMATCH",
        `${shown} cannot be converted to ${e.target} (at position ${e.position} in ${JSON.stringify(sql)}); a write stores no NULL in its place, so nothing was written.`,
        { position: e.position, value: typeof e.value === "bigint" ? e.value.toString() : e.value },
      );
    }
    throw e;
  }
}

function runBound(bound: Bound, source: ColumnSource, rows: Int32Array | undefined, strictCasts: boolean): { vec: Vec; n: number } {
  const n = checkRows(source, rows);
  const cache = new Map<string, Vec>();
  const ctx: EvalContext = {
    n,
    strictCasts,
    column(name: string, repr: Repr): Vec {
      const key = `${repr}:${name}`;
      let v = cache.get(key);
      if (v === undefined) {
        v = columnVec(source.column(name), repr, rows);
        cache.set(key, v);
      }
      return v;
    },
  };
  return { vec: evaluateBound(bound, ctx), n };
}

function bindText(sql: string, schema: Schema): { expr: Expr; bound: Bound } {
  const expr = parseExpression(sql);
  const binder = new Binder(sql, schema);
  return { expr, bound: binder.bind(expr) };
}

export function compileFilter(sql: string, schema: Schema): CompiledFilter {
  const { expr, bound } = bindText(sql, schema);
  if (bound.type.kind !== "bool" && bound.type.kind !== "null") {
    const hint = bound.type.kind === "int" || bound.type.kind === "float" ? "Compare it, as in x > 0" : "";
    throw filterError(sql, expr.pos, `A filter must be a true/false condition, but this expression is ${show(bound.type)}`, {}, hint);
  }
  const columns = Object.freeze(referencedColumns(bound));
  return {
    sql,
    columns,
    evaluate(source: ColumnSource, rows?: Int32Array): Uint8Array {
      const { vec, n } = run(bound, source, rows, sql);
      const out = new Uint8Array(n);
      if (vec.kind !== "bool") return out; // a NULL filter passes nothing
      const valid = vec.valid;
      if (vec.scalar) {
        if (vec.data[0] === 1 && (valid === null || valid[0] === 1)) out.fill(1);
        return out;
      }
      if (valid === null) out.set(vec.data);
      else for (let i = 0; i < n; i++) out[i] = vec.data[i]! & valid[i]!;
      return out;
    },
  };
}

export function compileExpression(sql: string, schema: Schema, options: CompileExpressionOptions = {}): CompiledExpression {
  const { expr, bound: own } = bindText(sql, schema);
  let bound = own;
  const target = options.targetType;
  if (target !== undefined && JSON.stringify(target) !== JSON.stringify(own.type)) {
    if (!canCast(own.type, target) || (options.strict === true && own.type.kind === "utf8" && target.kind !== "utf8")) {
      const hint = own.type.kind === "utf8" && canCast(own.type, target) ? `Write CAST(… AS ${show(target).toUpperCase()}) to convert text explicitly` : "";
      throw filterError(sql, expr.pos, `This expression is ${show(own.type)} and cannot be converted to ${show(target)}`, {}, hint);
    }
    bound = { op: "cast", target, toDate: false, arg: own, type: target, repr: reprOf(target), maxAbs: Infinity, pos: expr.pos };
  }
  const type = bound.type;
  if (type.kind === "null") {
    throw filterError(sql, expr.pos, "NULL alone has no type", {}, "Write CAST(NULL AS <type>) or pass targetType");
  }
  const columns = Object.freeze(referencedColumns(bound));
  return {
    sql,
    type,
    columns,
    evaluate(source: ColumnSource, rows?: Int32Array): Column {
      // A bare column keeps its own layout (vectors included): hand it back as stored.
      if (bound.op === "column") {
        checkRows(source, rows);
        const col = source.column(bound.name);
        return rows === undefined ? col : takeColumn(col, rows);
      }
      const { vec, n } = run(bound, source, rows, sql, options.strict === true);
      return vecToColumn(vec, type, n);
    },
  };
}

