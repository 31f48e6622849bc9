/**
 * In-memory column chunks. A column is one typed buffer plus an optional validity map:
 *
 *   bool            Uint8Array            one byte per row, 0 or 1
 *   int8/16/32      Int8Array/Int16Array/Int32Array (and the unsigned twins)
 *   int64           BigInt64Array
 *   float16/32      Float32Array          (float16 values are rounded to half precision on write)
 *   float64         Float64Array
 *   timestamp       Float64Array          milliseconds since the epoch
 *   utf8            string[]              "" where the row is null
 *   list<T>         (unknown[] | null)[]  plain JS arrays of item values
 *   vector<f32, d>  Float32Array          n × d, row-major, dense
 *   vector<f16, d>  Uint16Array           n × d raw IEEE half bits
 *   vector<i8, d>   Int8Array             n × d
 *   vector<bit, d>  Uint8Array            n × d/8, 8 dimensions per byte, most significant bit first
 *
 * `validity` holds one byte per row (1 = value present); `null` means every row is present.
 * Vector blocks are dense so they can be copied into WebAssembly memory in one call.
 */
import { createError } from "../errors.js";
import { vectorBytes, typeToString, type DataType } from "./schema.js";
import { f16BitsToF32, f32ToF16Bits, roundToF16 } from "./float16.js";

export type NumericArray =
  | Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | Float32Array | Float64Array;

export type ColumnData = NumericArray | BigInt64Array | string[] | (unknown[] | null)[];

export interface Column {
  readonly type: DataType;
  readonly length: number;
  readonly validity: Uint8Array | null;
  readonly data: ColumnData;
}

/** Something that hands out columns by name: a fragment, a batch of rows, a join of both. */
export interface ColumnSource {
  readonly numRows: number;
  column(name: string): Column;
}

export function isValid(col: Column, row: number): boolean {
  return col.validity === null || col.validity[row] === 1;
}

export function nullCount(col: Column): number {
  if (col.validity === null) return 0;
  let n = 0;
  for (let i = 0; i < col.length; i++) if (col.validity[i] === 0) n++;
  return n;
}

type NumericConstructor =
  | Int8ArrayConstructor | Int16ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor | Uint16ArrayConstructor
  | Uint32ArrayConstructor | Float32ArrayConstructor | Float64ArrayConstructor | BigInt64ArrayConstructor;

/** The typed array that holds values of `type` (see the layout table above). */
export function numericConstructor(type: DataType): NumericConstructor {
  switch (type.kind) {
    case "bool": return Uint8Array;
    case "timestamp": return Float64Array;
    case "float": return type.bits === 64 ? Float64Array : Float32Array;
    case "int":
      if (type.bits === 64) return BigInt64Array;
      if (type.signed) return type.bits === 8 ? Int8Array : type.bits === 16 ? Int16Array : Int32Array;
      return type.bits === 8 ? Uint8Array : type.bits === 16 ? Uint16Array : Uint32Array;
    case "vector":
      if (type.element === "float32") return Float32Array;
      if (type.element === "float16") return Uint16Array;
      if (type.element === "int8") return Int8Array;
      return Uint8Array;
    default: throw new Error(`no numeric buffer for ${type.kind}`);
  }
}

function allocNumeric(type: DataType, n: number): NumericArray | BigInt64Array {
  return new (numericConstructor(type))(type.kind === "vector" ? n * vectorStride(type) : n);
}

/** Elements one row takes in a vector column's flat buffer. */
export function vectorStride(type: Extract<DataType, { kind: "vector" }>): number {
  return type.element === "bit" ? type.dim / 8 : type.dim;
}

function intRange(type: Extract<DataType, { kind: "int" }>): [number, number] {
  if (type.bits === 64) return [-(2 ** 63), 2 ** 63 - 1];
  return type.signed ? [-(2 ** (type.bits - 1)), 2 ** (type.bits - 1) - 1] : [0, 2 ** type.bits - 1];
}

interface WriteContext { column: string; rowOffset: number }

