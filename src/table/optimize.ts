/**
 * `optimize()`: compaction (small fragments and fragments with many deleted rows are rewritten into
 * fewer, clean ones — one transaction) and pruning (old versions and the files only they named are
 * deleted). Pruning keeps the latest version, every tagged version, and every version committed
 * after `cleanupOlderThan`; a file no version names is deleted only if it is older than that bound
 * too, so files another writer is about to commit are never touched.
 */
import { concatColumns, takeColumn, type Column } from "../data/column.js";
import {
  encodeFloor, encodeManifest, encodeTombstone, filesOf, floorFromKey, floorKey, floorPrefix, manifestKey, tableDir, TEMPORARY_FILE_AGE_MS, type Manifest, type OperationRecord,
} from "../storage/manifest.js";
import { EXCLUSIVE, readFloor, TOMBSTONE_KEEP } from "../dataset/commit-rules.js";
import { onDemandKit } from "../query/on-demand-kit.js";
import { Dataset, type TableState, type Transaction } from "../dataset/dataset.js";
import { selectRows, type Fragment } from "../dataset/fragment.js";
import { TimeSlicer } from "../util/yield.js";
import type { Tags } from "../dataset/tags.js";

export interface OptimizeOptions {
  /** Prune versions committed before this time (default: 7 days ago). Pass `new Date()` to keep only the latest and tagged ones. */
  cleanupOlderThan?: Date;
  /**
   * Also delete files no version names that are less than a week old (they may belong to a commit
   * another writer has in flight, so this is unsafe while others write). Default false.
   */
  deleteUnverified?: boolean;
  /** Rows a compacted fragment aims for. Default 1,048,576. Lower it to compact more often. */
  targetRowsPerFragment?: number;
}

export interface OptimizeStats {
  compaction: { fragmentsRemoved: number; fragmentsAdded: number; filesRemoved: number; filesAdded: number };
  prune: { oldVersionsRemoved: number; filesRemoved: number; bytesRemoved: number; temporaryFilesRemoved: number };
}

const WEEK_MS = 7 * 24 * 3600 * 1000;
/**
 * A temporary file (a write in progress, renamed into place when complete) older than this belongs
 * to a writer that crashed: optimize() and opening a table remove it.
 */
/** A fragment with more than this share of its rows deleted is rewritten. */
const DELETED_SHARE = 0.1;

/** Groups of neighbouring fragments to rewrite together, each up to `target` live rows. */
function compactionBins(fragments: readonly Fragment[], target: number): Fragment[][] {
  const needs = (f: Fragment): boolean => f.liveRows < target || f.numRows - f.liveRows > DELETED_SHARE * f.numRows;
  const bins: Fragment[][] = [];
  let bin: Fragment[] = [];
  let rows = 0;
  const close = (): void => {
    // A lone fragment is worth rewriting only to drop its deleted rows.
    if (bin.length > 1 || (bin.length === 1 && bin[0]!.deletions !== null)) bins.push(bin);
    bin = [];
    rows = 0;
  };
  for (const f of fragments) {
    if (!needs(f)) { close(); continue; }
    if (rows + f.liveRows > target && bin.length > 0) close();
    bin.push(f);
    rows += f.liveRows;
  }
  close();
  return bins;
}

export async function compactionTransaction(ds: Dataset, head: TableState, target: number): Promise<Transaction | null> {
  const bins = compactionBins(head.fragments, target);
  if (bins.length === 0) return null;
  const added: Fragment[] = [];
  // Column by column, read for this rewrite only (the fragments are going away: nothing is cached
  // on them), yielding between pieces so a page stays responsive.
  const slicer = new TimeSlicer();
  for (const bin of bins) {
    const columns = new Map<string, Column>();
    for (const f of head.schema.fields) {
      const parts: Column[] = [];
      for (const frag of bin) {
        const col = frag.columns.get(f.name) ?? (await ds.readColumn(head.schema, frag, f.name));
        parts.push(takeColumn(col, selectRows(frag)));
        if (slicer.due()) await slicer.yieldNow();
      }
      columns.set(f.name, concatColumns(f.type, parts));
    }
    const rows = bin.reduce((s, f) => s + f.liveRows, 0);
    added.push(await ds.writeFragment(head.schema, columns, rows));
  }
  return { type: "optimize", readVersion: head.version, removed: bins.flat().map((f) => f.id), added };
}

/**
 * Prunes versions older than `olderThan` (never the latest or a tagged one). A pruned version's key
 * keeps a tombstone (so its number is never reused, see src/dataset/dataset.ts); then the files only
 * pruned versions named are deleted. Version files are read a batch at a time, each once.
 *
 * Two races are closed here. A commit that lands while pruning runs may name files of a version
 * being pruned (restore does): versions listed after the tombstones were written are read too, and
 * their files kept. A tag created meanwhile on a pruned version: tags are read again afterwards,
 * and such a version gets its manifest back (this function still holds its bytes).
 */
