/**
 * The evaluator's working values: one `Vec` per expression node, holding a whole column of results
 * (or one value, `scalar: true`, broadcast to every row). Representations:
 *
 *   bool    Uint8Array 0/1
 *   num     any numeric typed array / number[]: int8..uint32, floats, timestamps (ms), and int64
 *           results that provably fit in ±2^53 (so float arithmetic on them is exact)
 *   i64     BigInt64Array: int64 columns and integer results that might not fit in ±2^53
 *   str     string[]
 *   list    (unknown[] | null)[]  items normalised by `itemKey`
 *   opaque  vector columns: only validity is read (for IS NULL)
 *   null    the type of a bare NULL literal: every row null
 *
 * `valid` has one byte per row (1 = present) or is null when every row is present; values at invalid
 * rows are unspecified.
 */
import type { Column, NumericArray } from "../data/column.js";
import type { DataType } from "../data/schema.js";
import { roundToF16 } from "../data/float16.js";

export type Repr = "bool" | "num" | "i64" | "str" | "list" | "opaque" | "null";

export type NumData = NumericArray | number[];

interface VecBase {
  readonly scalar: boolean;
  readonly valid: Uint8Array | null;
}
export type BoolVec = VecBase & { readonly kind: "bool"; readonly data: Uint8Array };
export type NumVec = VecBase & { readonly kind: "num"; readonly data: NumData };
export type I64Vec = VecBase & { readonly kind: "i64"; readonly data: BigInt64Array };
export type StrVec = VecBase & { readonly kind: "str"; readonly data: readonly string[] };
export type ListVec = VecBase & { readonly kind: "list"; readonly data: readonly (readonly unknown[] | null)[] };
export type OpaqueVec = VecBase & { readonly kind: "opaque"; readonly data: readonly never[] };
export type NullVec = VecBase & { readonly kind: "null"; readonly data: readonly never[] };
export type Vec = BoolVec | NumVec | I64Vec | StrVec | ListVec | OpaqueVec | NullVec;

/** The representation the evaluator uses for values of `type`. */
export function reprOf(type: DataType | { kind: "null" }): Repr {
  switch (type.kind) {
    case "bool": return "bool";
    case "int": return type.bits === 64 ? "i64" : "num";
    case "float": case "timestamp": return "num";
    case "utf8": return "str";
    case "list": return "list";
    case "vector": return "opaque";
    case "null": return "null";
  }
}

const SAFE = 2 ** 53;

/**
 * A value's identity for IN sets and list membership: equal SQL values map to the same key under
 * SameValueZero. Integers beyond ±2^53 are bigints, smaller ones numbers; dates are milliseconds.
 */
export function itemKey(v: unknown): unknown {
  if (typeof v === "bigint") return v >= -SAFE && v <= SAFE ? Number(v) : v;
  if (typeof v === "number") return Number.isInteger(v) && Math.abs(v) > SAFE ? BigInt(v) : v;
  if (v instanceof Date) return v.getTime();
  if (v === undefined) return null;
  return v;
}

/** Value at row `i` of a vec as a JS value (null when invalid); used for scalars and rare per-row paths. */
export function valueAt(v: Vec, i: number): unknown {
  const r = v.scalar ? 0 : i;
  if (v.kind === "null" || (v.valid !== null && v.valid[r] === 0)) return null;
  return v.kind === "opaque" ? true : v.data[r];
}

export function isValidAt(v: Vec, i: number): boolean {
  if (v.kind === "null") return false;
  return v.valid === null || v.valid[v.scalar ? 0 : i] === 1;
}

/** A one-value vec holding `value` (null → an invalid value of representation `repr`). */
export function scalarVec(repr: Repr, value: unknown): Vec {
  const valid = value === null || value === undefined ? new Uint8Array(1) : null;
  switch (repr) {
    case "bool": return { kind: "bool", scalar: true, valid, data: Uint8Array.of(value === true || value === 1 ? 1 : 0) };
    case "num": return { kind: "num", scalar: true, valid, data: Float64Array.of(valid ? 0 : Number(value)) };
    case "i64": return { kind: "i64", scalar: true, valid, data: BigInt64Array.of(valid ? 0n : BigInt(value as bigint)) };
    case "str": return { kind: "str", scalar: true, valid, data: [valid ? "" : String(value)] };
    case "list": return { kind: "list", scalar: true, valid, data: [valid ? null : (value as unknown[])] };
    case "opaque": return { kind: "opaque", scalar: true, valid, data: [] };
    case "null": return { kind: "null", scalar: true, valid: new Uint8Array(1), data: [] };
  }
}