function mismatch(ctx: WriteContext, row: number, type: DataType, value: unknown): never {
  const shown = typeof value === "string" ? JSON.stringify(value.slice(0, 40)) : describe(value);
  throw createError(
    "SCHEMA_MISMATCH",
    `Row ${ctx.rowOffset + row}, column "${ctx.column}": expected ${typeToString(type)}, got ${shown}.`,
    { column: ctx.column, row: ctx.rowOffset + row },
  );
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `array(${value.length})`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as { length: number }).length})`;
  if (value instanceof Date) return "Date";
  if (typeof value === "number" || typeof value === "boolean") return `${typeof value} ${String(value)}`;
  if (typeof value === "bigint") return `bigint ${value}n`;
  return typeof value;
}

function describeElement(x: unknown): string {
  return typeof x === "string" ? JSON.stringify(x) : typeof x === "bigint" ? `${x}n` : String(x);
}

/** Writes one vector value into `out` at row `row`. Throws DIMENSION_MISMATCH / INVALID_VECTOR / SCHEMA_MISMATCH. */
export function writeVector(
  type: Extract<DataType, { kind: "vector" }>,
  value: unknown,
  out: NumericArray,
  row: number,
  ctx: WriteContext,
): void {
  const stride = vectorStride(type);
  const base = row * stride;
  const isArrayLike = Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
  if (!isArrayLike) mismatch(ctx, row, type, value);
  const src = value as ArrayLike<number | bigint>;
  if (src.length !== stride) {
    const unit = type.element === "bit" ? " bytes (8 bits each)" : "";
    throw createError(
      "DIMENSION_MISMATCH",
      `Row ${ctx.rowOffset + row}, column "${ctx.column}": vector has ${src.length}${unit} values, the column holds ${stride}${unit}.`,
      { column: ctx.column, row: ctx.rowOffset + row, expected: stride, actual: src.length },
    );
  }
  const invalid = (j: number, why: string): never => {
    throw createError(
      "INVALID_VECTOR",
      `Row ${ctx.rowOffset + row}, column "${ctx.column}": element ${j} is ${describeElement(src[j])}; ${why}.`,
      { column: ctx.column, row: ctx.rowOffset + row, index: j, position: j },
    );
  };
  // Typed arrays hold numbers already; a plain array may hold anything, and nothing is coerced
  // (null, true, "" and "0x10" are not 0, 1, 0 and 16).
  const plain = Array.isArray(value);
  for (let j = 0; j < stride; j++) {
    const x = src[j];
    if (plain && typeof x !== "number") invalid(j, "vectors hold numbers only");
    const v = Number(x);
    if (!Number.isFinite(v)) invalid(j, "vectors must be finite numbers");
    switch (type.element) {
      case "float32":
        // Finite as a double yet beyond float32's range (±3.4e38): it would be stored as Infinity.
        if (!Number.isFinite(Math.fround(v))) invalid(j, "it is out of float32 range (±3.4e38)");
        out[base + j] = v;
        break;
      case "float16": {
        const bits = f32ToF16Bits(v);
        if ((bits & 0x7c00) === 0x7c00) invalid(j, "it is out of float16 range (±65504)");
        out[base + j] = bits;
        break;
      }
      case "int8":
        if (!Number.isInteger(v) || v < -128 || v > 127) {
          throw createError("INVALID_VECTOR", `Row ${ctx.rowOffset + row}, column "${ctx.column}": element ${j} is ${v}; int8 vectors need integers in -128..127.`, { column: ctx.column, row: ctx.rowOffset + row, index: j });
        }
        out[base + j] = v;
        break;
      case "bit":
        if (!Number.isInteger(v) || v < 0 || v > 255) {
          throw createError("INVALID_VECTOR", `Row ${ctx.rowOffset + row}, column "${ctx.column}": byte ${j} is ${v}; bit vectors are packed bytes 0..255.`, { column: ctx.column, row: ctx.rowOffset + row, index: j });
        }
        out[base + j] = v;
        break;
    }
  }
}

/**
 * Builds a column from JS values, checking every value against `type`.
 * `undefined` counts as null. Throws before returning anything, so callers write nothing on error.
 */
export function buildColumn(type: DataType, values: readonly unknown[], nullable: boolean, ctx: WriteContext): Column {
  const n = values.length;
  let validity: Uint8Array | null = null;
  const markNull = (i: number): void => {
    if (!nullable) {
      throw createError("SCHEMA_MISMATCH", `Row ${ctx.rowOffset + i}, column "${ctx.column}": null in a non-nullable column.`, { column: ctx.column, row: ctx.rowOffset + i });
    }
    if (validity === null) validity = new Uint8Array(n).fill(1);
    validity[i] = 0;
  };

  if (type.kind === "utf8") {
    const data: string[] = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === null || v === undefined) { markNull(i); data[i] = ""; continue; }
      if (typeof v !== "string") mismatch(ctx, i, type, v);
      data[i] = v;
    }
    return { type, length: n, validity, data };
  }

  if (type.kind === "list") {
    const data: (unknown[] | null)[] = new Array<unknown[] | null>(n);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === null || v === undefined) { markNull(i); data[i] = null; continue; }
      if (!Array.isArray(v) && !(ArrayBuffer.isView(v) && !(v instanceof DataView))) mismatch(ctx, i, type, v);
      const items = Array.from(v as ArrayLike<unknown>);
      // Items are checked by building a child column; its errors name the same row.
      const child = buildColumn(type.item, items, true, { column: `${ctx.column}[]`, rowOffset: 0 });
      data[i] = readAll(child);
    }
    return { type, length: n, validity, data };
  }

  const data = allocNumeric(type, n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) { markNull(i); continue; }
    switch (type.kind) {
      case "bool":
        if (typeof v !== "boolean") mismatch(ctx, i, type, v);
        (data as Uint8Array)[i] = v ? 1 : 0;
        break;
      case "timestamp": {
        const ms = v instanceof Date ? v.getTime() : typeof v === "number" ? v : typeof v === "string" ? Date.parse(v) : NaN;
        if (!Number.isFinite(ms)) mismatch(ctx, i, type, v);
        (data as Float64Array)[i] = ms;
        break;
      }
      case "float": {
        if (typeof v !== "number" && typeof v !== "bigint") mismatch(ctx, i, type, v);
        const x = Number(v);
        if (Number.isNaN(x)) {
          throw createError(
            "SCHEMA_MISMATCH",
            `Row ${ctx.rowOffset + i}, column "${ctx.column}": NaN is not a value a number column stores; use null for a missing number.`,
            { column: ctx.column, row: ctx.rowOffset + i },
          );
        }
        (data as Float32Array | Float64Array)[i] = type.bits === 16 ? roundToF16(x) : x;
        break;
      }
      case "int": {
        if (typeof v === "bigint") {
          if (type.bits === 64) { (data as BigInt64Array)[i] = BigInt.asIntN(64, v) === v ? v : mismatch(ctx, i, type, v); break; }
          const x = Number(v);
          const [lo, hi] = intRange(type);
          if (x < lo || x > hi) mismatch(ctx, i, type, v);
          (data as NumericArray)[i] = x;
          break;
        }
        if (typeof v !== "number" || !Number.isInteger(v)) mismatch(ctx, i, type, v);
        const [lo, hi] = intRange(type);
        if (v < lo || v > hi) mismatch(ctx, i, type, v);
        if (type.bits === 64) (data as BigInt64Array)[i] = BigInt(v);
        else (data as NumericArray)[i] = v;
        break;
      }
      case "vector":
        writeVector(type, v, data as NumericArray, i, ctx);
        break;
    }
  }
  return { type, length: n, validity, data };
}

/** The JS value of one cell: boolean, number, bigint, string, Date, array, typed-array vector, or null. */
export function readValue(col: Column, row: number): unknown {
  if (col.validity !== null && col.validity[row] === 0) return null;
  const t = col.type;
  switch (t.kind) {
    case "bool": return (col.data as Uint8Array)[row] === 1;
    case "timestamp": return new Date((col.data as Float64Array)[row]!);
    case "utf8": return (col.data as string[])[row];
    case "list": { const v = (col.data as (unknown[] | null)[])[row]; return v === null || v === undefined ? null : v.slice(); }
    case "vector": {
      const stride = vectorStride(t);
      const start = row * stride;
      if (t.element === "float16") {
        const src = col.data as Uint16Array;
        const out = new Float32Array(stride);
        for (let j = 0; j < stride; j++) out[j] = f16BitsToF32(src[start + j]!);
        return out;
      }
      return (col.data as NumericArray).slice(start, start + stride);
    }
    default: return (col.data as NumericArray | BigInt64Array)[row];
  }
}

export function readAll(col: Column): unknown[] {
  const out = new Array<unknown>(col.length);
  for (let i = 0; i < col.length; i++) out[i] = readValue(col, i);
  return out;
}

/** Rows `indices` of `col`, in that order, as a new column. */
export function takeColumn(col: Column, indices: ArrayLike<number>): Column {
  const n = indices.length;
  const t = col.type;
  let validity: Uint8Array | null = null;
  if (col.validity !== null) {
    validity = new Uint8Array(n);
    for (let i = 0; i < n; i++) validity[i] = col.validity[indices[i]!]!;
  }
  if (t.kind === "utf8" || t.kind === "list") {
    const src = col.data as unknown[];
    const data = new Array<unknown>(n);
    for (let i = 0; i < n; i++) data[i] = src[indices[i]!];
    return { type: t, length: n, validity, data: data as ColumnData };
  }
  const stride = t.kind === "vector" ? vectorStride(t) : 1;
  const src = col.data as NumericArray | BigInt64Array;
  const data = allocNumeric(t, n);
  if (stride === 1) {
    for (let i = 0; i < n; i++) (data as NumericArray)[i] = (src as NumericArray)[indices[i]!]!;
  } else {
    for (let i = 0; i < n; i++) {
      const s = indices[i]! * stride;
      (data as NumericArray).set((src as NumericArray).subarray(s, s + stride), i * stride);
    }
  }
  return { type: t, length: n, validity, data };
}

/** A column with its own buffers (validity and data copied). */
export function copyColumn(col: Column): Column {
  return { ...col, validity: col.validity?.slice() ?? null, data: col.data.slice() as ColumnData };
}

/** Columns of the same type, end to end. */
export function concatColumns(type: DataType, cols: readonly Column[]): Column {
  const n = cols.reduce((s, c) => s + c.length, 0);
  const anyNull = cols.some((c) => c.validity !== null);
  const validity = anyNull ? new Uint8Array(n).fill(1) : null;
  let at = 0;
  if (validity) for (const c of cols) { if (c.validity) validity.set(c.validity, at); at += c.length; }
  if (type.kind === "utf8" || type.kind === "list") {
    const data: unknown[] = [];
    for (const c of cols) for (const v of c.data as unknown[]) data.push(v);
    return { type, length: n, validity, data: data as ColumnData };
  }
  const stride = type.kind === "vector" ? vectorStride(type) : 1;
  const data = allocNumeric(type, n);
  at = 0;
  for (const c of cols) { (data as NumericArray).set(c.data as NumericArray, at * stride); at += c.length; }
  return { type, length: n, validity, data };
}

/** A column of `n` nulls (used when a column is added to existing rows). */
export function nullColumn(type: DataType, n: number): Column {
  if (type.kind === "utf8") return { type, length: n, validity: new Uint8Array(n), data: new Array<string>(n).fill("") };
  if (type.kind === "list") return { type, length: n, validity: new Uint8Array(n), data: new Array<null>(n).fill(null) };
  return { type, length: n, validity: new Uint8Array(n), data: allocNumeric(type, n) };
}

/** Approximate bytes held by a column, for stats. */
export function columnBytes(col: Column): number {
  const t = col.type;
  const v = col.validity ? col.length : 0;
  if (t.kind === "vector") return v + col.length * vectorBytes(t);
  if (t.kind === "utf8") return v + (col.data as string[]).reduce((s, x) => s + x.length, 0);
  if (t.kind === "list") return v + (col.data as (unknown[] | null)[]).reduce((s, x) => s + (x ? x.length * 8 : 0), 0);
  return v + (col.data as NumericArray | BigInt64Array).byteLength;
}

/** Row `row` of a vector column as float32 (float16 and int8 are widened), written into `out` at `at`. */
export function copyVectorF32(col: Column, type: Extract<DataType, { kind: "vector" }>, row: number, out: Float32Array, at: number): void {
  const d = type.dim;
  const src = col.data as NumericArray;
  if (type.element === "float16") {
    for (let j = 0; j < d; j++) out[at + j] = f16BitsToF32(src[row * d + j]!);
  } else {
    out.set(src.subarray(row * d, row * d + d) as ArrayLike<number>, at);
  }
}
