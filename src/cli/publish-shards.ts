/**
 * Publishing a table as shards: `quiverdb publish <src-dir> <table> <out-dir> --shards N [--by hash|<column>]`
 * splits the newest version of `<table>` into N complete tables `<table>-<i>-of-<N>` in `<out-dir>`
 * (same schema, embedding config and indexes, each index rebuilt over the shard's rows), writes the
 * shard manifest `<table>.shards.json` (src/shard/manifest.ts) and the `_listing.json` of the
 * directory. Readers open the shards as one table:
 *
 *   const db = await connect("https://cdn.example.com/db");
 *   const docs = await db.openShardedTable("docs");
 *
 * `--by hash` (default) spreads rows evenly by a hash (FNV-1a) of each row's position in the table;
 * `--by <column>` by a hash of the column's value, so rows with equal values share a shard (shards
 * may then differ in size, and a shard may be empty). Shards of an earlier publication with the same
 * names are deleted first and rewritten, and the manifest is written after every shard is complete:
 * publish into a new directory (and switch readers over) when the old set must stay readable meanwhile.
 */
import { connect } from "../connection.js";
import { createError } from "../errors.js";
import { columnsToRows, type Row } from "../data/rows.js";
import { Dataset } from "../dataset/dataset.js";
import type { IndexConfig } from "../indexes/config.js";
import { Session } from "../session.js";
import { FsStore } from "../storage/fs-store.js";
import { writeHttpListing } from "../storage/http-store.js";
import { tableDir } from "../storage/manifest.js";
import { appendTransaction, rowsToColumns } from "../table/writes.js";
import { encodeShardManifest, shardManifestKey, type ShardManifest } from "../shard/manifest.js";

export interface PublishShardsOptions {
  /** Number of shards, 1 to 1024. */
  shards: number;
  /** `"hash"` (default): by row position; else a column name: by the column's value. */
  by?: string;
  /** Rows gathered per shard before they are written as one fragment. Default 50,000. */
  fragmentRows?: number;
  /** Called as rows are split (phase "split") and as each shard's indexes are built (phase "index"). */
  onProgress?: (p: { phase: "split" | "index"; rowsDone: number; rowsTotal: number }) => void;
}

export interface PublishShardsStats {
  /** The shard tables and their rows, in shard order. */
  shards: { table: string; rows: number }[];
  /** Bytes of every file of the shards and the manifest. */
  bytes: number;
}

/** FNV-1a, 32 bits: a fast, stable hash (the same shard for the same key on every run and runtime). */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A value as a hash key: equal values (1 and 1.0, equal dates) give equal keys. */
function keyOf(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (value instanceof Date) return `d:${value.getTime()}`;
  if (ArrayBuffer.isView(value)) return `a:${Array.from(value as unknown as ArrayLike<number>).join(",")}`;
  if (typeof value === "object") return `o:${JSON.stringify(value)}`;
  return `${typeof value === "bigint" ? "number" : typeof value}:${String(value)}`;
}

/** The config that rebuilds an index like `kind` with `params` (as listIndices reports them). */
function indexConfig(kind: string, params: Readonly<Record<string, unknown>>): IndexConfig {
  if (kind === "FTS") return { kind: "fts", type: "FTS", params };
  if (kind === "BTREE" || kind === "BITMAP" || kind === "LABEL_LIST" || kind === "FM") return { kind: "scalar", type: kind, params: params as Record<string, number> };
  return { kind: "vector", type: (kind === "IVF_BINARY" ? "IVF_FLAT" : kind) as never, params: params as Record<string, number | string> };
}

