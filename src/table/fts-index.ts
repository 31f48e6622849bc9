/**
 * Full-text indexes as part of a table: one BM25 `FtsIndex` per text column, stored as a file named
 * by the manifest. Rows appended after the build are folded into an in-memory copy at query time
 * (so their BM25 statistics are exact) and into the file by `optimize()`.
 */
import { createError, isQuiverError } from "../errors.js";
import { readValue } from "../data/column.js";
import { findField } from "../data/schema.js";
import type { FtsDocument, FtsIndex } from "../fts/index.js";

/** The full-text code (tokenizer, stemmers, BM25) loads on first use. */
const fts = (): Promise<typeof import("../fts/index.js")> => import("../fts/index.js");
import type { FtsIndexConfig } from "../indexes/config.js";
import { randomId } from "../storage/envelope.js";
import { fileKey, tableDir, type IndexEntry } from "../storage/manifest.js";
import type { Dataset, TableState, Transaction } from "../dataset/dataset.js";
import { selectRows, type Fragment } from "../dataset/fragment.js";
import { ROW_ID_FRAGMENT } from "../dataset/fragment.js";

export interface CreateFtsIndexOptions {
  config: FtsIndexConfig;
  replace?: boolean;
  name?: string;
  /** Documents indexed so far, of `total`. */
  progress?: (p: { phase: "index"; done: number; total: number }) => void;
}

function textColumn(state: TableState, column: string): void {
  const f = findField(state.schema, column);
  if (f === undefined) throw createError("UNKNOWN_COLUMN", `createIndex(): no column "${column}".`, { column });
  if (f.type.kind !== "utf8") throw createError("INVALID_ARGUMENT", `createIndex(): a full-text index needs a text column; "${column}" is ${f.type.kind}.`, { column });
}

/** Live rows of `fragments` as FTS documents keyed by row id. */
function documents(fragments: readonly Fragment[], column: string): FtsDocument[] {
  const docs: FtsDocument[] = [];
  for (const frag of fragments) {
    const col = frag.columns.get(column)!;
    for (const r of selectRows(frag)) docs.push({ row: frag.id * ROW_ID_FRAGMENT + r, text: readValue(col, r) as string | null });
  }
  return docs;
}

/**
 * What the cache charges for an opened full-text index: its decoded postings and term tables take
 * about twice its file. They are JS memory, so a lease is returned at once (the GC keeps an index
 * alive while a query uses it).
 */
const FTS_BYTES_PER_FILE_BYTE = 2;

async function cachedFts(
  ds: Dataset, key: string, fileSize: number, open: () => Promise<FtsIndex>, bytesOf?: (index: FtsIndex) => number,
): Promise<FtsIndex> {
  const lease = await ds.session.acquire("ftsIndex", key, async () => {
    const value = await open();
    return { value, bytes: bytesOf?.(value) ?? fileSize * FTS_BYTES_PER_FILE_BYTE };
  });
  lease.release();
  return lease.value;
}

function openFile(ds: Dataset, entry: IndexEntry): Promise<FtsIndex> {
  const key = fileKey(tableDir(ds.table), entry.file);
  return cachedFts(ds, ds.cacheKey + entry.file, entry.fileSize, async () => {
    const [bytes, { FtsIndex }] = await Promise.all([ds.store.get(key), fts()]);
    try {
      return await FtsIndex.deserialize(bytes);
    } catch (e) {
      // The decoder checks the file's CRC-32 and every count; its errors do not know the file's name.
      if (!isQuiverError(e, "CORRUPT_FILE")) throw e;
      throw createError("CORRUPT_FILE", `${key}: ${e.message}`, { ...e.details, file: key }, e);
    }
  });
}

/**
 * The index of `entry` as shards covering every fragment of `state`: the index file, and (when rows
 * were added since the build) a small index over those rows alone, searched together with the
 * union's statistics (fts/searchShards). The file's index is shared, never copied or changed.
 */
