/**
 * Recognising Arrow input by its shape (never `instanceof`, so objects from any apache-arrow version
 * and from @uwdata/flechette are taken), and the on-demand loader of the conversion code. This file
 * is all of src/arrow/ the core carries; the conversions load with the first Arrow call.
 */
import type { Column } from "../data/column.js";
import type { Schema } from "../data/schema.js";

/** The conversion modules (from-arrow, to-arrow, results), loaded on first use. */
export const arrowConversions = (): Promise<typeof import("./convert.js")> => import("./convert.js");

let providedArrow: (() => Promise<unknown>) | undefined;

/**
 * Names how this thread imports apache-arrow (./apache-arrow.ts, called by the entries a page uses).
 * The worker script never calls it, so no bundler puts apache-arrow into it: the worker only sends
 * and takes plain columns, and its client builds the Arrow objects on the page.
 */
export function provideArrow(load: () => Promise<unknown>): void {
  providedArrow ??= load;
}

/** The apache-arrow import named by provideArrow(), if one was. */
export const providedArrowImport = (): (() => Promise<unknown>) | undefined => providedArrow;

/** The properties of an Arrow type that Quiver reads. */
export interface ArrowTypeLike {
  readonly typeId: number;
  readonly bitWidth?: number;
  readonly isSigned?: boolean;
  readonly signed?: boolean;
  readonly precision?: number;
  readonly unit?: number;
  readonly listSize?: number;
  readonly stride?: number;
  readonly children?: readonly ArrowFieldLike[] | null;
  readonly dictionary?: ArrowTypeLike;
  readonly indices?: ArrowTypeLike;
}

export interface ArrowFieldLike {
  readonly name: string;
  readonly type: ArrowTypeLike;
  readonly nullable?: boolean;
  readonly metadata?: ReadonlyMap<string, string> | Readonly<Record<string, string>> | null;
}

export interface ArrowSchemaLike {
  readonly fields: readonly ArrowFieldLike[];
  readonly metadata?: ReadonlyMap<string, string> | Readonly<Record<string, string>> | null;
}

export function isArrowType(value: unknown): value is ArrowTypeLike {
  return typeof value === "object" && value !== null && typeof (value as { typeId?: unknown }).typeId === "number";
}

export function isArrowField(value: unknown): value is ArrowFieldLike {
  return typeof value === "object" && value !== null && typeof (value as ArrowFieldLike).name === "string" && isArrowType((value as ArrowFieldLike).type);
}

/** An Arrow schema: fields whose types carry a `typeId` (a Quiver schema's types carry `kind`). */
export function isArrowSchema(value: unknown): value is ArrowSchemaLike {
  if (typeof value !== "object" || value === null) return false;
  const fields = (value as { fields?: unknown }).fields;
  return Array.isArray(fields) && fields.every(isArrowField);
}

/** An apache-arrow Table or RecordBatch, or a flechette Table: a schema and columns by position. */
export interface ArrowTabular {
  readonly schema: ArrowSchemaLike;
  readonly numRows: number;
  getChildAt(index: number): { readonly data?: readonly unknown[] } | null;
}

export function isArrowTabular(value: unknown): value is ArrowTabular {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Partial<ArrowTabular>;
  return isArrowSchema(v.schema) && typeof v.getChildAt === "function" && typeof v.numRows === "number";
}

/**
 * A stream of batches (an async iterable, read one batch at a time): `createTable` and `add` write it
 * fragment by fragment and commit once, so it never sits whole in memory.
 */
export function isBatchStream(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !isArrowTabular(value) && !isColumnBatch(value)
    && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";
}

/** Arrow data Quiver takes: a table, an array of record batches, or an async iterable of them. */
export function isArrowData(value: unknown): boolean {
  if (isArrowTabular(value) || isColumnBatch(value)) return true;
  if (Array.isArray(value)) return value.length > 0 && value.every(isArrowTabular);
  return typeof value === "object" && value !== null && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function"
    && !Array.isArray(value);
}

/**
 * Columns converted from Arrow, with the schema they were read as. Plain data (a Map of typed arrays),
 * so the worker client converts Arrow on the page and posts this to the worker.
 */
export interface ColumnBatch {
  readonly kind: "quiver.columns";
  readonly schema: Schema;
  readonly numRows: number;
  readonly columns: Map<string, Column>;
  /** The Arrow schema's own key/value metadata (LanceDB keeps `embedding_functions` there). */
  readonly metadata?: Readonly<Record<string, string>>;
}

export function isColumnBatch(value: unknown): value is ColumnBatch {
  return typeof value === "object" && value !== null && (value as ColumnBatch).kind === "quiver.columns" && (value as ColumnBatch).columns instanceof Map;
}

