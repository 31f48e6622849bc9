/**
 * Scalar indexes (BTREE, BITMAP) as part of a table: one file per index named by the manifest, built
 * from the live rows of the fragments it covers. Rows of fragments added since the build are not in
 * it (callers evaluate them by scan); `optimize()` rebuilds it over every fragment.
 */
import { createError, isQuiverError } from "../errors.js";
import { readValue } from "../data/column.js";
import { findField, type DataType } from "../data/schema.js";
import type { ScalarIndexConfig } from "../indexes/config.js";
import { BitmapIndex, buildBitmap } from "../scalar/bitmap.js";
import { BTreeIndex, buildBTree, DEFAULT_PAGE_ROWS } from "../scalar/btree.js";
import { buildFm, FmIndex } from "../scalar/fm.js";
import type { KeyType, ScalarKey } from "../scalar/keys.js";
import { numericKeyOf, stringKeyOf, type IndexedColumn } from "../scalar/mask.js";
import { randomId } from "../storage/envelope.js";
import { fileKey, tableDir, type IndexEntry } from "../storage/manifest.js";
import type { Dataset, TableState, Transaction } from "../dataset/dataset.js";
import { ROW_ID_FRAGMENT, selectRows } from "../dataset/fragment.js";

export { SCALAR_KINDS } from "../indexes/config.js";

export interface CreateScalarIndexOptions {
  config: ScalarIndexConfig;
  replace?: boolean;
  name?: string;
}

function keyTypeOf(type: DataType, column: string, labels: boolean): KeyType {
  if (labels) {
    const item = type.kind === "list" ? type.item : undefined;
    if (item === undefined || !(item.kind === "utf8" || item.kind === "bool" || (item.kind === "int" && item.bits <= 32))) {
      throw createError("INVALID_ARGUMENT", `createIndex(): a LABEL_LIST index needs a list of text, bools or integers of up to 32 bits; "${column}" is ${item ? `a list of ${item.kind === "int" ? `int${item.bits}` : item.kind}` : type.kind}.`, { column });
    }
    return item.kind === "utf8" ? "string" : "number";
  }
  switch (type.kind) {
    case "utf8": return "string";
    case "int": case "float": case "timestamp": case "bool": return "number";
    default: throw createError("INVALID_ARGUMENT", `createIndex(): a scalar index needs an int, float, timestamp, bool or text column; "${column}" is ${type.kind}.`, { column });
  }
}

/** The index key of a stored value (see scalar/keys.ts): epoch milliseconds for timestamps, 0 / 1 for bools. */
function toKey(v: unknown): ScalarKey | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "string" || typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "bigint") return Number(v);
  if (v instanceof Date) return v.getTime();
  throw createError("UNSUPPORTED", `A scalar index cannot hold a ${typeof v} value.`);
}

export async function createScalarIndexTransaction(ds: Dataset, head: TableState, column: string, options: CreateScalarIndexOptions): Promise<Transaction> {
  const f = findField(head.schema, column);
  if (f === undefined) throw createError("UNKNOWN_COLUMN", `createIndex(): no column "${column}".`, { column });
  const labels = options.config.type === "LABEL_LIST";
  const keyType = keyTypeOf(f.type, column, labels);
  if (options.config.type === "FM" && f.type.kind !== "utf8") {
    throw createError("INVALID_ARGUMENT", `createIndex(): an FM index needs a text column; "${column}" is ${f.type.kind}.`, { column });
  }
  const name = options.name ?? `${column}_idx`;
  if (!(options.replace ?? true) && head.indices.some((i) => i.name === name)) {
    throw createError("INVALID_ARGUMENT", `Index "${name}" already exists; pass replace: true to rebuild it.`);
  }
  await ds.ensureColumns(head, [column]);
  const values: (ScalarKey | null)[] = [];
  const rows: number[] = [];
  for (const frag of head.fragments) {
    const col = frag.columns.get(column)!;
    for (const r of selectRows(frag)) {
      const v = readValue(col, r);
      const at = frag.id * ROW_ID_FRAGMENT + r;
      if (!labels || v === null) {
        values.push(toKey(v));
        rows.push(at);
        continue;
      }
      // A label list: one (label, row) pair per distinct non-NULL label; a NULL list stays NULL.
      for (const label of new Set(v as unknown[])) {
        if (label === null) continue;
        values.push(toKey(label));
        rows.push(at);
      }
    }
  }
  const pageRows = options.config.params.pageRows ?? DEFAULT_PAGE_ROWS;
  // A LABEL_LIST file is a BITMAP over (label, row) pairs: each label's rows, and the rows whose list is NULL.
  const type = options.config.type;
  const bytes = type === "BTREE" ? buildBTree(keyType, values, rows, pageRows)
    : type === "FM" ? buildFm(values as (string | null)[], rows)
    : buildBitmap(keyType, values, rows);
  const file = `_indices/${randomId()}.qvs`;
  await ds.store.put(`${tableDir(ds.table)}${file}`, bytes);
  const entry: IndexEntry = {
    name, columns: [column], kind: options.config.type, file, fileSize: bytes.byteLength,
    fragments: head.fragments.map((fr) => fr.id), params: { ...options.config.params },
  };
  return { type: "create_index", readVersion: head.version, indices: [...head.indices.filter((i) => i.name !== name), entry] };
}

