/**
 * What decides whether a commit may go through (see docs/FORMAT.md, "Commit protocol"): which
 * operations combine with which, and the version floor that cleanup leaves behind.
 *
 * Keys below the version floor may have been freed by cleanup (their tombstones deleted), so a
 * writer cannot trust what it finds there: a put that lands below the floor may be an *orphan* (a
 * freed number reused, invisible to readers), and the operation records of versions below it are
 * gone. The floor file keeps the one fact appends need about them: the last exclusive operation.
 */
import type { BlobStore } from "../storage/blob-store.js";
import { decodeFloor, floorFromKey, floorKey, floorPrefix, type OperationRecord, type OperationType, type VersionFloor } from "../storage/manifest.js";

/**
 * Tombstones of the newest versions that cleanup keeps (the floor stays at least this far below
 * the newest version). Writers that far behind still check every skipped operation exactly; ones
 * further behind can still append (see `floorAllows`), anything else gets COMMIT_CONFLICT.
 */
export const TOMBSTONE_KEEP = 100;

/** Operations that replace what the table is; nothing may commit in between. */
export const EXCLUSIVE: ReadonlySet<OperationType> = new Set(["overwrite", "restore", "add_columns", "alter_columns", "drop_columns", "create", "rekey"]);

/** What a transaction does, as far as conflicts go. */
export interface Change {
  readonly type: OperationType;
  readonly readVersion: number;
  /** Fragment ids it removes or rewrites. */
  readonly touched: readonly number[];
}

/** Whether a change may be re-applied on top of a commit that did `theirs`. */
export function compatible(mine: Change, theirs: OperationRecord): boolean {
  if (EXCLUSIVE.has(mine.type) || EXCLUSIVE.has(theirs.type)) return false;
  if (mine.type === "append") return true;
  if ((mine.type === "create_index" || mine.type === "drop_index") && (theirs.type === "create_index" || theirs.type === "drop_index")) return false;
  const ids = new Set(mine.touched);
  return !theirs.touched.some((id) => ids.has(id));
}

/** Whether a change that read `readVersion` may skip the versions below `floor` it cannot read. */
export function floorAllows(mine: Change, floor: VersionFloor): boolean {
  return mine.type === "append" && floor.maxExclusive <= mine.readVersion;
}

/** The table's version floor, or undefined when cleanup never raised it. */
export async function readFloor(store: BlobStore, table: string): Promise<VersionFloor | undefined> {
  for (;;) {
    const floors = (await store.list(floorPrefix(table))).map((b) => floorFromKey(b.key)).filter((f): f is number => f !== undefined);
    if (floors.length === 0) return undefined;
    const key = floorKey(table, Math.max(...floors));
    try {
      return decodeFloor(await store.get(key), key);
    } catch (e) {
      // Only floors below a newer one are ever deleted: list again.
      if ((e as { code?: string }).code !== "NOT_FOUND") throw e;
    }
  }
}
