/**
 * The shard manifest: a small JSON file `<name>.shards.json` beside the shard tables in a database
 * (written by `quiverdb publish … --shards N`), naming the tables that together hold table `<name>`.
 * `db.openShardedTable("<name>")` reads it.
 *
 *   {
 *     "format": "quiver-shards", "version": 1, "table": "docs",
 *     "by": "hash",                        // or { "column": "category" }
 *     "shards": [{ "table": "docs-0-of-4", "rows": 2513 }, …]
 *   }
 *
 * A shard is a table name of the same database or a table location (`https://host/db/docs-0-of-4`).
 */
import { createError } from "../errors.js";

export const SHARD_MANIFEST_SUFFIX = ".shards.json";
export const SHARD_MANIFEST_FORMAT = "quiver-shards";
export const SHARD_MANIFEST_VERSION = 1;

export interface ShardManifest {
  readonly format: typeof SHARD_MANIFEST_FORMAT;
  readonly version: typeof SHARD_MANIFEST_VERSION;
  /** The logical table the shards hold. */
  readonly table: string;
  /** How rows were split: by a hash of each row's position in the source table, or of a column's value. */
  readonly by: "hash" | { readonly column: string };
  readonly shards: readonly { readonly table: string; readonly rows: number }[];
}

export function shardManifestKey(name: string): string {
  return `${name}${SHARD_MANIFEST_SUFFIX}`;
}

export function encodeShardManifest(m: ShardManifest): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(m, null, 2)}\n`);
}

/** Parses and checks a shard manifest; anything else is CORRUPT_FILE naming `where`. */
export function decodeShardManifest(bytes: Uint8Array, where: string): ShardManifest {
  const bad = (why: string): never => {
    throw createError("CORRUPT_FILE", `${where} is not a Quiver shard manifest: ${why}.`, { key: where });
  };
  let m: unknown;
  try {
    m = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    return bad(`it is not JSON (${(e as Error).message})`);
  }
  const o = m as Partial<ShardManifest> | null;
  if (o === null || typeof o !== "object" || o.format !== SHARD_MANIFEST_FORMAT) return bad(`"format" is not "${SHARD_MANIFEST_FORMAT}"`);
  if (o.version !== SHARD_MANIFEST_VERSION) return bad(`version ${String(o.version)} is not ${SHARD_MANIFEST_VERSION} (written by a newer Quiver?)`);
  if (typeof o.table !== "string" || o.table === "") return bad(`"table" is missing`);
  const by = o.by as unknown;
  if (by !== "hash" && !(typeof by === "object" && by !== null && typeof (by as { column?: unknown }).column === "string")) return bad(`"by" must be "hash" or { "column": name }`);
  if (!Array.isArray(o.shards) || o.shards.length === 0) return bad(`"shards" must be a non-empty array`);
  for (const s of o.shards as unknown[]) {
    const shard = s as { table?: unknown; rows?: unknown } | null;
    if (shard === null || typeof shard !== "object" || typeof shard.table !== "string" || shard.table === "" || !Number.isSafeInteger(shard.rows) || (shard.rows as number) < 0) {
      return bad(`every shard needs a "table" name and a row count`);
    }
  }
  return o as ShardManifest;
}