export async function publishShardedTable(srcDir: string, table: string, outDir: string, options: PublishShardsOptions): Promise<PublishShardsStats> {
  const n = options.shards;
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw createError("INVALID_ARGUMENT", `--shards must be an integer from 1 to 1024, got ${String(n)}.`);
  const by = options.by ?? "hash";
  const fragmentRows = options.fragmentRows ?? 50_000;
  if (!Number.isInteger(fragmentRows) || fragmentRows < 1) throw createError("INVALID_ARGUMENT", `fragmentRows must be a positive integer, got ${String(fragmentRows)}.`);
  const src = await connect(srcDir);
  const session = new Session({ cacheBytes: 64 * 2 ** 20 });
  const out = await FsStore.open(outDir);
  try {
    const source = await src.openTable(table);
    const schema = await source.quiverSchema();
    if (by !== "hash") {
      const f = schema.fields.find((x) => x.name === by);
      if (f === undefined) throw createError("UNKNOWN_COLUMN", `--by: table "${table}" has no column "${by}" (columns: ${schema.fields.map((x) => x.name).join(", ")}).`, { column: by });
      if (f.type.kind === "vector") throw createError("INVALID_ARGUMENT", `--by: "${by}" is a vector column; split by hash or by a key column.`, { column: by });
    }
    const [config, indexes, total] = await Promise.all([source.tableConfig(), source.listIndices(), source.countRows()]);
    const names = Array.from({ length: n }, (_, i) => `${table}-${i}-of-${n}`);
    // Shards of an earlier publication under these names are replaced whole.
    for (const name of names) for (const f of await out.list(tableDir(name))) await out.delete(f.key);

    const datasets: (Dataset | undefined)[] = names.map(() => undefined);
    const pending: Row[][] = names.map(() => []);
    const counts = names.map(() => 0);
    const flush = async (i: number): Promise<void> => {
      const rows = pending[i]!;
      if (rows.length === 0) return;
      pending[i] = [];
      counts[i]! += rows.length;
      const ds = datasets[i];
      if (ds === undefined) datasets[i] = await Dataset.create(out, names[i]!, session, schema, { columns: await rowsToColumns(schema, rows), numRows: rows.length }, config);
      else await ds.commit(await appendTransaction(ds, ds.head(), rows, "append"));
    };
    const columnNames = schema.fields.map((f) => f.name);
    let position = 0;
    for await (const batch of source.liveBatches()) {
      const rows = columnsToRows(batch.columns, columnNames, Array.from({ length: batch.numRows }, (_, i) => i));
      for (const row of rows) {
        const key = by === "hash" ? String(position) : keyOf(row[by]);
        const shard = fnv1a(key) % n;
        pending[shard]!.push(row);
        position++;
        if (pending[shard]!.length >= fragmentRows) await flush(shard);
      }
      options.onProgress?.({ phase: "split", rowsDone: position, rowsTotal: total });
    }
    for (let i = 0; i < n; i++) {
      await flush(i);
      if (datasets[i] === undefined) await Dataset.create(out, names[i]!, session, schema, undefined, config);
    }

    // Indexes, rebuilt over each shard's rows with the source's options (a vector index needs rows to train on).
    const dst = await connect(outDir);
    try {
      for (let i = 0; i < n; i++) {
        const t = await dst.openTable(names[i]!);
        for (const idx of indexes) {
          const config = indexConfig(idx.kind, idx.indexDetails);
          if (config.kind === "vector" && counts[i] === 0) continue;
          await t.createIndex(idx.columns[0]!, { config, name: idx.name });
        }
        options.onProgress?.({ phase: "index", rowsDone: counts.slice(0, i + 1).reduce((a, b) => a + b, 0), rowsTotal: total });
      }
    } finally {
      await dst.close();
    }

    const manifest: ShardManifest = {
      format: "quiver-shards", version: 1, table, by: by === "hash" ? "hash" : { column: by },
      shards: names.map((name, i) => ({ table: name, rows: counts[i]! })),
    };
    await out.put(shardManifestKey(table), encodeShardManifest(manifest));
    await writeHttpListing(out);
    let bytes = 0;
    for (const f of await out.list("")) if (f.key === shardManifestKey(table) || names.some((name) => f.key.startsWith(tableDir(name)))) bytes += f.size;
    return { shards: manifest.shards.map((s) => ({ ...s })), bytes };
  } finally {
    await src.close();
    session.close();
    await out.close();
  }
}