export async function loadFtsIndex(ds: Dataset, state: TableState, entry: IndexEntry): Promise<FtsIndex[]> {
  const covered = new Set(entry.fragments);
  const fresh = state.fragments.filter((f) => !covered.has(f.id));
  const main = await openFile(ds, entry);
  if (fresh.length === 0) return [main];
  const column = entry.columns[0]!;
  // Charged by the text it indexes (postings and terms take about as much again).
  const delta = await cachedFts(ds, `${ds.cacheKey}${entry.file}|+${fresh.map((f) => f.id).join(",")}`, 0, async () => {
    const texts = await Promise.all(fresh.map((f) => ds.readColumn(state.schema, f, column)));
    const docs = documents(fresh.map((f, i) => ({ ...f, columns: new Map([[column, texts[i]!]]) })), column);
    return (await fts()).FtsIndex.build(docs, { ...main.options, columns: main.columns });
  }, (index) => index.stats().columns.reduce((n, c) => n + c.postings * 8 + c.terms * 32, 0) + index.numDocs * 16);
  return [main, delta];
}

/** The index of `entry` with the rows added since its build folded in: a new index (optimize writes it). */
async function foldedFtsIndex(ds: Dataset, state: TableState, entry: IndexEntry): Promise<FtsIndex> {
  const [main, delta] = await loadFtsIndex(ds, state, entry);
  if (delta === undefined) return main!;
  const column = entry.columns[0]!;
  const covered = new Set(entry.fragments);
  const fresh = state.fragments.filter((f) => !covered.has(f.id));
  const texts = await Promise.all(fresh.map((f) => ds.readColumn(state.schema, f, column)));
  const copy = await (await fts()).FtsIndex.deserialize(main!.serialize());
  copy.add(documents(fresh.map((f, i) => ({ ...f, columns: new Map([[column, texts[i]!]]) })), column));
  return copy;
}

async function storeIndex(ds: Dataset, index: FtsIndex): Promise<{ file: string; fileSize: number }> {
  const bytes = index.serialize();
  const file = `_indices/${randomId()}.qvt`;
  await ds.store.put(`${tableDir(ds.table)}${file}`, bytes);
  ds.session.put("ftsIndex", ds.cacheKey + file, { value: index, bytes: bytes.length * FTS_BYTES_PER_FILE_BYTE });
  return { file, fileSize: bytes.length };
}

export async function createFtsIndexTransaction(ds: Dataset, head: TableState, column: string, options: CreateFtsIndexOptions): Promise<Transaction> {
  textColumn(head, column);
  const name = options.name ?? `${column}_idx`;
  if (!(options.replace ?? true) && head.indices.some((i) => i.name === name)) {
    throw createError("INVALID_ARGUMENT", `Index "${name}" already exists; pass replace: true to rebuild it.`);
  }
  await ds.ensureColumns(head, [column]);
  const docs = documents(head.fragments, column);
  const progress = options.progress;
  const index = await (await fts()).FtsIndex.build(docs, { ...options.config.params, columns: [column] }, progress && ((done) => progress({ phase: "index", done, total: docs.length })));
  const entry: IndexEntry = {
    name, columns: [column], kind: "FTS", ...(await storeIndex(ds, index)),
    fragments: head.fragments.map((f) => f.id), params: options.config.params,
  };
  return { type: "create_index", readVersion: head.version, indices: [...head.indices.filter((i) => i.name !== name), entry] };
}

/**
 * The entry after folding rows added since the build into its file, or after a rebuild when
 * compaction moved rows it covered (their row ids changed).
 */
export async function refreshFtsIndex(ds: Dataset, head: TableState, entry: IndexEntry): Promise<IndexEntry> {
  const live = new Set(head.fragments.map((f) => f.id));
  if (entry.fragments.some((id) => !live.has(id))) {
    const tx = await createFtsIndexTransaction(ds, head, entry.columns[0]!, { name: entry.name, config: { kind: "fts", type: "FTS", params: entry.params } });
    return tx.indices!.find((i) => i.name === entry.name)!;
  }
  if (head.fragments.every((f) => entry.fragments.includes(f.id))) return entry;
  const index = await foldedFtsIndex(ds, head, entry);
  return { ...entry, ...(await storeIndex(ds, index)), fragments: head.fragments.map((f) => f.id) };
}
