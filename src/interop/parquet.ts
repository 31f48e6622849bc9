/**
 * Parquet files → Quiver column batches, one row group at a time, with hyparquet (loaded on first
 * use). Only the footer and the column chunks of the columns asked for are read, so over HTTP a
 * column subset fetches those byte ranges and nothing else.
 *
 * Types: a file written from Arrow (pyarrow, LanceDB, Polars, DuckDB with its Arrow writer) carries
 * its Arrow schema in the key/value metadata `ARROW:schema`; when apache-arrow can decode it, the
 * Arrow types decide (FixedSizeList vectors stay vectors, field metadata and the schema metadata —
 * embedding configs — are kept). Otherwise the Parquet types map as in docs/INTEROP.md, and a
 * list of floats becomes a vector column when it is named in `vectorColumns` (default `vector`).
 */
import type { FileMetaData, SchemaTree } from "hyparquet";
import { QuiverError, createError } from "../errors.js";
import type { ColumnBatch } from "../arrow/detect.js";
import { quiverSchemaOf } from "../arrow/types.js";
import { buildColumn, type Column } from "../data/column.js";
import { DataTypes, type DataType, type Field, type Schema } from "../data/schema.js";
import { provideApacheArrow } from "../arrow/apache-arrow.js";
import { loadArrow } from "../arrow/to-arrow.js";
import type { ByteSource } from "./byte-source.js";

export interface ParquetReadOptions {
  /** Top-level columns to read (default: all), in the order given. */
  columns?: readonly string[];
  /** Lists of floats read as vector columns when the file has no Arrow schema (default `["vector"]`). */
  vectorColumns?: readonly string[];
  /** Decompressors for codecs hyparquet lacks (it reads uncompressed and Snappy): `hyparquet-compressors`. */
  compressors?: Record<string, (input: Uint8Array, outputLength: number) => Uint8Array>;
}

export interface ParquetFile {
  readonly numRows: number;
  readonly rowGroups: number;
  readonly schema: Schema;
  readonly metadata: Readonly<Record<string, string>>;
  readonly batches: AsyncGenerator<ColumnBatch>;
}

/** Bytes read from the end of the file for its footer (a larger footer takes one more read). */
const FOOTER_FETCH = 64 * 1024;

type Hyparquet = typeof import("hyparquet");
let loading: Promise<Hyparquet> | undefined;

function loadHyparquet(): Promise<Hyparquet> {
  loading ??= import("hyparquet").catch((e: unknown) => {
    loading = undefined;
    throw createError("UNSUPPORTED", "Parquet import needs the hyparquet package (a dependency of quiverdb): npm install hyparquet.", {}, e);
  });
  return loading;
}

function corrupt(source: ByteSource, e: unknown): QuiverError {
  if (e instanceof QuiverError) return e;
  return createError("CORRUPT_FILE", `${source.name} is not a readable Parquet file: ${(e as Error)?.message ?? String(e)}`, { file: source.name }, e);
}

function refuse(column: string, why: string): never {
  throw createError("SCHEMA_MISMATCH", `Parquet column "${column}": ${why} cannot be stored in a Quiver table. See docs/INTEROP.md for the types that map.`, { column });
}

