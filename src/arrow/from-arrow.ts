/**
 * Arrow data → Quiver columns, a column at a time from the Arrow buffers (never row by row through
 * JS objects). No Arrow library is needed: the input is read by duck typing, so tables and record
 * batches from any apache-arrow version and from @uwdata/flechette are accepted.
 *
 * A column of an Arrow table or record batch (`getChildAt(i)`) holds chunks (`.data`): apache-arrow
 * `Data` or flechette `Batch`. Their buffers, as this file reads them:
 *
 *   validity   bits, LSB first; bit `offset + i` is row i (apache-arrow does not slice the bitmap)
 *   values     fixed-width values; element i is row i (sliced already), except Bool, whose bits
 *              are read at `offset + i` like the validity
 *   offsets    Int32Array (BigInt64Array for Large*) of length + 1, into `values` (strings) or the child (lists)
 *   children   the item chunk of a List (addressed through offsets) or FixedSizeList (row i at i × size)
 *   dictionary the value chunks of a Dictionary column; `values` then holds indices into them
 */
import { createError } from "../errors.js";
import { buildColumn, concatColumns, nullColumn, numericConstructor, readAll, takeColumn, type Column, type NumericArray } from "../data/column.js";
import { f16BitsToF32 } from "../data/float16.js";
import { typeToString, typesEqual, type DataType, type Field, type Schema } from "../data/schema.js";
import { TypeId, arrowTypeName, listSizeOf, quiverSchemaOf, quiverType } from "./types.js";
import { isArrowTabular, isColumnBatch, type ArrowTabular, type ArrowTypeLike, type ColumnBatch } from "./detect.js";
export type { ColumnBatch } from "./detect.js";

interface Chunk {
  readonly type: ArrowTypeLike;
  readonly length: number;
  readonly offset: number;
  readonly nullCount: number;
  readonly validity: Uint8Array | undefined;
  readonly values: ArrayLike<number | bigint> | undefined;
  readonly offsets: ArrayLike<number | bigint> | undefined;
  readonly children: readonly Chunk[];
  readonly dictionary: readonly Chunk[] | undefined;
}

/** An apache-arrow `Data` or a flechette `Batch`, seen the same way. */
function chunkOf(raw: unknown, column: string): Chunk {
  const d = raw as Record<string, unknown>;
  if (typeof d !== "object" || d === null || typeof d.length !== "number" || typeof (d.type as ArrowTypeLike | undefined)?.typeId !== "number") {
    throw createError("INVALID_ARGUMENT", `Column "${column}": an Arrow chunk without a type and length (expected apache-arrow Data or a flechette Batch).`, { column });
  }
  const validity = (d.nullBitmap ?? d.validity) as Uint8Array | undefined;
  const nullCount = typeof d.nullCount === "number" ? d.nullCount : 0;
  const dict = d.dictionary as { data?: unknown[] } | undefined;
  return {
    type: d.type as ArrowTypeLike,
    length: d.length,
    offset: typeof d.offset === "number" ? d.offset : 0,
    nullCount,
    validity: nullCount > 0 && validity instanceof Uint8Array && validity.length > 0 ? validity : undefined,
    values: d.values as ArrayLike<number | bigint> | undefined,
    offsets: (d.valueOffsets ?? d.offsets) as ArrayLike<number | bigint> | undefined,
    children: Array.isArray(d.children) ? d.children.map((c) => chunkOf(c, `${column}[]`)) : [],
    dictionary: dict && Array.isArray(dict.data) ? dict.data.map((c) => chunkOf(c, column)) : undefined,
  };
}

const bit = (bits: Uint8Array, i: number): number => (bits[i >> 3]! >> (i & 7)) & 1;

/** One byte per row (1 = present), or null when every row is present. */
function validityOf(c: Chunk, column: string, nullable: boolean): Uint8Array | null {
  if (c.validity === undefined) return null;
  const out = new Uint8Array(c.length);
  for (let i = 0; i < c.length; i++) out[i] = bit(c.validity, c.offset + i);
  if (!nullable) {
    const row = out.indexOf(0);
    if (row >= 0) throw createError("SCHEMA_MISMATCH", `Row ${row}, column "${column}": null in a non-nullable column.`, { column, row });
  }
  return out;
}

