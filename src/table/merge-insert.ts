/**
 * `mergeInsert(on)`: upserts keyed by one or more columns, with LanceDB's builder:
 *
 *   table.mergeInsert("id")
 *     .whenMatchedUpdateAll({ where: "target.updated < source.updated" })
 *     .whenNotMatchedInsertAll()
 *     .whenNotMatchedBySourceDelete({ where: "archived = true" })
 *     .execute(rows)
 *
 * Matched target rows that are updated are deleted and their source rows appended (delete +
 * append, as every update). In the `whenMatchedUpdateAll` condition, `target.col` and
 * `source.col` name the two sides; the `whenNotMatchedBySourceDelete` condition sees target columns.
 */
import { createError } from "../errors.js";
import { readValue, takeColumn, type Column, type ColumnSource } from "../data/column.js";
import type { Row } from "../data/rows.js";
import { field as makeField, findField, schema as makeSchema, unknownColumn, type Schema } from "../data/schema.js";
import { compileFilter } from "../filter/index.js";
import type { Dataset, TableState, Transaction } from "../dataset/dataset.js";
import { fragmentSource, ROW_ID_FRAGMENT, selectRows, type Fragment } from "../dataset/fragment.js";
import type { ScalarKey } from "../scalar/keys.js";
import type { ScalarIndexLookup } from "../query/selection.js";
import { deletionParts, rowsToColumns } from "./writes.js";

export { MergeInsertBuilder, type MergePlan, type MergeResult } from "./merge-builder.js";
import type { MergePlan } from "./merge-builder.js";

