/**
 * Rows (plain JS objects) to columns and back, and schema inference.
 *
 * Inference rules, per column, from its non-null values:
 *   boolean → bool; number → float64 (as LanceDB does); bigint → int64; string → utf8; Date → timestamp;
 *   Float32Array / Float64Array → vector<float32, n>; Int8Array → vector<int8, n>;
 *   Uint8Array → vector<bit, 8n> (packed binary embeddings);
 *   number[] all of one length → vector<float32, n>; number[] of varying length → list<float64>;
 *   string[] → list<utf8>; boolean[] → list<bool>.
 * A column whose values are all null cannot be inferred: pass a schema.
 */
import { createError } from "../errors.js";
import { buildColumn, readValue, type Column } from "./column.js";
import { DataTypes, schema as makeSchema, typeToString, type DataType, type Field, type Schema } from "./schema.js";

/**
 * A row: column name → value. Values are typed `any`, as LanceDB's results are, so code ported from
 * LanceDB reads `row.id` or passes its own interfaces (`interface Note { id: number }`) as rows
 * without casts; every value is still checked against the schema at run time.
 */
export type Row = Record<string, any>;

/** A batch of rows as columns sharing one schema. */
export interface RecordBatch {
  readonly schema: Schema;
  readonly numRows: number;
  readonly columns: ReadonlyMap<string, Column>;
}

function checkRows(rows: unknown): asserts rows is readonly Row[] {
  if (!Array.isArray(rows)) {
    throw createError("INVALID_ARGUMENT", `Expected an array of row objects, got ${rows === null ? "null" : typeof rows}.`);
  }
  for (let i = 0; i < rows.length; i++) {
    const r: unknown = rows[i];
    if (r === null || typeof r !== "object" || Array.isArray(r)) {
      throw createError("INVALID_ARGUMENT", `Row ${i} is not a plain object.`, { row: i });
    }
  }
}

function inferValueType(name: string, values: readonly unknown[]): DataType {
  let first: unknown;
  let firstRow = -1;
  for (let i = 0; i < values.length; i++) {
    if (values[i] !== null && values[i] !== undefined) { first = values[i]; firstRow = i; break; }
  }
  if (firstRow < 0) {
    throw createError(
      "SCHEMA_MISMATCH",
      `Column "${name}" holds only nulls, so its type cannot be inferred; pass a schema to createTable.`,
      { column: name },
    );
  }
  if (typeof first === "boolean") return DataTypes.bool();
  if (typeof first === "number") return DataTypes.float64();
  if (typeof first === "bigint") return DataTypes.int64();
  if (typeof first === "string") return DataTypes.utf8();
  if (first instanceof Date) return DataTypes.timestamp();
  if (first instanceof Float32Array || first instanceof Float64Array) return DataTypes.vector(Math.max(1, first.length));
  if (first instanceof Int8Array) return DataTypes.vector(Math.max(1, first.length), "int8");
  if (first instanceof Uint8Array) return DataTypes.vector(Math.max(8, first.length * 8), "bit");
  if (Array.isArray(first)) return inferArrayType(name, values);
  throw createError(
    "SCHEMA_MISMATCH",
    `Column "${name}", row ${firstRow}: cannot store a value of type ${first === null ? "null" : typeof first} (nested objects are not supported); pass a schema or flatten it.`,
    { column: name, row: firstRow },
  );
}

function inferArrayType(name: string, values: readonly unknown[]): DataType {
  let len = -1;
  let sameLength = true;
  let item: "number" | "string" | "boolean" | undefined;
  for (const v of values) {
    if (!Array.isArray(v)) continue;
    if (len === -1) len = v.length;
    else if (v.length !== len) sameLength = false;
    for (const x of v) {
      if (x === null || x === undefined) continue;
      const t = typeof x;
      if (t !== "number" && t !== "string" && t !== "boolean") {
        throw createError("SCHEMA_MISMATCH", `Column "${name}": list items of type ${t} are not supported.`, { column: name });
      }
      if (item === undefined) item = t;
      else if (item !== t) {
        throw createError("SCHEMA_MISMATCH", `Column "${name}": a list mixes ${item} and ${t} items.`, { column: name });
      }
    }
  }
  if (item === "number" && sameLength && len > 0) return DataTypes.vector(len);
  // A column named "vector" is meant to be searched: arrays of different lengths there are a
  // mistake to report now, not a list column to discover at the first search.
  if (item === "number" && name === "vector") {
    const lengths = new Map<number, number>();
    values.forEach((v, row) => { if (Array.isArray(v) && !lengths.has(v.length)) lengths.set(v.length, row); });
    const seen = [...lengths].slice(0, 3).map(([l, row]) => `${l} in row ${row}`).join(", ");
    throw createError(
      "DIMENSION_MISMATCH",
      `Column "vector": vectors must all have one length, found ${seen}. Fix the rows, or pass a schema (vector columns have a fixed dimension).`,
      { column: name },
    );
  }
  if (item === "string") return DataTypes.list(DataTypes.utf8());
  if (item === "boolean") return DataTypes.list(DataTypes.bool());
  return DataTypes.list(DataTypes.float64());
}

/** Column names in first-seen order across all rows. */
function columnNames(rows: readonly Row[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) seen.add(k);
  return [...seen];
}

export function inferSchema(rows: readonly Row[]): Schema {
  checkRows(rows);
  if (rows.length === 0) {
    throw createError("INVALID_ARGUMENT", "Cannot infer a schema from zero rows; pass a schema (createEmptyTable) or some rows.");
  }
  const fields: Field[] = columnNames(rows).map((name) => {
    const values = rows.map((r) => r[name]);
    return { name, type: inferValueType(name, values), nullable: true };
  });
  return makeSchema(fields);
}

/**
 * Checks every row against `schema` and builds the columns. Throws (SCHEMA_MISMATCH, DIMENSION_MISMATCH,
 * INVALID_VECTOR) before anything is returned, so a failed add writes nothing.
 */
export function rowsToBatch(rows: readonly Row[], target: Schema, rowOffset = 0): RecordBatch {
  checkRows(rows);
  const known = new Set(target.fields.map((f) => f.name));
  for (let i = 0; i < rows.length; i++) {
    for (const k of Object.keys(rows[i]!)) {
      if (!known.has(k)) {
        throw createError(
          "SCHEMA_MISMATCH",
          `Row ${rowOffset + i} has a column "${k}" that the table does not have (columns: ${[...known].join(", ")}).`,
          { column: k, row: rowOffset + i },
        );
      }
    }
  }
  const columns = new Map<string, Column>();
  for (const f of target.fields) {
    const values = rows.map((r) => r[f.name]);
    columns.set(f.name, buildColumn(f.type, values, f.nullable, { column: f.name, rowOffset }));
  }
  return { schema: target, numRows: rows.length, columns };
}

/** Rows `indices` of the given columns as plain objects. */
export function columnsToRows(
  columns: ReadonlyMap<string, Column>,
  names: readonly string[],
  indices: ArrayLike<number>,
): Row[] {
  const out: Row[] = new Array<Row>(indices.length);
  const cols = names.map((n) => [n, columns.get(n)!] as const);
  for (let i = 0; i < indices.length; i++) {
    const r: Row = {};
    for (const [n, c] of cols) r[n] = readValue(c, indices[i]!);
    out[i] = r;
  }
  return out;
}

export function describeSchema(s: Schema): string {
  return s.fields.map((f) => `${f.name}: ${typeToString(f.type)}${f.nullable ? "" : " not null"}`).join(", ");
}