export type ScalarIndex = BTreeIndex | BitmapIndex | FmIndex;

/**
 * The opened index of `entry`, owned by the session cache. A BTREE keeps its head resident and
 * range-reads pages on demand (charged at its head size plus the pages it may cache); a BITMAP is read whole.
 */
export async function loadScalarIndex(ds: Dataset, entry: IndexEntry): Promise<ScalarIndex> {
  const key = fileKey(tableDir(ds.table), entry.file);
  const lease = await ds.session.acquire("scalarIndex", ds.cacheKey + entry.file, async () => {
    try {
      const index = entry.kind === "BTREE"
        ? await BTreeIndex.open((offset, length) => ds.store.getRange(key, offset, length))
        : entry.kind === "FM" ? new FmIndex(await ds.store.get(key))
        : new BitmapIndex(await ds.store.get(key));
      return { value: index as ScalarIndex, bytes: entry.fileSize };
    } catch (e) {
      if (!isQuiverError(e, "CORRUPT_FILE")) throw e;
      throw createError("CORRUPT_FILE", `${key}: ${e.message}`, { ...e.details, file: key }, e);
    }
  });
  lease.release();
  return lease.value;
}

/** What the filter mask step needs to use `index`. */
export function indexedColumn(kind: string, index: ScalarIndex, fragments?: readonly number[]): IndexedColumn {
  if (index instanceof FmIndex) {
    const textLength = index.stats.textLength;
    return {
      kind: "fm",
      // Comparisons never reach an FM index (mask.ts resolves them to value indexes only).
      lookup: { isNull: () => index.isNull(), range: noComparisons, equals: noComparisons },
      keyOf: stringKeyOf,
      // Locating an occurrence costs a few LF steps; past ~1 per 16 characters of text, a scan is cheaper.
      text: (q) => (index.count(q) * FM_LOCATE_COST > textLength ? undefined : index.search(q)),
    };
  }
  return { kind: kind.toLowerCase(), lookup: index, keyOf: index.keyType === "string" ? stringKeyOf : numericKeyOf, labels: kind === "LABEL_LIST", fragments };
}

function noComparisons(): never {
  throw new Error("an FM index answers LIKE and contains(), never comparisons (mask.ts routes those to value indexes)");
}

/** Text characters a scan reads for the price of locating one FM-index occurrence. */
const FM_LOCATE_COST = 16;

/** The entry rebuilt over every fragment of `head` when it no longer covers exactly those. */
export async function refreshScalarIndex(ds: Dataset, head: TableState, entry: IndexEntry): Promise<IndexEntry> {
  const ids = head.fragments.map((f) => f.id);
  if (ids.length === entry.fragments.length && ids.every((id) => entry.fragments.includes(id))) return entry;
  const config: ScalarIndexConfig = { kind: "scalar", type: entry.kind as ScalarIndexConfig["type"], params: entry.params as Record<string, number> };
  const tx = await createScalarIndexTransaction(ds, head, entry.columns[0]!, { name: entry.name, config });
  return tx.indices!.find((i) => i.name === entry.name)!;
}

/** At most this many distinct values (and at most one per BITMAP_ROWS_PER_VALUE rows), `createIndex(column)` builds a BITMAP. */
export const BITMAP_MAX_DISTINCT = 256;
const BITMAP_ROWS_PER_VALUE = 8;

/**
 * The index `createIndex(column)` builds without a config on a non-vector column, by type and
 * cardinality: LABEL_LIST for lists, BITMAP for bools and for columns with few distinct values
 * (≤ 256, and rows repeating them), BTREE for the rest — LanceDB's three scalar kinds, chosen the
 * way its docs recommend them.
 */
export async function defaultScalarConfig(ds: Dataset, state: TableState, column: string): Promise<ScalarIndexConfig | undefined> {
  const type = findField(state.schema, column)?.type;
  const kind = type?.kind;
  if (kind === "list") return { kind: "scalar", type: "LABEL_LIST", params: {} };
  if (kind === "bool") return { kind: "scalar", type: "BITMAP", params: {} };
  if (kind !== "utf8" && kind !== "int" && kind !== "float" && kind !== "timestamp") return undefined;
  await ds.ensureColumns(state, [column]);
  const distinct = new Set<unknown>();
  let rows = 0;
  for (const frag of state.fragments) {
    const col = frag.columns.get(column)!;
    for (const r of selectRows(frag)) {
      const v = readValue(col, r);
      rows++;
      if (v === null) continue;
      distinct.add(v instanceof Date ? v.getTime() : v);
      if (distinct.size > BITMAP_MAX_DISTINCT) return { kind: "scalar", type: "BTREE", params: {} };
    }
  }
  return distinct.size * BITMAP_ROWS_PER_VALUE <= rows ? { kind: "scalar", type: "BITMAP", params: {} } : { kind: "scalar", type: "BTREE", params: {} };
}
