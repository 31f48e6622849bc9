/**
 * Query results (rows) as columns for Arrow output. A selected table column keeps the table's type;
 * the columns a search adds take LanceDB's Arrow types (`_distance`, `_score`, `_relevance_score`:
 * Float32; `_rowid`: UInt64; `_query_index`: Int32); a computed column (`select({ x: "a * 2" })`)
 * is typed from its values as rows are, and a computed column of only nulls is Utf8.
 */
import { buildColumn, takeColumn, type Column } from "../data/column.js";
import { inferSchema, type Row } from "../data/rows.js";
import { DataTypes, findField, type DataType, type Field, type Schema } from "../data/schema.js";

const ADDED_COLUMNS: Readonly<Record<string, DataType>> = {
  _distance: DataTypes.float32(),
  _score: DataTypes.float32(),
  _relevance_score: DataTypes.float32(),
  _rowid: DataTypes.int64(),
  _query_index: DataTypes.int32(),
};

function inferColumnType(name: string, values: readonly unknown[]): DataType {
  if (values.every((v) => v === null || v === undefined)) return DataTypes.utf8();
  return inferSchema([{ [name]: values.find((v) => v !== null && v !== undefined) }]).fields[0]!.type;
}

/**
 * The columns of `rows` (named `names`, in that order), typed as above. Every value is checked as a
 * write would check it; a selected column whose values no longer fit the table's type is re-inferred.
 */
export function resultColumns(rows: readonly Row[], names: readonly string[], table: Schema): { schema: Schema; columns: Map<string, Column> } {
  const fields: Field[] = [];
  const columns = new Map<string, Column>();
  for (const name of names) {
    const values = rows.map((r) => r[name]);
    const known = ADDED_COLUMNS[name] ?? findField(table, name)?.type;
    let column: Column | undefined;
    if (known !== undefined) {
      try {
        column = buildColumn(known, values, true, { column: name, rowOffset: 0 });
      } catch {
        column = undefined; // a computed column that reuses a table column's name
      }
    }
    column ??= buildColumn(inferColumnType(name, values), values, true, { column: name, rowOffset: 0 });
    fields.push({ name, type: column.type, nullable: true });
    columns.set(name, column);
  }
  return { schema: { fields }, columns };
}

/** The columns of `rows` typed as `schema` says (a later page of results whose first page fixed the schema). */
export function columnsAs(rows: readonly Row[], schema: Schema): Map<string, Column> {
  return new Map(schema.fields.map((f) => [f.name, buildColumn(f.type, rows.map((r) => r[f.name]), true, { column: f.name, rowOffset: 0 })] as const));
}

/** Rows `at` … `at + n` of every column. */
export function sliceColumns(columns: ReadonlyMap<string, Column>, at: number, n: number): Map<string, Column> {
  const range = new Int32Array(n);
  for (let i = 0; i < n; i++) range[i] = at + i;
  return new Map([...columns].map(([name, col]) => [name, takeColumn(col, range)] as const));
}
