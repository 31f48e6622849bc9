/**
 * Quiver's logical types. They mirror the Arrow types LanceDB tables use, but are plain data
 * so that a schema can be posted to a worker, written into a manifest and compared with `===`
 * on its fields. Arrow interop maps to and from these (src/arrow/, docs/ARROW.md).
 */
import { createError } from "../errors.js";

export type IntBits = 8 | 16 | 32 | 64;
export type FloatBits = 16 | 32 | 64;

/** Element encoding of a fixed-size vector column. `bit` packs 8 dimensions per byte (MSB first). */
export type VectorElement = "float32" | "float16" | "int8" | "bit";

export type DataType =
  | { readonly kind: "bool" }
  | { readonly kind: "int"; readonly bits: IntBits; readonly signed: boolean }
  | { readonly kind: "float"; readonly bits: FloatBits }
  | { readonly kind: "utf8" }
  /** Milliseconds since the Unix epoch, UTC. Values come back as `Date`. */
  | { readonly kind: "timestamp" }
  /** Variable-length list; items may be null. */
  | { readonly kind: "list"; readonly item: DataType }
  /** Fixed-size vector of `dim` dimensions. */
  | { readonly kind: "vector"; readonly dim: number; readonly element: VectorElement };

export interface Field {
  readonly name: string;
  readonly type: DataType;
  readonly nullable: boolean;
  /** Key/value pairs carried along with the field (Arrow field metadata); optional. */
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface Schema {
  readonly fields: readonly Field[];
}

/** Constructors for data types, named after their Arrow counterparts. */
export const DataTypes = {
  bool: (): DataType => ({ kind: "bool" }),
  int8: (): DataType => ({ kind: "int", bits: 8, signed: true }),
  int16: (): DataType => ({ kind: "int", bits: 16, signed: true }),
  int32: (): DataType => ({ kind: "int", bits: 32, signed: true }),
  int64: (): DataType => ({ kind: "int", bits: 64, signed: true }),
  uint8: (): DataType => ({ kind: "int", bits: 8, signed: false }),
  uint16: (): DataType => ({ kind: "int", bits: 16, signed: false }),
  uint32: (): DataType => ({ kind: "int", bits: 32, signed: false }),
  float16: (): DataType => ({ kind: "float", bits: 16 }),
  float32: (): DataType => ({ kind: "float", bits: 32 }),
  float64: (): DataType => ({ kind: "float", bits: 64 }),
  utf8: (): DataType => ({ kind: "utf8" }),
  timestamp: (): DataType => ({ kind: "timestamp" }),
  list: (item: DataType): DataType => ({ kind: "list", item }),
  /** A fixed-size vector; `element` defaults to float32. For `bit`, `dim` counts bits and must be a multiple of 8. */
  vector: (dim: number, element: VectorElement = "float32"): DataType => {
    if (!Number.isInteger(dim) || dim < 1 || dim > 65536) {
      throw createError("INVALID_ARGUMENT", `Vector dimension must be an integer in 1..65536, got ${String(dim)}.`);
    }
    if (element === "bit" && dim % 8 !== 0) {
      throw createError("INVALID_ARGUMENT", `A bit vector's dimension counts bits and must be a multiple of 8, got ${dim}.`);
    }
    return { kind: "vector", dim, element };
  },
} as const;

export function field(name: string, type: DataType, nullable = true): Field {
  if (typeof name !== "string" || name.length === 0) {
    throw createError("INVALID_ARGUMENT", "A field needs a non-empty string name.");
  }
  checkColumnName(name);
  return { name, type, nullable };
}

/**
 * Rows are plain JavaScript objects, and on those `row["__proto__"] = v` sets the prototype instead
 * of a property: such a column could be written but never read back. It is refused up front.
 */
export function checkColumnName(name: string): void {
  if (name === "__proto__") {
    throw createError("INVALID_ARGUMENT", `"__proto__" cannot be a column name: rows are JavaScript objects, where that key sets the prototype instead of a value. Rename the column.`, { column: name });
  }
}

export function schema(fields: readonly Field[]): Schema {
  const seen = new Set<string>();
  for (const f of fields) {
    checkColumnName(f.name);
    if (seen.has(f.name)) throw createError("SCHEMA_MISMATCH", `Column "${f.name}" appears twice in the schema.`, { column: f.name });
    seen.add(f.name);
    validateType(f.type, f.name);
  }
  return { fields: [...fields] };
}

function validateType(type: DataType, column: string): void {
  switch (type.kind) {
    case "bool": case "utf8": case "timestamp": return;
    case "int":
      if (![8, 16, 32, 64].includes(type.bits)) break;
      if (!type.signed && type.bits === 64) break;
      return;
    case "float":
      if (![16, 32, 64].includes(type.bits)) break;
      return;
    case "list": validateType(type.item, column); return;
    case "vector":
      DataTypes.vector(type.dim, type.element);
      if (!["float32", "float16", "int8", "bit"].includes(type.element)) break;
      return;
  }
  throw createError("SCHEMA_MISMATCH", `Column "${column}" has an unsupported type ${JSON.stringify(type)}.`, { column });
}

export function typeToString(type: DataType): string {
  switch (type.kind) {
    case "bool": return "bool";
    case "int": return `${type.signed ? "int" : "uint"}${type.bits}`;
    case "float": return `float${type.bits}`;
    case "utf8": return "utf8";
    case "timestamp": return "timestamp[ms]";
    case "list": return `list<${typeToString(type.item)}>`;
    case "vector": return `vector<${type.element}, ${type.dim}>`;
  }
}

export function typesEqual(a: DataType, b: DataType): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case "int": return b.kind === "int" && a.bits === b.bits && a.signed === b.signed;
    case "float": return b.kind === "float" && a.bits === b.bits;
    case "list": return b.kind === "list" && typesEqual(a.item, b.item);
    case "vector": return b.kind === "vector" && a.dim === b.dim && a.element === b.element;
    default: return true;
  }
}

export function isNumeric(type: DataType): boolean {
  return type.kind === "int" || type.kind === "float";
}

/** Bytes one vector takes in its column's dense block. */
export function vectorBytes(type: Extract<DataType, { kind: "vector" }>): number {
  switch (type.element) {
    case "float32": return type.dim * 4;
    case "float16": return type.dim * 2;
    case "int8": return type.dim;
    case "bit": return type.dim / 8;
  }
}

export function findField(s: Schema, name: string): Field | undefined {
  return s.fields.find((f) => f.name === name);
}

export function vectorFields(s: Schema): Field[] {
  return s.fields.filter((f) => f.type.kind === "vector");
}

/** Throws UNKNOWN_COLUMN for `name`, suggesting close names. */
export function unknownColumn(schema: Schema, name: string, where: string): never {
  const names = schema.fields.map((f) => f.name);
  const near = names.filter((n) => n.toLowerCase() === name.toLowerCase() || n.toLowerCase().includes(name.toLowerCase()));
  const hint = near.length > 0 ? ` Did you mean ${near.map((n) => `"${n}"`).join(" or ")}?` : ` Columns: ${names.join(", ")}.`;
  throw createError("UNKNOWN_COLUMN", `${where}: no column "${name}".${hint}`, { column: name });
}