export async function prune(ds: Dataset, tags: Tags, olderThan: Date, deleteUnverified: boolean): Promise<OptimizeStats["prune"]> {
  const store = ds.store;
  const dir = tableDir(ds.table);
  const cutoff = olderThan.getTime();
  const versions = await Dataset.listedVersions(store, ds.table);
  const latest = versions.at(-1);
  const tagged = new Set(Object.values(await tags.list()).map((t) => t.version));
  const referenced = new Set<string>();
  const doomed: Manifest[] = [];
  // After pruning: which listed versions are still live manifests, and what each one did.
  const live = new Map<number, boolean>();
  const operations = new Map<number, OperationRecord>();
  await ds.forEachVersionFile(versions, (v, file) => {
    live.set(v, !file.pruned);
    operations.set(v, file.pruned ? file.tombstone.operation : file.manifest.operation);
    if (file.pruned) return;
    const m = file.manifest;
    if (v === latest || tagged.has(v) || m.timestamp > cutoff) filesOf(m, dir).forEach((f) => referenced.add(f));
    else doomed.push(m);
  });
  const now = Date.now();
  for (const m of doomed) await store.put(manifestKey(ds.table, m.version), encodeTombstone(m, now));

  const taggedNow = new Set(Object.values(await tags.list()).map((t) => t.version));
  const pruned = new Set<string>();
  let oldVersionsRemoved = 0;
  for (const m of doomed) {
    if (taggedNow.has(m.version)) {
      await store.put(manifestKey(ds.table, m.version), encodeManifest(m));
      filesOf(m, dir).forEach((f) => referenced.add(f));
    } else {
      filesOf(m, dir).forEach((f) => pruned.add(f));
      live.set(m.version, false);
      oldVersionsRemoved++;
    }
  }
  if (latest !== undefined) await collectTombstones(ds, latest, live, operations);
  const newer = (await Dataset.listedVersions(store, ds.table)).filter((v) => latest === undefined || v > latest);
  await ds.forEachVersionFile(newer, (_, file) => { if (!file.pruned) filesOf(file.manifest, dir).forEach((f) => referenced.add(f)); });

  // Files that shallow clones of this table name are kept as long as their markers are there (read
  // after the tombstones are written: see src/dataset/clone.ts for why that order matters).
  const { filesKeptForClones } = await import("../query/on-demand.js");
  for (const key of await filesKeptForClones(onDemandKit, store, dir)) referenced.add(key);

  // Files of pruned versions are known garbage; files no version ever named may belong to a commit
  // in flight, so they go only once they are a week old (or when the caller says so).
  const unverifiedCutoff = now - WEEK_MS;
  let filesRemoved = 0;
  let bytesRemoved = 0;
  for (const prefix of ["data/", "_deletions/", "_indices/"]) {
    for (const f of await store.list(dir + prefix)) {
      if (referenced.has(f.key)) continue;
      const old = f.modified !== undefined && f.modified < unverifiedCutoff;
      if (!pruned.has(f.key) && !deleteUnverified && !old) continue;
      await store.delete(f.key);
      // What the session holds for the file (reader, decoded columns, vector blocks, an opened
      // index) goes with it; a query still using an entry keeps it until it ends.
      ds.session.invalidate(`${store.uri}|${f.key}`);
      filesRemoved++;
      bytesRemoved += f.size;
    }
  }
  const temporaryFilesRemoved = (await store.removeTemporaryFiles?.(dir, TEMPORARY_FILE_AGE_MS)) ?? 0;
  return { oldVersionsRemoved, filesRemoved, bytesRemoved, temporaryFilesRemoved };
}

/**
 * Raises the version floor to `latest - TOMBSTONE_KEEP` and deletes the tombstones below it, oldest
 * first, keeping any tombstone right after a live manifest (so a handle at a tagged old version
 * still sees that a newer version exists). The floor file is written before any key is freed, so a
 * writer that reads it after its put always knows whether the put could have reused a number.
 */
async function collectTombstones(ds: Dataset, latest: number, live: ReadonlyMap<number, boolean>, operations: ReadonlyMap<number, OperationRecord>): Promise<void> {
  const store = ds.store;
  const current = await readFloor(store, ds.table);
  const floor = latest - TOMBSTONE_KEEP;
  if (floor <= (current?.floor ?? 1)) return;
  let maxExclusive = current?.maxExclusive ?? 0;
  for (const [v, op] of operations) if (v < floor && EXCLUSIVE.has(op.type)) maxExclusive = Math.max(maxExclusive, v);
  await store.put(floorKey(ds.table, floor), encodeFloor({ floor, maxExclusive }));
  const below = [...live.keys()].filter((v) => v < floor).sort((a, b) => a - b);
  for (const v of below) {
    if (live.get(v) === false && live.get(v - 1) !== true) await store.delete(manifestKey(ds.table, v));
  }
  for (const f of await store.list(floorPrefix(ds.table))) {
    const at = floorFromKey(f.key);
    if (at !== undefined && at < floor) await store.delete(f.key);
  }
}

export function defaultCleanupCutoff(): Date {
  return new Date(Date.now() - WEEK_MS);
}
