/**
 * Quiver columns → apache-arrow objects (Schema, RecordBatch, Table), a column at a time: each
 * column's typed buffer becomes an Arrow `Data` through `makeData`; only strings are encoded and
 * lists flattened value by value. apache-arrow is an optional peer dependency loaded on the first
 * call (`import("apache-arrow")`), so the core never carries it. Why apache-arrow and not a lighter
 * library: docs/ARROW.md ("Which Arrow library").
 */
import type * as Arrow from "apache-arrow";
import { createError } from "../errors.js";
import { buildColumn, type Column, type NumericArray } from "../data/column.js";
import { providedArrowImport } from "./detect.js";
import { f32ToF16Bits } from "../data/float16.js";
import type { DataType, Field, Schema } from "../data/schema.js";

export type ArrowModule = typeof Arrow;

let loading: Promise<ArrowModule> | undefined;
// Not a literal: bundlers must not follow it (see provideArrow); runtimes that resolve bare names
// at run time (Node, Deno) load it this way when no entry named the import.
const ARROW_PACKAGE = "apache-arrow";

/** apache-arrow, imported once on first use; UNSUPPORTED (saying what to install) when it is missing. */
export function loadArrow(): Promise<ArrowModule> {
  const load = providedArrowImport() ?? (() => import(/* @vite-ignore */ /* webpackIgnore: true */ ARROW_PACKAGE));
  loading ??= load().then(
    (m) => m as ArrowModule,
    (e: unknown) => {
      loading = undefined;
      throw createError("UNSUPPORTED", "Arrow output (toArrow(), schema(), record batches) needs the apache-arrow package: npm install apache-arrow.", {}, e);
    },
  );
  return loading;
}

/** Names LanceDB gives Arrow types that Quiver stores as plain numbers (`_rowid` is UInt64 there). */
const UINT64_COLUMNS = new Set(["_rowid"]);

export function arrowType(a: ArrowModule, type: DataType, name = ""): Arrow.DataType {
  switch (type.kind) {
    case "bool": return new a.Bool();
    case "int":
      if (type.bits === 64 && UINT64_COLUMNS.has(name)) return new a.Uint64();
      return new a.Int(type.signed, type.bits);
    case "float": return new a.Float(type.bits === 16 ? a.Precision.HALF : type.bits === 32 ? a.Precision.SINGLE : a.Precision.DOUBLE);
    case "utf8": return new a.Utf8();
    case "timestamp": return new a.TimestampMillisecond();
    case "list": return new a.List(new a.Field("item", arrowType(a, type.item), true));
    case "vector": {
      const item = type.element === "float32" ? new a.Float32() : type.element === "float16" ? new a.Float16() : type.element === "int8" ? new a.Int8() : new a.Uint8();
      return new a.FixedSizeList(type.element === "bit" ? type.dim / 8 : type.dim, new a.Field("item", item, true));
    }
  }
}

export function arrowField(a: ArrowModule, f: Field): Arrow.Field {
  const metadata = f.metadata ? new Map(Object.entries(f.metadata)) : undefined;
  return new a.Field(f.name, arrowType(a, f.type, f.name), f.nullable, metadata);
}

export function arrowSchema(a: ArrowModule, s: Schema): Arrow.Schema {
  return new a.Schema(s.fields.map((f) => arrowField(a, f)));
}

/** Validity bytes → an Arrow bitmap (LSB first) and the null count. */
function bitmap(validity: Uint8Array | null, n: number): { nullBitmap: Uint8Array | undefined; nullCount: number } {
  if (validity === null) return { nullBitmap: undefined, nullCount: 0 };
  const bits = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (validity[i] === 1) bits[i >> 3]! |= 1 << (i & 7);
    else nulls++;
  }
  return nulls === 0 ? { nullBitmap: undefined, nullCount: 0 } : { nullBitmap: bits, nullCount: nulls };
}

