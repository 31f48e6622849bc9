/**
 * CAST(x AS type): the SQL type names we accept, which casts are allowed, and the conversion itself.
 * A value that cannot be converted (text that is not a number, a float outside an integer type's
 * range, NaN to an integer) becomes NULL rather than failing the whole query.
 */
import { DataTypes, type DataType } from "../data/schema.js";
import { roundToF16 } from "../data/float16.js";
import type { SqlType } from "./bound.js";
import { parseTimestamp, truncateToDay } from "./timestamp.js";
import { reprOf, scalarVec, valueAt, type Vec } from "./vector.js";

const TYPE_NAMES: Record<string, () => DataType> = {
  BOOLEAN: DataTypes.bool, BOOL: DataTypes.bool,
  TINYINT: DataTypes.int8, INT8: DataTypes.int8,
  SMALLINT: DataTypes.int16, INT16: DataTypes.int16,
  INT: DataTypes.int32, INTEGER: DataTypes.int32, INT32: DataTypes.int32,
  BIGINT: DataTypes.int64, INT64: DataTypes.int64,
  UINT8: DataTypes.uint8, UINT16: DataTypes.uint16, UINT32: DataTypes.uint32,
  FLOAT16: DataTypes.float16, HALF: DataTypes.float16,
  FLOAT: DataTypes.float32, REAL: DataTypes.float32, FLOAT32: DataTypes.float32,
  DOUBLE: DataTypes.float64, "DOUBLE PRECISION": DataTypes.float64, FLOAT64: DataTypes.float64,
  VARCHAR: DataTypes.utf8, STRING: DataTypes.utf8, TEXT: DataTypes.utf8, CHAR: DataTypes.utf8, UTF8: DataTypes.utf8,
  TIMESTAMP: DataTypes.timestamp, DATETIME: DataTypes.timestamp, DATE: DataTypes.timestamp,
};

export const CAST_TYPE_NAMES: readonly string[] = Object.keys(TYPE_NAMES);

/** The data type a SQL type name stands for, or undefined. DATE is a timestamp truncated to the day. */
export function castTarget(name: string): DataType | undefined {
  return Object.hasOwn(TYPE_NAMES, name) ? TYPE_NAMES[name]!() : undefined;
}

function scalarKind(t: SqlType): boolean {
  return t.kind === "bool" || t.kind === "int" || t.kind === "float" || t.kind === "utf8" || t.kind === "timestamp";
}

export function canCast(from: SqlType, to: DataType): boolean {
  if (from.kind === "null") return true;
  if (!scalarKind(from) || !scalarKind(to)) return from.kind === to.kind && JSON.stringify(from) === JSON.stringify(to);
  if ((from.kind === "bool" && to.kind === "timestamp") || (from.kind === "timestamp" && to.kind === "bool")) return false;
  return true;
}

export function intRange(t: Extract<DataType, { kind: "int" }>): [number, number] {
  if (t.bits === 64) return [-(2 ** 63), 2 ** 63 - 1];
  return t.signed ? [-(2 ** (t.bits - 1)), 2 ** (t.bits - 1) - 1] : [0, 2 ** t.bits - 1];
}

const INT_TEXT = /^\s*[+-]?\d+\s*$/;
const FLOAT_TEXT = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;
const TRUE_TEXT = new Set(["true", "t", "yes", "y", "1", "on"]);
const FALSE_TEXT = new Set(["false", "f", "no", "n", "0", "off"]);

/** One value of SQL type `from` converted to type `to`, or null. */
function convert(x: unknown, from: SqlType, to: DataType, toDate: boolean): unknown {
  if (to.kind === "utf8") {
    if (from.kind === "bool") return x === 1 ? "true" : "false";
    if (from.kind === "timestamp") { const d = new Date(x as number); return Number.isNaN(d.getTime()) ? null : d.toISOString(); }
    return String(x);
  }
  if (to.kind === "bool") {
    if (from.kind === "utf8") { const s = (x as string).trim().toLowerCase(); return TRUE_TEXT.has(s) ? true : FALSE_TEXT.has(s) ? false : null; }
    return typeof x === "bigint" ? x !== 0n : x !== 0;
  }
  if (to.kind === "timestamp") {
    const ms = from.kind === "utf8" ? parseTimestamp(x as string) : Number(x);
    if (ms === null || !Number.isFinite(ms)) return null;
    return toDate ? truncateToDay(ms) : ms;
  }
  if (to.kind === "int") {
    let big: bigint;
    if (typeof x === "bigint") big = x;
    else if (typeof x === "string") {
      if (!INT_TEXT.test(x)) return null;
      big = BigInt(x.trim());
    } else {
      const v = Number(x);
      if (!Number.isFinite(v)) return null;
      big = BigInt(Math.trunc(v));
    }
    const [lo, hi] = to.bits === 64 ? [-(2n ** 63n), 2n ** 63n - 1n] : intRange(to).map(BigInt) as [bigint, bigint];
    if (big < lo || big > hi) return null;
    return to.bits === 64 ? big : Number(big);
  }
  if (to.kind === "float") {
    let v: number;
    if (typeof x === "string") {
      if (!FLOAT_TEXT.test(x)) return null;
      v = Number(x.trim());
    } else v = Number(x);
    return to.bits === 16 ? roundToF16(v) : to.bits === 32 ? Math.fround(v) : v;
  }
  return null;
}

/** CAST over a whole vec. Per row, but casts are rare in filters and usually fold to constants. */
export function castVec(v: Vec, from: SqlType, to: DataType, toDate: boolean, n: number): Vec {
  const len = v.scalar ? 1 : n;
  const repr = reprOf(to);
  if (len === 1 && v.scalar) {
    const x = valueAt(v, 0);
    return scalarVec(repr, x === null ? null : convert(x, from, to, toDate));
  }
  const valid = new Uint8Array(len);
  let data: unknown[] | Float64Array | BigInt64Array | Uint8Array;
  if (repr === "num") data = new Float64Array(len);
  else if (repr === "i64") data = new BigInt64Array(len);
  else if (repr === "bool") data = new Uint8Array(len);
  else data = new Array<unknown>(len).fill(repr === "str" ? "" : null);
  for (let i = 0; i < len; i++) {
    const x = valueAt(v, i);
    if (x === null) continue;
    const y = convert(x, from, to, toDate);
    if (y === null) continue;
    valid[i] = 1;
    (data as unknown[])[i] = repr === "bool" ? (y ? 1 : 0) : y;
  }
  return { kind: repr, scalar: false, data, valid } as Vec;
}
