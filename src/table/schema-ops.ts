/**
 * Schema evolution without rewriting data: a new column is a new data file per fragment, a rename
 * or a drop only changes the manifest (each data file maps table column names to the names it
 * stores), and a type change rewrites just that column. Each returns a transaction for
 * `Dataset.commit`; all are exclusive operations (they conflict with any concurrent commit).
 */
import { createError } from "../errors.js";
import { buildColumn, readAll, type Column } from "../data/column.js";
import { checkColumnName, field as makeField, findField, schema as makeSchema, unknownColumn, type DataType, type Field } from "../data/schema.js";
import { compileExpression } from "../filter/index.js";
import type { Dataset, TableState, Transaction } from "../dataset/dataset.js";
import { fragmentSource, type DataFile, type Fragment } from "../dataset/fragment.js";

/** A column computed from a SQL expression over each row, e.g. `{ name: "double_price", valueSql: "price * 2" }`. */
export interface AddColumnsSql {
  name: string;
  valueSql: string;
}

export interface ColumnAlteration {
  /** The column to change. */
  path: string;
  rename?: string;
  nullable?: boolean;
  /** A new type; values are converted and must fit (e.g. float64 → float32, float32 vectors → float16). */
  dataType?: DataType;
}

function checkNewName(state: TableState, name: unknown, taken: Set<string>): string {
  if (typeof name !== "string" || name.length === 0) throw createError("INVALID_ARGUMENT", "A column needs a non-empty string name.");
  checkColumnName(name);
  if (findField(state.schema, name) || taken.has(name)) {
    throw createError("SCHEMA_MISMATCH", `Column "${name}" already exists.`, { column: name });
  }
  taken.add(name);
  return name;
}

/** The fragment with its data files and loaded columns changed by `edit`. */
function withFiles(frag: Fragment, files: DataFile[], columns: Map<string, Column>): Fragment {
  return { ...frag, files: files.filter((d) => Object.keys(d.columns).length > 0), columns };
}

export async function addColumnsTransaction(ds: Dataset, head: TableState, specs: readonly (AddColumnsSql | Field)[]): Promise<Transaction> {
  if (!Array.isArray(specs) || specs.length === 0) throw createError("INVALID_ARGUMENT", "addColumns() takes a non-empty array of { name, valueSql } or fields.");
  const taken = new Set<string>();
  const plans = specs.map((spec) => {
    const name = checkNewName(head, (spec as { name?: unknown }).name, taken);
    if ("valueSql" in spec) {
      if (typeof spec.valueSql !== "string") throw createError("INVALID_ARGUMENT", `Column "${name}": valueSql must be a SQL string.`, { column: name });
      const expr = compileExpression(spec.valueSql, head.schema);
      return { field: makeField(name, expr.type, true), expr };
    }
    if (!("type" in spec)) throw createError("INVALID_ARGUMENT", `Column "${name}": give valueSql or a field type.`, { column: name });
    if (!spec.nullable) throw createError("SCHEMA_MISMATCH", `Column "${name}" would be all nulls, so it must be nullable.`, { column: name });
    return { field: makeField(name, spec.type, true), expr: undefined };
  });
  const schema = makeSchema([...head.schema.fields, ...plans.map((p) => p.field)]);
  await ds.ensureColumns(head, plans.flatMap((p) => p.expr?.columns ?? []));
  const replaced: Fragment[] = [];
  for (const frag of head.fragments) {
    const added = new Map<string, Column>();
    for (const p of plans) {
      added.set(p.field.name, p.expr
        ? p.expr.evaluate(fragmentSource(frag))
        : buildColumn(p.field.type, new Array<null>(frag.numRows).fill(null), true, { column: p.field.name, rowOffset: 0 }));
    }
    const file = await ds.writeDataFile(plans.map((p) => p.field), added, frag.numRows);
    replaced.push(withFiles(frag, [...frag.files, file], new Map([...frag.columns, ...added])));
  }
  return { type: "add_columns", readVersion: head.version, schema, replaced };
}

/** Converts a column to `type`, checking every value fits. */
function convertColumn(col: Column, type: DataType, nullable: boolean, name: string): Column {
  const values = readAll(col).map((v) => {
    if (v === null) return null;
    if (type.kind === "int" && type.bits === 64 && typeof v === "number") return Number.isInteger(v) ? BigInt(v) : v;
    if (type.kind !== "int" && typeof v === "bigint") return Number(v);
    if (type.kind === "utf8" && typeof v !== "string") return typeof v === "object" ? v : String(v);
    return v;
  });
  return buildColumn(type, values, nullable, { column: name, rowOffset: 0 });
}

