/**
 * Arrow types ↔ Quiver types, read by duck typing. An Arrow type here is any object with a numeric
 * `typeId` (Arrow's format enum) and the properties of its kind, so types from any apache-arrow
 * version and from @uwdata/flechette are read alike. The two libraries spell a few properties
 * differently (`isSigned` / `signed`, `listSize` / `stride`, metadata as a Map or null); both are read.
 * The table of what maps to what is in docs/ARROW.md.
 */
import { createError } from "../errors.js";
import { DataTypes, checkColumnName, type DataType, type Field, type Schema } from "../data/schema.js";
import { isArrowField, isArrowType, type ArrowFieldLike, type ArrowSchemaLike, type ArrowTypeLike } from "./detect.js";

/** Arrow's type ids (the `Type` enum of the format; Dictionary is -1 in both JS libraries). */
export const TypeId = {
  Null: 1, Int: 2, Float: 3, Binary: 4, Utf8: 5, Bool: 6, Decimal: 7, Date: 8, Time: 9, Timestamp: 10,
  Interval: 11, List: 12, Struct: 13, Union: 14, FixedSizeBinary: 15, FixedSizeList: 16, Map: 17,
  Duration: 18, LargeBinary: 19, LargeUtf8: 20, LargeList: 21, Dictionary: -1,
} as const;

const TYPE_NAMES = new Map<number, string>(Object.entries(TypeId).map(([k, v]) => [v, k]));

export function arrowTypeName(t: ArrowTypeLike): string {
  return TYPE_NAMES.get(t.typeId) ?? `type ${t.typeId}`;
}

export function listSizeOf(t: ArrowTypeLike): number {
  return (t.listSize ?? t.stride) as number;
}

export function isSignedInt(t: ArrowTypeLike): boolean {
  return (t.isSigned ?? t.signed) !== false;
}

export function itemField(t: ArrowTypeLike): ArrowFieldLike {
  const child = t.children?.[0];
  if (!isArrowField(child)) throw createError("INVALID_ARGUMENT", `An Arrow ${arrowTypeName(t)} type has no item field.`);
  return child;
}

function refuse(column: string, t: ArrowTypeLike, why = ""): never {
  throw createError(
    "SCHEMA_MISMATCH",
    `Column "${column}": Arrow type ${arrowTypeName(t)} cannot be stored in a Quiver table${why}. See docs/ARROW.md for the types that map.`,
    { column, arrowType: arrowTypeName(t) },
  );
}

/**
 * The Quiver type an Arrow type is stored as. FixedSizeList of Float32 / Float16 / Int8 (and Float64,
 * narrowed) is a vector column; FixedSizeList of Uint8 is a bit vector (8 dimensions a byte, as
 * LanceDB stores binary vectors); other FixedSizeLists are lists.
 */
export function quiverType(t: ArrowTypeLike, column: string): DataType {
  switch (t.typeId) {
    case TypeId.Bool: return DataTypes.bool();
    case TypeId.Int: {
      const bits = t.bitWidth;
      if (bits !== 8 && bits !== 16 && bits !== 32 && bits !== 64) refuse(column, t, ` (bit width ${String(bits)})`);
      // Quiver has no uint64: it is stored as int64, and a value of 2^63 or more is refused when read.
      if (!isSignedInt(t) && bits !== 64) return { kind: "int", bits, signed: false };
      return { kind: "int", bits, signed: true };
    }
    case TypeId.Float:
      if (t.precision === 0) return DataTypes.float16();
      if (t.precision === 1) return DataTypes.float32();
      if (t.precision === 2) return DataTypes.float64();
      return refuse(column, t, ` (precision ${String(t.precision)})`);
    case TypeId.Utf8: case TypeId.LargeUtf8: return DataTypes.utf8();
    case TypeId.Timestamp: case TypeId.Date: return DataTypes.timestamp();
    case TypeId.Dictionary: {
      const value = t.dictionary;
      if (!isArrowType(value)) refuse(column, t, " (no dictionary value type)");
      const inner = quiverType(value, column);
      if (inner.kind === "list" || inner.kind === "vector") refuse(column, t, " (only dictionaries of scalars are read)");
      return inner;
    }
    case TypeId.List: case TypeId.LargeList: {
      const item = quiverType(itemField(t).type, `${column}[]`);
      if (item.kind === "vector") refuse(column, t, " (a list of vectors)");
      return DataTypes.list(item);
    }
    case TypeId.FixedSizeList: {
      const item = itemField(t).type;
      const size = listSizeOf(t);
      if (!Number.isInteger(size) || size < 1) refuse(column, t, ` (list size ${String(size)})`);
      if (item.typeId === TypeId.Float) {
        if (item.precision === 0) return DataTypes.vector(size, "float16");
        return DataTypes.vector(size, "float32");
      }
      if (item.typeId === TypeId.Int && item.bitWidth === 8) return isSignedInt(item) ? DataTypes.vector(size, "int8") : DataTypes.vector(size * 8, "bit");
      const inner = quiverType(item, `${column}[]`);
      if (inner.kind === "vector") refuse(column, t, " (a list of vectors)");
      return DataTypes.list(inner);
    }
    default: return refuse(column, t);
  }
}

function metadataRecord(m: ArrowFieldLike["metadata"]): Record<string, string> | undefined {
  if (m === null || m === undefined) return undefined;
  const entries = m instanceof Map ? [...(m as Map<string, string>).entries()] : Object.entries(m as Record<string, string>);
  return entries.length === 0 ? undefined : Object.fromEntries(entries.map(([k, v]) => [String(k), String(v)]));
}

/** An Arrow field as a Quiver field (field metadata is kept). */
export function quiverField(f: ArrowFieldLike): Field {
  checkColumnName(f.name);
  const metadata = metadataRecord(f.metadata);
  return { name: f.name, type: quiverType(f.type, f.name), nullable: f.nullable !== false, ...(metadata ? { metadata } : {}) };
}

export function quiverSchemaOf(s: ArrowSchemaLike): Schema {
  const seen = new Set<string>();
  const fields = s.fields.map((f) => {
    if (seen.has(f.name)) throw createError("SCHEMA_MISMATCH", `Column "${f.name}" appears twice in the Arrow schema.`, { column: f.name });
    seen.add(f.name);
    return quiverField(f);
  });
  return { fields };
}