function gather<T>(data: ArrayLike<T>, rows: Int32Array | undefined, alloc: (n: number) => { [i: number]: T }): ArrayLike<T> {
  if (rows === undefined) return data;
  const out = alloc(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = data[rows[i]!]!;
  return out as ArrayLike<T>;
}

/** A table column as a vec in representation `repr`, restricted to `rows` when given. */
export function columnVec(col: Column, repr: Repr, rows: Int32Array | undefined): Vec {
  let valid: Uint8Array | null = null;
  if (col.validity !== null) valid = gather(col.validity, rows, (n) => new Uint8Array(n)) as Uint8Array;
  const data = col.data;
  switch (repr) {
    case "bool":
      return { kind: "bool", scalar: false, valid, data: gather(data as Uint8Array, rows, (n) => new Uint8Array(n)) as Uint8Array };
    case "num": {
      if (data instanceof BigInt64Array) {
        const src = gather(data, rows, (n) => new BigInt64Array(n));
        return { kind: "num", scalar: false, valid, data: Float64Array.from(src as BigInt64Array, Number) };
      }
      return { kind: "num", scalar: false, valid, data: gather(data as NumericArray, rows, (n) => new Float64Array(n)) as NumData };
    }
    case "i64": {
      if (data instanceof BigInt64Array) return { kind: "i64", scalar: false, valid, data: gather(data, rows, (n) => new BigInt64Array(n)) as BigInt64Array };
      const src = gather(data as NumericArray, rows, (n) => new Float64Array(n));
      const out = new BigInt64Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = BigInt(Math.trunc(Number(src[i]) || 0));
      return { kind: "i64", scalar: false, valid, data: out };
    }
    case "str":
      return { kind: "str", scalar: false, valid, data: gather(data as string[], rows, (n) => new Array<string>(n)) as string[] };
    case "list": {
      const src = gather(data as (unknown[] | null)[], rows, (n) => new Array<unknown[] | null>(n));
      const out = new Array<unknown[] | null>(src.length);
      for (let i = 0; i < src.length; i++) { const l = src[i]; out[i] = l === null || l === undefined ? null : l.map(itemKey); }
      return { kind: "list", scalar: false, valid, data: out };
    }
    case "opaque":
    case "null": {
      const n = rows === undefined ? col.length : rows.length;
      return { kind: repr, scalar: false, valid: valid ?? new Uint8Array(n).fill(1), data: [] };
    }
  }
}

/** Validity of a result over `n` rows: present where every input is present. */
export function bothValid(a: Vec, b: Vec, n: number): Uint8Array | null {
  if (a.valid === null && b.valid === null) return null;
  if (a.scalar && b.scalar) return Uint8Array.of(isValidAt(a, 0) && isValidAt(b, 0) ? 1 : 0);
  const out = new Uint8Array(n);
  const av = a.valid, bv = b.valid;
  const sa = a.scalar ? 0 : 1, sb = b.scalar ? 0 : 1;
  for (let i = 0; i < n; i++) out[i] = (av === null ? 1 : av[i * sa]!) & (bv === null ? 1 : bv[i * sb]!);
  return out;
}

/** Materialises a vec as a table column of `type`, broadcasting scalars to `n` rows. */
export function vecToColumn(v: Vec, type: DataType, n: number): Column {
  const s = v.scalar ? 0 : 1;
  let validity: Uint8Array | null = null;
  if (v.kind === "null") validity = new Uint8Array(n);
  else if (v.valid !== null) {
    validity = new Uint8Array(n);
    for (let i = 0; i < n; i++) validity[i] = v.valid[i * s]!;
  }
  const present = (i: number): boolean => validity === null || validity[i] === 1;
  const src = v.data as ArrayLike<unknown>;
  switch (type.kind) {
    case "utf8": {
      const data = new Array<string>(n);
      for (let i = 0; i < n; i++) data[i] = present(i) ? String(src[i * s]) : "";
      return { type, length: n, validity, data };
    }
    case "list": {
      const data = new Array<unknown[] | null>(n);
      // Items were normalised by itemKey; give back the layout readValue uses (Date, bigint).
      const item = type.item;
      const back = item.kind === "timestamp" ? (x: unknown) => (x === null ? null : new Date(x as number))
        : item.kind === "int" && item.bits === 64 ? (x: unknown) => (x === null ? null : BigInt(x as number))
        : (x: unknown) => x;
      for (let i = 0; i < n; i++) data[i] = present(i) ? (src[i * s] as unknown[]).map(back) : null;
      return { type, length: n, validity, data };
    }
    case "int":
      if (type.bits === 64) {
        const data = new BigInt64Array(n);
        for (let i = 0; i < n; i++) if (present(i)) { const x = src[i * s]; data[i] = typeof x === "bigint" ? x : BigInt(x as number); }
        return { type, length: n, validity, data };
      }
      break;
    case "vector":
      throw new Error("vector values are not produced by expressions");
    default:
      break;
  }
  const data = allocFor(type, n);
  const half = type.kind === "float" && type.bits === 16;
  for (let i = 0; i < n; i++) {
    if (!present(i)) continue;
    const x = Number(src[i * s]);
    data[i] = half ? roundToF16(x) : x;
  }
  return { type, length: n, validity, data };
}

function allocFor(type: DataType, n: number): NumericArray {
  switch (type.kind) {
    case "bool": return new Uint8Array(n);
    case "float": return type.bits === 64 ? new Float64Array(n) : new Float32Array(n);
    case "int":
      if (type.signed) return type.bits === 8 ? new Int8Array(n) : type.bits === 16 ? new Int16Array(n) : new Int32Array(n);
      return type.bits === 8 ? new Uint8Array(n) : type.bits === 16 ? new Uint16Array(n) : new Uint32Array(n);
    default: return new Float64Array(n);
  }
}