/** The Quiver type of a Parquet leaf column. */
function leafType(node: SchemaTree, column: string): DataType {
  const e = node.element;
  const logical = e.logical_type;
  const converted = e.converted_type;
  switch (e.type) {
    case "BOOLEAN": return DataTypes.bool();
    case "INT32":
      if (logical?.type === "DATE" || converted === "DATE") return DataTypes.timestamp();
      if (logical?.type === "INTEGER") {
        const bits = logical.bitWidth as 8 | 16 | 32;
        return { kind: "int", bits, signed: logical.isSigned };
      }
      if (converted === "INT_8") return DataTypes.int8();
      if (converted === "INT_16") return DataTypes.int16();
      if (converted === "UINT_8") return DataTypes.uint8();
      if (converted === "UINT_16") return DataTypes.uint16();
      if (converted === "UINT_32") return DataTypes.uint32();
      if (logical?.type === "DECIMAL" || converted === "DECIMAL") return refuse(column, "DECIMAL");
      if (logical?.type === "TIME" || converted === "TIME_MILLIS") return refuse(column, "TIME");
      return DataTypes.int32();
    case "INT64":
      if (logical?.type === "TIMESTAMP" || converted === "TIMESTAMP_MILLIS" || converted === "TIMESTAMP_MICROS") return DataTypes.timestamp();
      if (logical?.type === "DECIMAL" || converted === "DECIMAL") return refuse(column, "DECIMAL");
      if (logical?.type === "TIME" || converted === "TIME_MICROS") return refuse(column, "TIME");
      // UINT64 is stored as int64, as from Arrow: values of 2^63 or more are refused when read.
      return DataTypes.int64();
    case "INT96": return DataTypes.timestamp();
    case "FLOAT": return DataTypes.float32();
    case "DOUBLE": return DataTypes.float64();
    case "BYTE_ARRAY":
      if (logical?.type === "STRING" || logical?.type === "ENUM" || logical?.type === "JSON" || converted === "UTF8" || converted === "ENUM" || converted === "JSON") return DataTypes.utf8();
      return refuse(column, "BYTE_ARRAY without a string type (binary)");
    case "FIXED_LEN_BYTE_ARRAY":
      if (logical?.type === "FLOAT16") return DataTypes.float16();
      return refuse(column, `FIXED_LEN_BYTE_ARRAY (${logical?.type ?? converted ?? "binary"})`);
    default: return refuse(column, `type ${String(e.type)}`);
  }
}

/** The item node of a LIST group (the three-level layout, and the legacy two-level one). */
function listItem(node: SchemaTree): SchemaTree {
  const repeated = node.children[0];
  if (repeated === undefined || node.children.length !== 1) refuse(node.element.name, "a LIST without one repeated child");
  if (repeated.children.length === 1 && repeated.element.repetition_type === "REPEATED") return repeated.children[0]!;
  return repeated;
}

function isList(node: SchemaTree): boolean {
  return node.element.logical_type?.type === "LIST" || node.element.converted_type === "LIST";
}

/** The Quiver type of a top-level Parquet column. */
function columnType(node: SchemaTree, column: string): DataType {
  if (node.children.length === 0) {
    if (node.element.repetition_type === "REPEATED") return DataTypes.list(leafType(node, column));
    return leafType(node, column);
  }
  if (isList(node)) {
    const item = listItem(node);
    const inner = columnType(item, `${column}[]`);
    if (inner.kind === "vector") refuse(column, "a list of vectors");
    return DataTypes.list(inner);
  }
  return refuse(column, node.element.logical_type?.type === "MAP" || node.element.converted_type === "MAP" ? "MAP" : "a struct (group)");
}

/** The Arrow schema a writer from Arrow stored in `ARROW:schema` (an IPC schema message, base64), if it can be read. */
async function storedArrowSchema(meta: FileMetaData): Promise<{ schema: Schema; metadata: Record<string, string> } | undefined> {
  const stored = meta.key_value_metadata?.find((kv) => kv.key === "ARROW:schema")?.value;
  if (!stored) return undefined;
  try {
    provideApacheArrow();
    const a = await loadArrow();
    const binary = atob(stored);
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const reader = a.RecordBatchReader.from(bytes);
    reader.open();
    const metadata = Object.fromEntries(reader.schema.metadata);
    return { schema: quiverSchemaOf(reader.schema), metadata };
  } catch {
    return undefined; // no apache-arrow, or a schema it cannot read: fall back to the Parquet types
  }
}

function floatList(t: DataType): boolean {
  return t.kind === "list" && t.item.kind === "float";
}

