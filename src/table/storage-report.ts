/**
 * What a database costs in storage: bytes per table and per version, and what
 * `optimize({ cleanupOlderThan })` could free — the files that only versions other than the newest
 * and the tagged ones name, plus those versions' manifests.
 */
import type { Dataset } from "../dataset/dataset.js";
import type { Tags } from "../dataset/tags.js";
import type { BlobStore } from "../storage/blob-store.js";
import { manifestKey, tableDir } from "../storage/manifest.js";
import type { Session } from "../session.js";
import type { filesOf } from "../storage/manifest.js";
import { navigatorStorage } from "../storage/quota.js";

export interface VersionStorage {
  readonly version: number;
  /** Bytes of the manifest and every file the version names (files shared with other versions count in each). */
  readonly bytes: number;
}

export interface TableStorage {
  readonly name: string;
  /** Bytes of every object in the table's folder. */
  readonly bytes: number;
  /** Versions that can be checked out, oldest first. */
  readonly versions: readonly VersionStorage[];
  /** Bytes `optimize({ cleanupOlderThan: new Date() })` would free (files no newest or tagged version names). */
  readonly reclaimableBytes: number;
}

/**
 * The table layer's classes, passed in by the connection rather than imported: this module loads on
 * demand, and importing them here would split them out of the core bundle into a shared chunk.
 */
export interface TableClasses {
  readonly Dataset: typeof Dataset;
  readonly Tags: typeof Tags;
  readonly filesOf: typeof filesOf;
}

/** Storage of each table in `names`. */
export async function tableStorage(store: BlobStore, session: Session, names: readonly string[], { Dataset, Tags, filesOf }: TableClasses): Promise<TableStorage[]> {
  const out: TableStorage[] = [];
  for (const name of names) {
    const dir = tableDir(name);
    const objects = await store.list(dir);
    const sizes = new Map(objects.map((o) => [o.key, o.size]));
    const ds = await Dataset.open(store, name, session);
    const latest = ds.head().version;
    const tagged = new Set(Object.values(await new Tags(ds).list()).map((t) => t.version));
    const versions: VersionStorage[] = [];
    const kept = new Set<string>();
    const named = new Set<string>();
    await ds.forEachVersionFile(await Dataset.listedVersions(store, name), (v, file) => {
      if (file.pruned) return;
      const files = [manifestKey(name, v), ...filesOf(file.manifest, dir)];
      versions.push({ version: v, bytes: files.reduce((s, k) => s + (sizes.get(k) ?? 0), 0) });
      for (const k of files) (v === latest || tagged.has(v) ? kept : named).add(k);
    });
    let reclaimableBytes = 0;
    for (const k of named) if (!kept.has(k)) reclaimableBytes += sizes.get(k) ?? 0;
    out.push({ name, bytes: objects.reduce((s, o) => s + o.size, 0), versions, reclaimableBytes });
  }
  return out;
}

/** What `db.storage()` reports. */
export interface StorageReport {
  /** Bytes the origin uses, from `navigator.storage.estimate()`; undefined where the runtime has no such API (Node, Deno). */
  readonly usage?: number;
  /** Bytes the origin may use, from the same estimate. */
  readonly quota?: number;
  /** Whether the browser keeps this origin's storage under pressure (`navigator.storage.persisted()`); undefined outside browsers. */
  readonly persistent?: boolean;
  /** The connection's `storageLimit`, if set. */
  readonly storageLimit?: number;
  /** Bytes of every object of this database (as stored: encrypted objects count their overhead). */
  readonly bytes: number;
  /** Sum of the tables' reclaimableBytes. */
  readonly reclaimableBytes: number;
  readonly tables: readonly TableStorage[];
}

/** The whole report: the origin's estimate and persistence (browsers), the database's bytes, each table's storage. */
export async function storageReport(store: BlobStore, session: Session, names: readonly string[], classes: TableClasses, storageLimit?: number): Promise<StorageReport> {
  const nav = navigatorStorage();
  const [estimate, persistent, objects, tables] = await Promise.all([
    nav?.estimate?.().catch(() => undefined),
    nav?.persisted?.().catch(() => undefined),
    store.list(""),
    tableStorage(store, session, names, classes),
  ]);
  return {
    ...(estimate?.usage !== undefined ? { usage: estimate.usage } : {}),
    ...(estimate?.quota !== undefined ? { quota: estimate.quota } : {}),
    ...(persistent !== undefined ? { persistent } : {}),
    ...(storageLimit !== undefined ? { storageLimit } : {}),
    bytes: objects.reduce((s, o) => s + o.size, 0),
    reclaimableBytes: tables.reduce((s, t) => s + t.reclaimableBytes, 0),
    tables,
  };
}