/** Number of a 64-bit value, from a BigInt64Array, a BigUint64Array, or (old apache-arrow) 32-bit pairs. */
function int64At(values: ArrayLike<number | bigint>, i: number): bigint {
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) return values[i]!;
  const lo = BigInt((values as ArrayLike<number>)[2 * i]! >>> 0);
  return (BigInt((values as ArrayLike<number>)[2 * i + 1]! | 0) << 32n) | lo;
}

function offsetAt(offsets: ArrayLike<number | bigint>, i: number): number {
  return Number(offsets[i]!);
}

function needBuffer<T>(buf: T | undefined, c: Chunk, column: string): T {
  if (buf === undefined) throw createError("INVALID_ARGUMENT", `Column "${column}": an Arrow ${arrowTypeName(c.type)} chunk without its buffers.`, { column });
  return buf;
}

/**
 * Milliseconds of one Timestamp (s, ms, µs, ns) or Date (day, ms) value. Sub-millisecond units are
 * divided in integers first, so whole milliseconds stay exact past 2^53 nanoseconds.
 */
function toMs(t: ArrowTypeLike, values: ArrayLike<number | bigint>, i: number): number {
  if (t.typeId === TypeId.Date) return t.unit === 0 ? Number(values[i]!) * 86_400_000 : Number(int64At(values, i));
  const v = int64At(values, i);
  switch (t.unit ?? 1) {
    case 0: return Number(v) * 1000;
    case 1: return Number(v);
    default: {
      const per = t.unit === 2 ? 1000n : 1_000_000n;
      return Number(v / per) + Number(v % per) / Number(per);
    }
  }
}

function badValue(column: string, row: number, why: string): never {
  throw createError("SCHEMA_MISMATCH", `Row ${row}, column "${column}": ${why}.`, { column, row });
}