/** One Quiver column as one Arrow `Data`. */
export function arrowData(a: ArrowModule, col: Column, name = ""): Arrow.Data {
  const type = arrowType(a, col.type, name);
  const n = col.length;
  const { nullBitmap, nullCount } = bitmap(col.validity, n);
  const t = col.type;
  const base = { type, length: n, nullCount, nullBitmap } as const;
  switch (t.kind) {
    case "bool": {
      const src = col.data as Uint8Array;
      const bits = new Uint8Array((n + 7) >> 3);
      for (let i = 0; i < n; i++) if (src[i] === 1) bits[i >> 3]! |= 1 << (i & 7);
      return a.makeData({ ...base, type: type as Arrow.Bool, data: bits });
    }
    case "int":
      if (t.bits === 64 && type.typeId === a.Type.Int && (type as Arrow.Int).isSigned === false) {
        const src = col.data as BigInt64Array;
        return a.makeData({ ...base, type: type as Arrow.Uint64, data: new BigUint64Array(src.buffer, src.byteOffset, src.length) });
      }
      return a.makeData({ ...base, type: type as Arrow.Int, data: col.data as NumericArray | BigInt64Array });
    case "float": {
      if (t.bits === 16) {
        const src = col.data as Float32Array;
        const bits = new Uint16Array(n);
        for (let i = 0; i < n; i++) bits[i] = f32ToF16Bits(src[i]!);
        return a.makeData({ ...base, type: type as Arrow.Float16, data: bits });
      }
      return a.makeData({ ...base, type: type as Arrow.Float, data: col.data as Float32Array | Float64Array });
    }
    case "timestamp": {
      const src = col.data as Float64Array;
      const ms = new BigInt64Array(n);
      for (let i = 0; i < n; i++) ms[i] = BigInt(Math.round(src[i]!));
      return a.makeData({ ...base, type: type as Arrow.TimestampMillisecond, data: ms as unknown as Int32Array });
    }
    case "utf8": {
      const encoder = new TextEncoder();
      const strings = col.data as string[];
      const parts = new Array<Uint8Array>(n);
      const valueOffsets = new Int32Array(n + 1);
      let size = 0;
      for (let i = 0; i < n; i++) {
        parts[i] = encoder.encode(strings[i] ?? "");
        size += parts[i]!.length;
        if (size > 0x7fffffff) throw createError("UNSUPPORTED", `Column "${name}": more than 2 GiB of text in one batch; read it in smaller batches.`, { column: name });
        valueOffsets[i + 1] = size;
      }
      const bytes = new Uint8Array(size);
      for (let i = 0; i < n; i++) bytes.set(parts[i]!, valueOffsets[i]!);
      return a.makeData({ ...base, type: type as Arrow.Utf8, valueOffsets, data: bytes });
    }
    case "list": {
      const lists = col.data as (unknown[] | null)[];
      const valueOffsets = new Int32Array(n + 1);
      const items: unknown[] = [];
      for (let i = 0; i < n; i++) {
        const l = lists[i];
        if (l) for (const x of l) items.push(x);
        valueOffsets[i + 1] = items.length;
      }
      const child = arrowData(a, buildColumn(t.item, items, true, { column: `${name}[]`, rowOffset: 0 }));
      return a.makeData({ ...base, type: type as Arrow.List, valueOffsets, child });
    }
    case "vector": {
      const fsl = type as Arrow.FixedSizeList;
      const itemType = fsl.children[0]!.type;
      const values = col.data as NumericArray;
      const child = a.makeData({ type: itemType as Arrow.Float32, length: values.length, nullCount: 0, data: values as Float32Array });
      return a.makeData({ ...base, type: fsl, child });
    }
  }
}

/** Columns (all of `schema`, each `numRows` long) as one Arrow RecordBatch. */
export function arrowBatch(a: ArrowModule, schema: Schema, columns: ReadonlyMap<string, Column>, numRows: number): Arrow.RecordBatch {
  const s = arrowSchema(a, schema);
  const children = schema.fields.map((f) => arrowData(a, columns.get(f.name)!, f.name));
  const struct = a.makeData({ type: new a.Struct(s.fields), length: numRows, nullCount: 0, children });
  return new a.RecordBatch(s, struct);
}

/** Batches of one schema as an Arrow Table (an empty table with the schema when there are none). */
export function arrowTable(a: ArrowModule, schema: Schema, batches: readonly Arrow.RecordBatch[]): Arrow.Table {
  return batches.length === 0 ? new a.Table(arrowSchema(a, schema)) : new a.Table(batches);
}