/** Opens a Parquet file: its footer is read now; `batches` reads one row group per batch. */
export async function openParquet(source: ByteSource, options: ParquetReadOptions = {}): Promise<ParquetFile> {
  const hp = await loadHyparquet();
  // The file's tail, read once for the footer, also serves the column chunks of the last row group
  // that lie in it, so no byte is fetched twice.
  const tailStart = Math.max(0, source.size - FOOTER_FETCH);
  let tail: Uint8Array | undefined;
  const read = async (start: number, end: number): Promise<Uint8Array> => {
    if (tail === undefined || end <= tailStart) return source.read(start, end - start);
    if (start >= tailStart) return tail.subarray(start - tailStart, end - tailStart);
    const head = await source.read(start, tailStart - start);
    const out = new Uint8Array(end - start);
    out.set(head);
    out.set(tail.subarray(0, end - tailStart), head.length);
    return out;
  };
  tail = await source.read(tailStart, source.size - tailStart);
  const file = {
    byteLength: source.size,
    slice: async (start: number, end?: number): Promise<ArrayBuffer> => {
      const bytes = await read(start, end ?? source.size);
      if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
      // A view into a larger buffer (a Node Buffer's slice shares its memory): copied out.
      const copy = new Uint8Array(bytes.byteLength);
      copy.set(bytes);
      return copy.buffer;
    },
  };
  let meta: FileMetaData;
  let tree: SchemaTree;
  try {
    meta = await hp.parquetMetadataAsync(file, { initialFetchSize: source.size - tailStart });
    tree = hp.parquetSchema(meta);
  } catch (e) {
    throw corrupt(source, e);
  }
  const names = tree.children.map((c) => c.element.name);
  const wanted = options.columns ? [...options.columns] : names;
  for (const c of wanted) {
    if (!names.includes(c)) throw createError("UNKNOWN_COLUMN", `${source.name} has no column "${c}" (columns: ${names.join(", ")}).`, { column: c });
  }
  const arrow = await storedArrowSchema(meta);
  const vectorNames = new Set(options.vectorColumns ?? ["vector"]);
  const fields: Field[] = wanted.map((name) => {
    const fromArrow = arrow?.schema.fields.find((f) => f.name === name);
    if (fromArrow) return fromArrow;
    const node = tree.children.find((c) => c.element.name === name)!;
    return { name, type: columnType(node, name), nullable: node.element.repetition_type !== "REQUIRED" };
  });
  const kv = Object.fromEntries((meta.key_value_metadata ?? []).filter((e) => e.key !== "ARROW:schema").map((e) => [e.key, e.value ?? ""]));
  const metadata = { ...kv, ...arrow?.metadata };
  const numRows = Number(meta.num_rows);

  let schema: Schema = { fields };
  async function* batches(): AsyncGenerator<ColumnBatch> {
    let groupStart = 0;
    for (const group of meta.row_groups) {
      const rows = Number(group.num_rows);
      const parts = new Map<string, { rowStart: number; values: ArrayLike<unknown> }[]>(wanted.map((c) => [c, []]));
      try {
        await hp.parquetRead({
          file, metadata: meta, columns: wanted, rowStart: groupStart, rowEnd: groupStart + rows,
          ...(options.compressors ? { compressors: options.compressors } : {}),
          onChunk: (chunk) => parts.get(chunk.columnName)?.push({ rowStart: chunk.rowStart, values: chunk.columnData }),
        });
      } catch (e) {
        throw corrupt(source, e);
      }
      // Vector columns named by the caller get their dimension from the first row that has one.
      if (groupStart === 0) {
        schema = {
          fields: schema.fields.map((f) => {
            if (!vectorNames.has(f.name) || !floatList(f.type)) return f;
            const first = valuesOf(parts.get(f.name)!, 0, rows).find((v) => v !== null && v !== undefined) as ArrayLike<number> | undefined;
            return first && first.length > 0 ? { ...f, type: DataTypes.vector(first.length) } : f;
          }),
        };
      }
      const columns = new Map<string, Column>();
      for (const f of schema.fields) {
        const values = valuesOf(parts.get(f.name)!, groupStart, groupStart + rows);
        if (values.length !== rows) throw createError("CORRUPT_FILE", `${source.name}: column "${f.name}" of a row group has ${values.length} values, the row group ${rows} rows.`, { file: source.name, column: f.name });
        columns.set(f.name, buildColumn(f.type, values, f.nullable, { column: f.name, rowOffset: groupStart }));
      }
      yield { kind: "quiver.columns", schema, numRows: rows, columns, ...(Object.keys(metadata).length > 0 ? { metadata } : {}) };
      groupStart += rows;
    }
  }
  return { numRows, rowGroups: meta.row_groups.length, get schema() { return schema; }, metadata, batches: batches() };
}

/** Rows `from` … `to` of a column, from the chunks hyparquet handed over (in any order). */
function valuesOf(chunks: { rowStart: number; values: ArrayLike<unknown> }[], from: number, to: number): unknown[] {
  const out: unknown[] = [];
  for (const c of [...chunks].sort((x, y) => x.rowStart - y.rowStart)) {
    const lo = Math.max(from, c.rowStart);
    const hi = Math.min(to, c.rowStart + c.values.length);
    for (let r = lo; r < hi; r++) out.push(c.values[r - c.rowStart]);
  }
  return out;
}