/** Reads one chunk as a Quiver column of `type` (the type `quiverType` gives for the chunk's Arrow type). */
function readChunk(c: Chunk, type: DataType, column: string, nullable: boolean): Column {
  const n = c.length;
  const validity = validityOf(c, column, nullable);
  const present = (i: number): boolean => validity === null || validity[i] === 1;
  const t = c.type;

  if (t.typeId === TypeId.Dictionary) {
    const dictChunks = needBuffer(c.dictionary, c, column);
    const dict = dictChunks.length === 1 ? readChunk(dictChunks[0]!, type, column, true) : concatColumns(type, dictChunks.map((d) => readChunk(d, type, column, true)));
    const keys = needBuffer(c.values, c, column);
    const indices = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      if (!present(i)) continue;
      const k = Number(keys[i]!);
      if (!(k >= 0 && k < dict.length)) badValue(column, i, `dictionary index ${k} is outside the dictionary (${dict.length} values)`);
      indices[i] = k;
    }
    const taken = dict.length === 0 ? nullColumn(type, n) : takeColumn(dict, indices);
    if (validity === null && taken.validity !== null && !nullable) {
      const row = taken.validity.indexOf(0);
      if (row >= 0) throw createError("SCHEMA_MISMATCH", `Row ${row}, column "${column}": null in a non-nullable column.`, { column, row });
    }
    const merged = validity === null ? taken.validity : taken.validity === null ? validity : validity.map((v, i) => v & taken.validity![i]!);
    return { ...taken, validity: merged };
  }

  switch (type.kind) {
    case "bool": {
      const bits = needBuffer(c.values, c, column) as Uint8Array;
      const data = new Uint8Array(n);
      for (let i = 0; i < n; i++) data[i] = bit(bits, c.offset + i);
      return { type, length: n, validity, data };
    }
    case "int": {
      const values = needBuffer(c.values, c, column);
      if (type.bits === 64) {
        const data = new BigInt64Array(n);
        const unsigned = values instanceof BigUint64Array || (t.isSigned ?? t.signed) === false;
        for (let i = 0; i < n; i++) {
          if (!present(i)) continue;
          const v = int64At(values, i);
          if (unsigned && BigInt.asUintN(64, v) >= 2n ** 63n) badValue(column, i, `uint64 value ${BigInt.asUintN(64, v)} does not fit int64, which Quiver stores uint64 as`);
          data[i] = v;
        }
        return { type, length: n, validity, data };
      }
      const Ctor = numericConstructor(type) as new (n: number) => NumericArray;
      const data = new Ctor(n);
      if (ArrayBuffer.isView(values)) data.set((values as NumericArray).subarray(0, n));
      else for (let i = 0; i < n; i++) data[i] = Number(values[i]!);
      return { type, length: n, validity, data };
    }
    case "float": {
      const values = needBuffer(c.values, c, column) as ArrayLike<number>;
      const data = type.bits === 64 ? new Float64Array(n) : new Float32Array(n);
      const half = t.typeId === TypeId.Float && t.precision === 0;
      for (let i = 0; i < n; i++) {
        if (!present(i)) continue;
        const v = half ? f16BitsToF32(values[i]!) : values[i]!;
        if (Number.isNaN(v)) badValue(column, i, "NaN is not a value a number column stores; use null for a missing number");
        data[i] = v;
      }
      return { type, length: n, validity, data };
    }
    case "timestamp": {
      const values = needBuffer(c.values, c, column);
      const data = new Float64Array(n);
      for (let i = 0; i < n; i++) if (present(i)) data[i] = toMs(t, values, i);
      return { type, length: n, validity, data };
    }
    case "utf8": {
      const bytes = needBuffer(c.values, c, column) as Uint8Array;
      const offsets = needBuffer(c.offsets, c, column);
      const decoder = new TextDecoder();
      const data = new Array<string>(n);
      for (let i = 0; i < n; i++) data[i] = present(i) ? decoder.decode(bytes.subarray(offsetAt(offsets, i), offsetAt(offsets, i + 1))) : "";
      return { type, length: n, validity, data };
    }
    case "list": {
      const child = c.children[0];
      if (child === undefined) throw createError("INVALID_ARGUMENT", `Column "${column}": an Arrow list chunk without its item chunk.`, { column });
      const items = readAll(readChunk(child, type.item, `${column}[]`, true));
      const data = new Array<unknown[] | null>(n);
      if (t.typeId === TypeId.FixedSizeList) {
        const size = listSizeOf(t);
        for (let i = 0; i < n; i++) data[i] = present(i) ? items.slice(i * size, (i + 1) * size) : null;
      } else {
        const offsets = needBuffer(c.offsets, c, column);
        for (let i = 0; i < n; i++) data[i] = present(i) ? items.slice(offsetAt(offsets, i), offsetAt(offsets, i + 1)) : null;
      }
      return { type, length: n, validity, data };
    }
    case "vector": return readVectors(c, type, column, validity);
  }
}

