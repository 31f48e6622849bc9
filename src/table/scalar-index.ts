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
import type { KeyType, ScalarKey } from "../scalar/keys.js";
import { numericKeyOf, stringKeyOf, type IndexedColumn } from "../scalar/mask.js";
import { randomId } from "../storage/envelope.js";
import { fileKey, tableDir, type IndexEntry } from "../storage/manifest.js";
import type { Dataset, TableState, Transaction } from "../dataset/dataset.js";
import { ROW_ID_FRAGMENT, selectRows } from "../dataset/fragment.js";

export const SCALAR_KINDS: readonly string[] = ["BTREE", "BITMAP"];

export interface CreateScalarIndexOptions {
  config: ScalarIndexConfig;
  replace?: boolean;
  name?: string;
}

function keyTypeOf(type: DataType, column: string): KeyType {
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
  const keyType = keyTypeOf(f.type, column);
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
      values.push(toKey(readValue(col, r)));
      rows.push(frag.id * ROW_ID_FRAGMENT + r);
    }
  }
  const pageRows = options.config.params.pageRows ?? DEFAULT_PAGE_ROWS;
  const bytes = options.config.type === "BTREE" ? buildBTree(keyType, values, rows, pageRows) : buildBitmap(keyType, values, rows);
  const file = `_indices/${randomId()}.qvs`;
  await ds.store.put(`${tableDir(ds.table)}${file}`, bytes);
  const entry: IndexEntry = {
    name, columns: [column], kind: options.config.type, file, fileSize: bytes.byteLength,
    fragments: head.fragments.map((fr) => fr.id), params: { ...options.config.params },
  };
  return { type: "create_index", readVersion: head.version, indices: [...head.indices.filter((i) => i.name !== name), entry] };
}

export type ScalarIndex = BTreeIndex | BitmapIndex;

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
export function indexedColumn(kind: string, index: ScalarIndex): IndexedColumn {
  return { kind: kind.toLowerCase(), lookup: index, keyOf: index.keyType === "string" ? stringKeyOf : numericKeyOf };
}

/** The entry rebuilt over every fragment of `head` when it no longer covers exactly those. */
export async function refreshScalarIndex(ds: Dataset, head: TableState, entry: IndexEntry): Promise<IndexEntry> {
  const ids = head.fragments.map((f) => f.id);
  if (ids.length === entry.fragments.length && ids.every((id) => entry.fragments.includes(id))) return entry;
  const config: ScalarIndexConfig = { kind: "scalar", type: entry.kind as "BTREE" | "BITMAP", params: entry.params as Record<string, number> };
  const tx = await createScalarIndexTransaction(ds, head, entry.columns[0]!, { name: entry.name, config });
  return tx.indices!.find((i) => i.name === entry.name)!;
}

/**
 * The index `createIndex(column)` builds without a config on a non-vector column: BITMAP for bools
 * (two values), BTREE for the rest, as LanceDB defaults scalar columns to BTREE.
 */
export function defaultScalarConfig(state: TableState, column: string): ScalarIndexConfig | undefined {
  const kind = findField(state.schema, column)?.type.kind;
  if (kind === "bool") return { kind: "scalar", type: "BITMAP", params: {} };
  return kind === "utf8" || kind === "int" || kind === "float" || kind === "timestamp" ? { kind: "scalar", type: "BTREE", params: {} } : undefined;
}