/** `target.x` / `source.x` outside quotes become quoted identifiers the filter language reads as one name. */
function qualifyNames(sql: string): string {
  let out = "";
  for (let i = 0; i < sql.length;) {
    const c = sql[i]!;
    if (c === "'" || c === '"' || c === "`") {
      let j = i + 1;
      while (j < sql.length && !(sql[j] === c && sql[j + 1] !== c)) j += sql[j] === c ? 2 : 1;
      out += sql.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const m = /^(target|source)\.([A-Za-z_][A-Za-z0-9_]*)/i.exec(sql.slice(i));
    if (m && (i === 0 || !/[A-Za-z0-9_]/.test(sql[i - 1]!))) {
      out += `\`${m[1]!.toLowerCase()}.${m[2]}\``;
      i += m[0].length;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

function keyOf(cols: readonly Column[], row: number): string | null {
  const parts: unknown[] = [];
  for (const c of cols) {
    const v = readValue(c, row);
    if (v === null) return null; // NULL keys never match, as in SQL
    parts.push(v instanceof Date ? v.getTime() : typeof v === "bigint" ? `${v}n` : v);
  }
  return JSON.stringify(parts);
}

/** The scalar-index key of a stored key value when it converts exactly (see scalar/keys.ts), else undefined. */
function indexKey(v: unknown): ScalarKey | null | undefined {
  if (v === null) return null;
  if (typeof v === "string") return v;
  if (typeof v === "number") return Number.isNaN(v) ? undefined : v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : undefined;
  if (v instanceof Date) return v.getTime();
  return undefined;
}

/**
 * Target rows matching source keys through a scalar index on the (single) key column, for the
 * fragments the index covers: fragment id → (row, source row) pairs. Undefined when the index
 * cannot answer (no index, several key columns, a key that does not convert exactly).
 */
async function matchesByIndex(
  head: TableState, plan: MergePlan, source: ReadonlyMap<string, Column>, n: number, scalar: ScalarIndexLookup | undefined,
): Promise<{ covered: Set<number>; pairs: Map<number, [number, number][]> } | undefined> {
  if (plan.on.length !== 1 || plan.deleteNotMatchedBySource || scalar === undefined) return undefined;
  const column = plan.on[0]!;
  const access = await scalar([column]);
  const index = access?.resolve(column);
  if (access === undefined || index === undefined || index.labels) return undefined;
  const byId = new Map(head.fragments.filter((f) => access.fragments.has(f.id)).map((f) => [f.id, f] as const));
  const keys = source.get(column)!;
  const pairs = new Map<number, [number, number][]>();
  for (let i = 0; i < n; i++) {
    const key = indexKey(readValue(keys, i));
    if (key === undefined) return undefined;
    if (key === null) continue; // NULL keys never match, as in SQL
    for (const a of await index.lookup.equals(key)) {
      const frag = byId.get(Math.floor(a / ROW_ID_FRAGMENT));
      const r = a % ROW_ID_FRAGMENT;
      if (frag === undefined || (frag.deletions !== null && frag.deletions[r] === 1)) continue;
      let list = pairs.get(frag.id);
      if (list === undefined) pairs.set(frag.id, (list = []));
      list.push([r, i]);
    }
  }
  return { covered: new Set(byId.keys()), pairs };
}

export async function mergeTransaction(
  ds: Dataset, head: TableState, plan: MergePlan, rows: readonly Row[], scalar?: ScalarIndexLookup,
): Promise<{ tx: Transaction | null; inserted: number; updated: number; deleted: number }> {
  const schema = head.schema;
  if (plan.on.length === 0) throw createError("INVALID_ARGUMENT", "mergeInsert() needs at least one key column.");
  for (const k of plan.on) if (!findField(schema, k)) unknownColumn(schema, k, "mergeInsert()");
  if (!plan.updateMatched && !plan.insertNotMatched && !plan.deleteNotMatchedBySource) {
    throw createError("INVALID_ARGUMENT", "mergeInsert() does nothing: add whenMatchedUpdateAll(), whenNotMatchedInsertAll() or whenNotMatchedBySourceDelete().");
  }
  const source = await rowsToColumns(schema, rows);
  const sourceKeys = plan.on.map((k) => source.get(k)!);
  const bySourceKey = new Map<string, number>();
  for (let i = 0; i < rows.length; i++) {
    const key = keyOf(sourceKeys, i);
    if (key === null) continue;
    if (bySourceKey.has(key)) throw createError("INVALID_ARGUMENT", `mergeInsert(): source rows ${bySourceKey.get(key)} and ${i} have the same key ${key}; keys must be unique.`, { row: i });
    bySourceKey.set(key, i);
  }

  const matchWhere = plan.updateMatched?.where;
  const sideSchema: Schema | undefined = matchWhere === undefined ? undefined : makeSchema(
    ["target", "source"].flatMap((side) => schema.fields.map((f) => makeField(`${side}.${f.name}`, f.type, true))),
  );
  const matchFilter = matchWhere === undefined ? undefined : compileFilter(qualifyNames(matchWhere), sideSchema!);
  const deleteFilter = plan.deleteNotMatchedBySource?.where === undefined ? undefined : compileFilter(plan.deleteNotMatchedBySource.where, schema);
  // With a scalar index on the key, fragments it covers are matched by lookups (their key column
  // is not read); the rest (rows added since the build, or every fragment) by comparing keys.
  const indexed = await matchesByIndex(head, plan, source, rows.length, scalar);
  const scanned = head.fragments.filter((f) => !indexed?.covered.has(f.id));
  const targetColumns = (matchFilter?.columns ?? []).filter((c) => c.startsWith("target.")).map((c) => c.slice(7));
  await ds.ensureColumns({ ...head, fragments: scanned }, [...plan.on, ...(deleteFilter?.columns ?? []), ...targetColumns]);
  const matchedFrags = head.fragments.filter((f) => indexed?.pairs.has(f.id));
  if (targetColumns.length > 0 && matchedFrags.length > 0) await ds.ensureColumns({ ...head, fragments: matchedFrags }, targetColumns);

  const matchedSource = new Uint8Array(rows.length);
  const updatedSource: number[] = [];
  const removals = new Map<Fragment, number[]>();
  let deleted = 0;
  for (const frag of head.fragments) {
    const pairs: [number, number][] = [];
    const remove: number[] = [];
    if (indexed?.covered.has(frag.id)) {
      for (const [r, s] of indexed.pairs.get(frag.id) ?? []) {
        matchedSource[s] = 1;
        if (plan.updateMatched) pairs.push([r, s]);
      }
    }
    const keyCols = indexed?.covered.has(frag.id) ? [] : plan.on.map((k) => frag.columns.get(k)!);
    const live = indexed?.covered.has(frag.id) ? new Int32Array(0) : selectRows(frag);
    const delMask = deleteFilter?.evaluate(fragmentSource(frag));
    for (const r of live) {
      const key = keyOf(keyCols, r);
      const s = key === null ? undefined : bySourceKey.get(key);
      if (s !== undefined) {
        matchedSource[s] = 1;
        if (plan.updateMatched) pairs.push([r, s]);
      } else if (plan.deleteNotMatchedBySource && (delMask === undefined || delMask[r] === 1)) {
        remove.push(r);
        deleted++;
      }
    }
    let accepted = pairs;
    if (matchFilter && pairs.length > 0) {
      const t = pairs.map(([r]) => r);
      const s = pairs.map(([, x]) => x);
      const cache = new Map<string, Column>();
      const side: ColumnSource = {
        numRows: pairs.length,
        column(name: string): Column {
          let c = cache.get(name);
          if (c === undefined) {
            const [which, col] = [name.slice(0, 6), name.slice(7)];
            c = which === "target" ? takeColumn(frag.columns.get(col)!, t) : takeColumn(source.get(col)!, s);
            cache.set(name, c);
          }
          return c;
        },
      };
      const mask = matchFilter.evaluate(side);
      accepted = pairs.filter((_, i) => mask[i] === 1);
    }
    for (const [r, s] of accepted) { remove.push(r); updatedSource.push(s); }
    if (remove.length > 0) removals.set(frag, remove);
  }

  const inserted: number[] = [];
  if (plan.insertNotMatched) for (let i = 0; i < rows.length; i++) if (matchedSource[i] === 0) inserted.push(i);
  const appended = [...updatedSource, ...inserted];
  if (appended.length === 0 && removals.size === 0) return { tx: null, inserted: 0, updated: 0, deleted: 0 };

  const { replaced, removed } = await deletionParts(ds, removals);
  const added: Fragment[] = [];
  if (appended.length > 0) {
    const cols = new Map(schema.fields.map((f) => [f.name, takeColumn(source.get(f.name)!, appended)] as const));
    added.push(await ds.writeFragment(schema, cols, appended.length));
  }
  return {
    tx: { type: "merge", readVersion: head.version, replaced, removed, added },
    inserted: inserted.length, updated: updatedSource.length, deleted,
  };
}

