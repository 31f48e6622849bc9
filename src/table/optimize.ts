/**
 * `optimize()`: compaction (small fragments and fragments with many deleted rows are rewritten into
 * fewer, clean ones — one transaction) and pruning (old versions and the files only they named are
 * deleted). Pruning keeps the latest version, every tagged version, and every version committed
 * after `cleanupOlderThan`; a file no version names is deleted only if it is older than that bound
 * too, so files another writer is about to commit are never touched.
 */
import { concatColumns, takeColumn, type Column } from "../data/column.js";
import { versionsPrefix, versionFromKey, manifestKey, type Manifest } from "../storage/manifest.js";
import type { Dataset, TableState, Transaction } from "./dataset.js";
import { selectRows, type Fragment } from "./fragment.js";
import type { Tags } from "./tags.js";

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
  prune: { oldVersionsRemoved: number; filesRemoved: number; bytesRemoved: number };
}

const WEEK_MS = 7 * 24 * 3600 * 1000;
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
  const names = head.schema.fields.map((f) => f.name);
  const added: Fragment[] = [];
  for (const bin of bins) {
    await ds.ensureColumns({ ...head, fragments: bin }, names);
    const columns = new Map<string, Column>();
    for (const f of head.schema.fields) {
      columns.set(f.name, concatColumns(f.type, bin.map((frag) => takeColumn(frag.columns.get(f.name)!, selectRows(frag)))));
    }
    const rows = bin.reduce((s, f) => s + f.liveRows, 0);
    added.push(await ds.writeFragment(head.schema, columns, rows));
  }
  return { type: "optimize", readVersion: head.version, removed: bins.flat().map((f) => f.id), added };
}

function filesOf(m: Manifest, dir: string): string[] {
  const out: string[] = [];
  for (const f of m.fragments) {
    for (const d of f.files) out.push(dir + d.file);
    if (f.deletionFile !== null) out.push(dir + f.deletionFile);
  }
  for (const i of m.indices) out.push(dir + i.file);
  return out;
}

export async function prune(ds: Dataset, tags: Tags, olderThan: Date, deleteUnverified: boolean): Promise<OptimizeStats["prune"]> {
  const store = ds.store;
  const dir = `${ds.table}.lance/`;
  const cutoff = olderThan.getTime();
  const versions = (await store.list(versionsPrefix(ds.table)))
    .map((k) => versionFromKey(k.key)).filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  const latest = versions[versions.length - 1];
  const tagged = new Set(Object.values(await tags.list()).map((t) => t.version));
  const manifests = await Promise.all(versions.map((v) => ds.manifest(v)));
  const keep = manifests.filter((m) => m.version === latest || tagged.has(m.version) || m.timestamp >= cutoff);
  const referenced = new Set(keep.flatMap((m) => filesOf(m, dir)));
  // Files of pruned versions are known garbage; files no version ever named may belong to a commit
  // in flight, so they go only once they are a week old (or when the caller says so).
  const pruned = new Set(manifests.filter((m) => !keep.includes(m)).flatMap((m) => filesOf(m, dir)));
  const unverifiedCutoff = Date.now() - WEEK_MS;

  let oldVersionsRemoved = 0;
  for (const m of manifests) {
    if (keep.includes(m)) continue;
    await store.delete(manifestKey(ds.table, m.version));
    oldVersionsRemoved++;
  }
  let filesRemoved = 0;
  let bytesRemoved = 0;
  for (const prefix of ["data/", "_deletions/", "_indices/"]) {
    for (const f of await store.list(dir + prefix)) {
      if (referenced.has(f.key)) continue;
      const old = f.modified !== undefined && f.modified < unverifiedCutoff;
      if (!pruned.has(f.key) && !deleteUnverified && !old) continue;
      await store.delete(f.key);
      filesRemoved++;
      bytesRemoved += f.size;
    }
  }
  return { oldVersionsRemoved, filesRemoved, bytesRemoved };
}

export function defaultCleanupCutoff(): Date {
  return new Date(Date.now() - WEEK_MS);
}