/** A FixedSizeList chunk as one dense vector block; vectors hold finite numbers and no null elements. */
function readVectors(c: Chunk, type: Extract<DataType, { kind: "vector" }>, column: string, validity: Uint8Array | null): Column {
  const n = c.length;
  const child = c.children[0];
  if (child === undefined) throw createError("INVALID_ARGUMENT", `Column "${column}": an Arrow FixedSizeList chunk without its item chunk.`, { column });
  const size = listSizeOf(c.type);
  const values = needBuffer(child.values, child, column) as ArrayLike<number>;
  const total = n * size;
  const itemValidity = child.validity;
  const present = (i: number): boolean => validity === null || validity[i] === 1;
  const invalid = (row: number, j: number, why: string): never => {
    throw createError("INVALID_VECTOR", `Row ${row}, column "${column}": element ${j} ${why}.`, { column, row, index: j });
  };
  const data = type.element === "float32" ? new Float32Array(total)
    : type.element === "float16" ? new Uint16Array(total)
    : type.element === "int8" ? new Int8Array(total) : new Uint8Array(total);
  const narrow = type.element === "float32" && child.type.precision === 2;
  for (let i = 0; i < n; i++) {
    if (!present(i)) continue;
    const base = i * size;
    if (itemValidity !== undefined) {
      for (let j = 0; j < size; j++) if (bit(itemValidity, child.offset + base + j) === 0) invalid(i, j, "is null; vectors cannot hold null elements");
    }
    if (type.element === "float32") {
      for (let j = 0; j < size; j++) {
        const v = values[base + j]!;
        if (!Number.isFinite(narrow ? Math.fround(v) : v)) invalid(i, j, `is ${v}; vectors must be finite float32 numbers`);
      }
    } else if (type.element === "float16") {
      for (let j = 0; j < size; j++) if ((values[base + j]! & 0x7c00) === 0x7c00) invalid(i, j, "is not a finite float16");
    }
    if (ArrayBuffer.isView(values)) data.set((values as NumericArray).subarray(base, base + size), base);
    else for (let j = 0; j < size; j++) data[base + j] = values[base + j]!;
  }
  return { type, length: n, validity, data };
}

/** The chunks of column `index` of an Arrow table or batch. */
function chunksOf(source: ArrowTabular, index: number, column: string): Chunk[] {
  const child = source.getChildAt(index);
  const data = child?.data;
  if (!Array.isArray(data)) throw createError("INVALID_ARGUMENT", `Column "${column}": the Arrow table has no data for it.`, { column });
  return data.map((d) => chunkOf(d, column));
}

/** An Arrow table or record batch as Quiver columns, checked; throws a QuiverError before returning anything. */
export function tabularToColumns(source: ArrowTabular): ColumnBatch {
  const schema = quiverSchemaOf(source.schema);
  const columns = new Map<string, Column>();
  schema.fields.forEach((f, i) => {
    const chunks = chunksOf(source, i, f.name);
    const cols = chunks.map((c) => {
      const expected = quiverType(c.type, f.name);
      if (!typesEqual(expected, f.type)) {
        throw createError("SCHEMA_MISMATCH", `Column "${f.name}": a chunk of Arrow type ${arrowTypeName(c.type)} in a column of type ${typeToString(f.type)}.`, { column: f.name });
      }
      return readChunk(c, f.type, f.name, f.nullable);
    });
    columns.set(f.name, cols.length === 1 ? cols[0]! : cols.length === 0 ? nullColumn(f.type, 0) : concatColumns(f.type, cols));
  });
  const numRows = source.numRows;
  for (const [name, col] of columns) {
    if (col.length !== numRows) throw createError("INVALID_ARGUMENT", `Column "${name}" has ${col.length} rows, the Arrow table ${numRows}.`, { column: name });
  }
  const metadata = schemaMetadata(source.schema.metadata);
  return { kind: "quiver.columns", schema, numRows, columns, ...(metadata ? { metadata } : {}) };
}

function schemaMetadata(m: ArrowTabular["schema"]["metadata"]): Record<string, string> | undefined {
  if (m === null || m === undefined) return undefined;
  const entries = m instanceof Map ? [...(m as Map<string, string>).entries()] : Object.entries(m as Record<string, string>);
  return entries.length === 0 ? undefined : Object.fromEntries(entries.map(([k, v]) => [String(k), String(v)]));
}

export function sameFields(a: Schema, b: Schema): boolean {
  return a.fields.length === b.fields.length && a.fields.every((f, i) => f.name === b.fields[i]!.name && typesEqual(f.type, b.fields[i]!.type));
}

/** Batches (all of one schema) end to end. */
export function concatBatches(batches: readonly ColumnBatch[]): ColumnBatch {
  const first = batches[0]!;
  if (batches.length === 1) return first;
  for (const b of batches) {
    if (!sameFields(b.schema, first.schema)) throw createError("SCHEMA_MISMATCH", "Arrow record batches with different schemas cannot be added together.");
  }
  const columns = new Map<string, Column>();
  for (const f of first.schema.fields) columns.set(f.name, concatColumns(f.type, batches.map((b) => b.columns.get(f.name)!)));
  return { ...first, numRows: batches.reduce((s, b) => s + b.numRows, 0), columns };
}

