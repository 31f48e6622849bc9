/**
 * Row changes as pure functions from a table state to the next one. Each function checks and builds
 * everything first and only then returns the change, so a failed write records nothing.
 * Updates are delete + append: changed rows move into a new fragment, as in Lance.
 */
import { createError } from "../errors.js";
import { buildColumn, concatColumns, readAll, takeColumn, type Column } from "../data/column.js";
import { rowsToBatch, type RecordBatch, type Row } from "../data/rows.js";
import { findField, type Field, type Schema } from "../data/schema.js";
import { compileExpression, compileFilter } from "../query/filter/index.js";
import { unknownColumn } from "../query/execute.js";
import type { StateChange, TableState } from "./dataset.js";
import { fragmentFromBatch, fragmentSource, selectRows, withDeletions, type Fragment } from "./fragment.js";

export interface WriteProgress {
  readonly rowsDone: number;
  readonly rowsTotal: number;
}

/** Rows are checked and converted in chunks of this many, with a progress report after each. */
const CHUNK_ROWS = 16384;

/** Checks and converts `rows` into one fragment's columns, reporting progress chunk by chunk. */
export function buildFragment(id: number, schema: Schema, rows: readonly Row[], progress?: (p: WriteProgress) => void): Fragment {
  if (!Array.isArray(rows)) rowsToBatch(rows, schema); // throws the typed error for non-arrays
  const batches: RecordBatch[] = [];
  for (let at = 0; at < rows.length || at === 0; at += CHUNK_ROWS) {
    batches.push(rowsToBatch(rows.slice(at, at + CHUNK_ROWS), schema, at));
    progress?.({ rowsDone: Math.min(rows.length, at + CHUNK_ROWS), rowsTotal: rows.length });
    if (rows.length === 0) break;
  }
  if (batches.length === 1) return fragmentFromBatch(id, batches[0]!);
  const columns = new Map<string, Column>();
  for (const f of schema.fields) columns.set(f.name, concatColumns(f.type, batches.map((b) => b.columns.get(f.name)!)));
  return fragmentFromBatch(id, { schema, numRows: rows.length, columns });
}

/** Appends `frag` under the head's next fragment id (another writer may have taken the id it was built with). */
export function appendRows(head: TableState, frag: Fragment, mode: "append" | "overwrite"): StateChange {
  const kept = mode === "overwrite" ? [] : head.fragments;
  const added = frag.id === head.nextFragmentId ? frag : { ...frag, id: head.nextFragmentId };
  return { schema: head.schema, fragments: frag.numRows > 0 ? [...kept, added] : kept, nextFragmentId: head.nextFragmentId + 1 };
}

/** Rows of each fragment that match `predicate` and are not deleted yet. */
function matchingRows(head: TableState, predicate: string): Map<Fragment, Int32Array> {
  const filter = compileFilter(predicate, head.schema);
  const out = new Map<Fragment, Int32Array>();
  for (const frag of head.fragments) {
    const rows = selectRows(frag, filter.evaluate(fragmentSource(frag)));
    if (rows.length > 0) out.set(frag, rows);
  }
  return out;
}

function deleteMatched(head: TableState, matched: Map<Fragment, Int32Array>): Fragment[] {
  const fragments: Fragment[] = [];
  for (const frag of head.fragments) {
    const rows = matched.get(frag);
    if (rows === undefined) { fragments.push(frag); continue; }
    const remove = new Uint8Array(frag.numRows);
    for (const r of rows) remove[r] = 1;
    const next = withDeletions(frag, remove);
    if (next !== null) fragments.push(next);
  }
  return fragments;
}

export function deleteRows(head: TableState, predicate: string): { change: StateChange | null; deleted: number } {
  const matched = matchingRows(head, predicate);
  let deleted = 0;
  for (const rows of matched.values()) deleted += rows.length;
  if (deleted === 0) return { change: null, deleted };
  return { change: { schema: head.schema, fragments: deleteMatched(head, matched), nextFragmentId: head.nextFragmentId }, deleted };
}

export type UpdateSpec =
  | { readonly where?: string; readonly values: Readonly<Record<string, unknown>> }
  | { readonly where?: string; readonly valuesSql: Readonly<Record<string, string>> };

export function updateRows(head: TableState, spec: UpdateSpec): { change: StateChange | null; updated: number } {
  const schema = head.schema;
  const literal = "values" in spec ? spec.values : undefined;
  const sql = "valuesSql" in spec ? spec.valuesSql : undefined;
  const targets = Object.keys(literal ?? sql ?? {});
  if (targets.length === 0) throw createError("INVALID_ARGUMENT", "update() needs at least one column in values or valuesSql.");
  const fields = targets.map((name) => findField(schema, name) ?? unknownColumn(schema, name, "update()"));
  const exprs = sql ? fields.map((f) => compileExpression(sql[f.name]!, schema, { targetType: f.type })) : undefined;

  const matched = spec.where === undefined
    ? new Map(head.fragments.map((f) => [f, selectRows(f)] as const).filter(([, r]) => r.length > 0))
    : matchingRows(head, spec.where);
  let updated = 0;
  const parts: Map<string, Column>[] = [];
  for (const [frag, rows] of matched) {
    updated += rows.length;
    const cols = new Map<string, Column>();
    for (const f of schema.fields) cols.set(f.name, takeColumn(frag.columns.get(f.name)!, rows));
    fields.forEach((f: Field, i) => {
      const values = exprs
        ? readAll(exprs[i]!.evaluate(fragmentSource(frag), rows))
        : new Array<unknown>(rows.length).fill(literal![f.name]);
      cols.set(f.name, buildColumn(f.type, values, f.nullable, { column: f.name, rowOffset: 0 }));
    });
    parts.push(cols);
  }
  if (updated === 0) return { change: null, updated };

  let nextId = head.nextFragmentId;
  const added = parts.map((columns) => fragmentFromBatch(nextId++, { schema, numRows: columns.values().next().value!.length, columns }));
  return { change: { schema, fragments: [...deleteMatched(head, matched), ...added], nextFragmentId: nextId }, updated };
}