export async function alterColumnsTransaction(ds: Dataset, head: TableState, alterations: readonly ColumnAlteration[]): Promise<Transaction> {
  if (!Array.isArray(alterations) || alterations.length === 0) throw createError("INVALID_ARGUMENT", "alterColumns() takes a non-empty array of { path, rename?, nullable?, dataType? }.");
  let fields = [...head.schema.fields];
  const taken = new Set<string>();
  const renames = new Map<string, string>();
  const retyped: Field[] = [];
  for (const a of alterations) {
    const i = fields.findIndex((f) => f.name === a?.path);
    if (i < 0) unknownColumn(head.schema, String(a?.path), "alterColumns()");
    let f = fields[i]!;
    if (a.dataType !== undefined) {
      f = makeField(f.name, a.dataType, f.nullable);
      makeSchema([f]); // validates the type
      retyped.push(f);
    }
    if (a.nullable !== undefined) f = makeField(f.name, f.type, a.nullable);
    if (a.rename !== undefined) {
      const to = checkNewName(head, a.rename, taken);
      renames.set(f.name, to);
    }
    fields[i] = f;
  }
  const tightened = fields.filter((f, i) => !f.nullable && head.schema.fields[i]!.nullable).map((f) => f.name);
  await ds.ensureColumns(head, [...retyped.map((f) => f.name), ...tightened]);

  const replaced: Fragment[] = [];
  for (const frag of head.fragments) {
    let files = [...frag.files];
    const columns = new Map(frag.columns);
    for (const name of tightened) {
      if (columns.get(name)!.validity?.includes(0)) {
        throw createError("SCHEMA_MISMATCH", `Column "${name}" holds nulls, so it cannot be made non-nullable.`, { column: name });
      }
    }
    if (retyped.length > 0) {
      const converted = new Map(retyped.map((f) => [f.name, convertColumn(columns.get(f.name)!, f.type, fields.find((x) => x.name === f.name)!.nullable, f.name)] as const));
      const file = await ds.writeDataFile(retyped, converted, frag.numRows);
      files = files.map((d) => ({ ...d, columns: Object.fromEntries(Object.entries(d.columns).filter(([k]) => !converted.has(k))) }));
      files.push(file);
      for (const [k, c] of converted) columns.set(k, c);
    }
    if (renames.size > 0) {
      files = files.map((d) => ({ ...d, columns: Object.fromEntries(Object.entries(d.columns).map(([k, v]) => [renames.get(k) ?? k, v])) }));
      for (const [from, to] of renames) {
        const c = columns.get(from);
        columns.delete(from);
        if (c !== undefined) columns.set(to, c);
      }
    }
    replaced.push(withFiles(frag, files, columns));
  }
  fields = fields.map((f) => (renames.has(f.name) ? makeField(renames.get(f.name)!, f.type, f.nullable) : f));
  return { type: "alter_columns", readVersion: head.version, schema: makeSchema(fields), replaced };
}

export function dropColumnsTransaction(head: TableState, names: readonly string[]): Transaction {
  if (!Array.isArray(names) || names.length === 0) throw createError("INVALID_ARGUMENT", "dropColumns() takes a non-empty array of column names.");
  for (const n of names) if (!findField(head.schema, n)) unknownColumn(head.schema, n, "dropColumns()");
  const drop = new Set(names);
  const fields = head.schema.fields.filter((f) => !drop.has(f.name));
  if (fields.length === 0) throw createError("INVALID_ARGUMENT", "dropColumns() cannot drop every column; drop the table instead.");
  for (const idx of head.indices) {
    if (idx.columns.some((c) => drop.has(c))) {
      throw createError("INVALID_ARGUMENT", `Column ${idx.columns.join(", ")} has index "${idx.name}"; drop the index first.`);
    }
  }
  const replaced = head.fragments.map((frag) => withFiles(
    frag,
    frag.files.map((d) => ({ ...d, columns: Object.fromEntries(Object.entries(d.columns).filter(([k]) => !drop.has(k))) })),
    new Map([...frag.columns].filter(([k]) => !drop.has(k))),
  ));
  return { type: "drop_columns", readVersion: head.version, schema: makeSchema(fields), replaced };
}