/** A table, a batch, an array of batches or an async iterable of batches as one ColumnBatch. */
export async function arrowToColumns(data: unknown): Promise<ColumnBatch> {
  if (isColumnBatch(data)) return data;
  if (isArrowTabular(data)) return tabularToColumns(data);
  const parts: ColumnBatch[] = [];
  if (Array.isArray(data)) {
    for (const b of data) parts.push(tabularToColumns(checkTabular(b)));
  } else if (typeof data === "object" && data !== null && Symbol.asyncIterator in data) {
    for await (const b of data as AsyncIterable<unknown>) parts.push(isColumnBatch(b) ? b : tabularToColumns(checkTabular(b)));
  } else {
    throw createError("INVALID_ARGUMENT", "Expected an Arrow Table, an array of RecordBatches or an async iterable of RecordBatches.");
  }
  if (parts.length === 0) throw createError("INVALID_ARGUMENT", "The Arrow input holds no record batches, so it has no schema; use createEmptyTable(name, schema).");
  return concatBatches(parts);
}

/**
 * A stream of Arrow record batches (or column batches) as column batches, converted one at a time
 * as the consumer pulls them; every batch must have the first one's columns and types.
 */
export async function* arrowColumnStream(stream: AsyncIterable<unknown>): AsyncGenerator<ColumnBatch> {
  let first: Schema | undefined;
  for await (const item of stream) {
    const batch = isColumnBatch(item) ? item : tabularToColumns(checkTabular(item));
    first ??= batch.schema;
    if (!sameFields(batch.schema, first)) throw createError("SCHEMA_MISMATCH", "Arrow record batches with different schemas cannot be added together.");
    yield batch;
  }
}

function checkTabular(b: unknown): ArrowTabular {
  if (!isArrowTabular(b)) throw createError("INVALID_ARGUMENT", "An item of the Arrow input is not a RecordBatch (an object with an Arrow schema, numRows and getChildAt).");
  return b;
}

/**
 * Columns read from Arrow, fitted to a table's schema: the same columns by name (absent nullable
 * columns become nulls), each converted to the table's type where the Arrow type differs (int32 into
 * float64, float64 vectors into float32, …) with the checks a row write makes. Throws SCHEMA_MISMATCH
 * (unknown column, missing non-nullable column, value that does not fit), DIMENSION_MISMATCH or INVALID_VECTOR.
 */
export function fitColumns(batch: ColumnBatch, target: Schema): Map<string, Column> {
  const known = new Set(target.fields.map((f) => f.name));
  for (const f of batch.schema.fields) {
    if (!known.has(f.name)) {
      throw createError("SCHEMA_MISMATCH", `The Arrow data has a column "${f.name}" that the table does not have (columns: ${[...known].join(", ")}).`, { column: f.name });
    }
  }
  const out = new Map<string, Column>();
  for (const f of target.fields) out.set(f.name, fitColumn(batch, f));
  return out;
}

function fitColumn(batch: ColumnBatch, f: Field): Column {
  const col = batch.columns.get(f.name);
  if (col === undefined) {
    if (!f.nullable) throw createError("SCHEMA_MISMATCH", `The Arrow data has no column "${f.name}", which the table needs (it is not nullable).`, { column: f.name });
    return nullColumn(f.type, batch.numRows);
  }
  if (typesEqual(col.type, f.type)) {
    if (!f.nullable && col.validity !== null && col.validity.includes(0)) {
      const row = col.validity.indexOf(0);
      throw createError("SCHEMA_MISMATCH", `Row ${row}, column "${f.name}": null in a non-nullable column.`, { column: f.name, row });
    }
    return col;
  }
  return buildColumn(f.type, readAll(col), f.nullable, { column: f.name, rowOffset: 0 });
}
