/**
 * One table's versions in a BlobStore: reading manifests into states, writing data and deletion
 * files, and the commit protocol.
 *
 * Commit: every file a version names is written first (under a random name, so writers never
 * collide); then the manifest of version head+1 is written with putIfAbsent. If another writer took
 * that version, the transaction is checked against what the other commits did (their operation
 * records) and, if compatible, re-applied on top of the new head and retried; otherwise the write
 * fails with COMMIT_CONFLICT. Files of a failed commit stay unreferenced until cleanup.
 *
 * Why a successful putIfAbsent proves the commit extends the head: cleanup turns pruned manifests
 * into tombstones (src/storage/manifest.ts) instead of deleting them, so every version number from
 * the version floor up stays taken, and a writer behind the head is pushed forward to it, checking
 * each operation it skips over. Below the floor cleanup may free numbers (it deletes old tombstones,
 * after raising the floor): a put that lands there is checked against the floor afterwards and,
 * being an orphan no reader would open, taken back (see commit-rules.ts and docs/FORMAT.md).
 */
import { countReads, type ReadCounts } from "../storage/read-counter.js";
import type { RangeCache } from "../storage/range-reads.js";
import { createError } from "../errors.js";
import { columnBytes, concatColumns, type Column } from "../data/column.js";
import { findField, type Field, type Schema } from "../data/schema.js";
import { writeParts, type BlobStore } from "../storage/blob-store.js";
import { decodeDeletions, encodeDeletions } from "../storage/deletion-file.js";
import { randomId } from "../storage/envelope.js";
import { encodeFragmentParts, FragmentFile } from "../storage/fragment-file.js";
import {
  decodeVersionFile, encodeManifest, fileKey, fileRef, manifestKey, tableDir, versionFromKey, versionsPrefix,
  type FragmentEntry, type IndexEntry, type Manifest, type OperationRecord, type OperationType, type VersionFile,
} from "../storage/manifest.js";
import { mergeDeletions, type DataFile, type Fragment } from "./fragment.js";
import { compatible, floorAllows, readFloor, TOMBSTONE_KEEP, type Change } from "./commit-rules.js";
import type { Session } from "../session.js";

/** Identifies a fragment's data (its files and their column maps), which versions share. */
function fragmentKey(f: Pick<Fragment, "id" | "files">): string {
  return `${f.id}:${f.files.map((d) => `${d.key}=${JSON.stringify(d.columns)}`).join(",")}`;
}

export interface TableState {
  readonly version: number;
  /** Milliseconds since the epoch when this version was committed. */
  readonly timestamp: number;
  readonly schema: Schema;
  readonly fragments: readonly Fragment[];
  readonly nextFragmentId: number;
  readonly indices: readonly IndexEntry[];
  readonly config: Readonly<Record<string, unknown>>;
  readonly operation: OperationRecord;
  /** Random identity of the commit that made this version (see Manifest.commitId). */
  readonly commitId?: string;
}

/** A change to commit, computed against `readVersion`. Files it names are already written. */
export interface Transaction {
  readonly type: OperationType;
  readonly readVersion: number;
  /** New fragments; their ids are assigned at commit. */
  readonly added?: readonly Fragment[];
  /** Ids of fragments to drop. */
  readonly removed?: readonly number[];
  /** Fragments whose deletions (or columns) changed, by id. */
  readonly replaced?: readonly Fragment[];
  /** Replaces the whole fragment list (overwrite, restore). */
  readonly fragments?: readonly Fragment[];
  readonly schema?: Schema;
  readonly indices?: readonly IndexEntry[];
  readonly config?: Readonly<Record<string, unknown>>;
}

export interface VersionInfo {
  readonly version: number;
  readonly timestamp: Date;
  readonly metadata: { readonly operation: OperationType };
}

/** What the cache charges for an opened data file: its parsed footer, a few KiB. */
const READER_BYTES = 8 * 1024;
/** Upper bound of the random pause between commit attempts under contention, ms. */
const MAX_BACKOFF_MS = 100;
/** After this many consecutive versions found by probing, a refresh lists the versions instead. */
const PROBES_BEFORE_LISTING = 4;
function touchedIds(tx: Transaction): number[] {
  return [...(tx.removed ?? []), ...(tx.replaced ?? []).map((f) => f.id)];
}

export class Dataset {
  #head: TableState;
  /** Operation records by version, for conflict checks; immutable once committed (tombstones keep them). */
  readonly #operations = new Map<number, OperationRecord>();

  readonly store: BlobStore;
  /** Bytes and requests read through `store` since the dataset was opened (analyzePlan() reports the difference). */
  readonly reads: ReadCounts;

  private constructor(
    store: BlobStore,
    readonly table: string,
    head: TableState,
    /** Owns opened files and indexes (see src/session.ts). */
    readonly session: Session,
  ) {
    ({ store: this.store, reads: this.reads } = countReads(store));
    this.#head = head;
    if (store.remote === true) this.#rangeCache = sessionRangeCache(session, store.uri);
  }

  /** Rows read from remote data files, kept by (file, range) in the session across queries. */
  readonly #rangeCache: RangeCache | undefined;

  /** Prefix of session cache keys for this table's files. */
  get cacheKey(): string {
    return `${this.store.uri}|${tableDir(this.table)}`;
  }

  private get dir(): string {
    return tableDir(this.table);
  }

  /** Latest version on the store, or undefined when the table does not exist. */
  static async latestVersion(store: BlobStore, table: string): Promise<number | undefined> {
    return (await Dataset.listedVersions(store, table)).at(-1);
  }

  /** Version numbers with a key under `_versions/` (manifests and tombstones), ascending. */
  static async listedVersions(store: BlobStore, table: string): Promise<number[]> {
    return (await store.list(versionsPrefix(table)))
      .map((k) => versionFromKey(k.key)).filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  }

  static async open(store: BlobStore, table: string, session: Session, version?: number): Promise<Dataset> {
    const ds = new Dataset(store, table, undefined as unknown as TableState, session);
    if (version !== undefined) {
      ds.#head = await ds.readState(version);
      return ds;
    }
    const listed = await Dataset.listedVersions(store, table);
    if (listed.length === 0) throw createError("TABLE_NOT_FOUND", `No table "${table}" in ${store.uri}.`);
    ds.#head = await ds.readNewest(listed);
    return ds;
  }

  /**
   * The state of the newest readable version in `listed` (ascending). A listed version that cannot
   * be read was pruned after the listing (a newer one exists: list again) or is named by a stale
   * listing (an HTTP store's published `_listing.json` that is ahead of its files): fall back.
   */
  private async readNewest(listed: number[]): Promise<TableState> {
    let versions = listed;
    let skipped: unknown;
    for (let i = versions.length - 1; i >= 0; i--) {
      try {
        return await this.readState(versions[i]!);
      } catch (e) {
        if ((e as { code?: string }).code !== "NOT_FOUND") throw e;
        skipped ??= e;
        const again = await Dataset.listedVersions(this.store, this.table);
        if ((again.at(-1) ?? 0) > versions[i]!) { versions = again; i = versions.length; }
      }
    }
    throw skipped ?? createError("TABLE_NOT_FOUND", `No table "${this.table}" in ${this.store.uri}.`);
  }

  /**
   * A handle that only writes data files, for a table whose first version is not committed yet (a
   * streamed `createTable` writes its fragments first, then commits them with `create`).
   */
  static writer(store: BlobStore, table: string, session: Session): Dataset {
    return new Dataset(store, table, undefined as unknown as TableState, session);
  }

  /**
   * Commits version 1 of a new table, holding `initial` rows (already converted) if given, so a new
   * table appears whole or not at all. TABLE_EXISTS if any version exists.
   */
  static async create(
    store: BlobStore, table: string, session: Session, schema: Schema,
    initial?: { columns: Map<string, Column>; numRows: number } | { fragments: readonly Fragment[] }, config: Readonly<Record<string, unknown>> = {},
  ): Promise<Dataset> {
    const exists = (): never => { throw createError("TABLE_EXISTS", `Table "${table}" already exists in ${store.uri}.`); };
    if ((await Dataset.latestVersion(store, table)) !== undefined) exists();
    const ds = new Dataset(store, table, undefined as unknown as TableState, session);
    // Fragments written beforehand (a streamed import) or the initial rows' one fragment.
    const written = initial === undefined ? [] : "fragments" in initial ? initial.fragments
      : initial.numRows > 0 ? [await ds.writeFragment(schema, initial.columns, initial.numRows)] : [];
    const fragments = written.map((f, id) => ({ ...f, id }));
    const state: TableState = {
      version: 1, timestamp: Date.now(), schema, fragments, nextFragmentId: fragments.length, indices: [], config,
      operation: { type: "create", readVersion: 0, touched: [] },
    };
    const first = { ...state, commitId: randomId() };
    if (!(await store.putIfAbsent(manifestKey(table, 1), encodeManifest(ds.toManifest(first))))) exists();
    ds.#head = first;
    return ds;
  }

  head(): TableState {
    return this.#head;
  }

  /**
   * Moves the head to the newest committed version: probes the next few version keys (the usual
   * case is zero or one new commit), and lists the versions when the head is further behind.
   */
  async refresh(): Promise<TableState> {
    let v = this.#head.version;
    for (let probes = 0; ; probes++) {
      if (probes === PROBES_BEFORE_LISTING) return this.refreshFromListing();
      if ((await this.store.head(manifestKey(this.table, v + 1))) !== undefined) { v++; continue; }
      // v+1 is free, so v is the newest version — unless cleanup freed both (this handle is below
      // the version floor; cleanup keeps the tombstone after every live manifest, so a live v
      // never sits next to a freed v+1).
      if (probes === 0 && (await this.store.head(manifestKey(this.table, v))) === undefined) return this.refreshFromListing();
      break;
    }
    if (v !== this.#head.version) this.#head = await this.readNewest([v]);
    return this.#head;
  }

  private async refreshFromListing(): Promise<TableState> {
    const listed = await Dataset.listedVersions(this.store, this.table);
    if ((listed.at(-1) ?? 0) > this.#head.version) this.#head = await this.readNewest(listed);
    return this.#head;
  }

  /** What a version key holds, or undefined when there is no such key. */
  async versionFile(version: number): Promise<VersionFile | undefined> {
    const key = manifestKey(this.table, version);
    let bytes: Uint8Array;
    try {
      bytes = await this.store.get(key);
    } catch (e) {
      if ((e as { code?: string }).code === "NOT_FOUND") return undefined;
      throw e;
    }
    const file = decodeVersionFile(bytes, key);
    this.#operations.set(version, file.pruned ? file.tombstone.operation : file.manifest.operation);
    return file;
  }

  async manifest(version: number): Promise<Manifest> {
    const file = await this.versionFile(version);
    if (file === undefined || file.pruned) {
      const why = file === undefined ? "does not exist" : "was cleaned up by optimize()";
      throw createError("NOT_FOUND", `Version ${version} of table "${this.table}" ${why}.`, { version });
    }
    return file.manifest;
  }

  /**
   * For a change that has checked versions up to `checked`, far behind the head: versions below
   * the floor cannot be read, so the floor decides whether the change may skip them (appends may,
   * unless an exclusive operation happened there). Returns the new `checked`.
   */
  private async skipBelowFloor(change: Change, checked: number): Promise<number> {
    const floor = await readFloor(this.store, this.table);
    if (floor === undefined || checked + 1 >= floor.floor) return checked;
    if (!floorAllows(change, floor)) {
      throw createError(
        "COMMIT_CONFLICT",
        `This ${change.type} read version ${change.readVersion} of "${this.table}", and cleanup has since removed the records of versions up to ${floor.floor - 1}, so it cannot be checked against them. Reload the table and try again.`,
        { version: floor.floor - 1 },
      );
    }
    return floor.floor - 1;
  }

  /**
   * After putIfAbsent of `state.version` succeeded: whether it extends the head. At or above the
   * floor it does (those keys are never freed). Below it, the key may have been freed by cleanup:
   * the commit is real only if the next version was built on it. An orphan is deleted (false).
   */
  private async extendsHead(state: TableState): Promise<boolean> {
    const floor = await readFloor(this.store, this.table);
    if (floor === undefined || state.version >= floor.floor) return true;
    const read = async (v: number): Promise<VersionFile | undefined> => {
      try {
        return decodeVersionFile(await this.store.get(manifestKey(this.table, v)), manifestKey(this.table, v));
      } catch (e) {
        if ((e as { code?: string }).code === "NOT_FOUND") return undefined;
        throw e;
      }
    };
    const next = await read(state.version + 1);
    const parentOf = (f: VersionFile): string | undefined => (f.pruned ? f.tombstone.parentId : f.manifest.parentId);
    if (next !== undefined && parentOf(next) === state.commitId) return true;
    if (next === undefined) {
      // A real commit with its successor cleaned up would itself have been pruned first.
      const mine = await read(state.version);
      if (mine === undefined || mine.pruned) unconfirmed(this.table, state.version);
    }
    await this.store.delete(manifestKey(this.table, state.version));
    return false;
  }

  /**
   * A table with no version key left was dropped or its storage evicted by the browser: committing
   * would put back a manifest naming files that are gone — half a table. The key of the version a
   * commit builds on is checked first (one head request); only when it is gone (it may lie below
   * the version floor) are the versions listed.
   */
  private async checkStillThere(version: number): Promise<void> {
    if ((await this.store.head(manifestKey(this.table, version))) !== undefined) return;
    if ((await Dataset.latestVersion(this.store, this.table)) !== undefined) return;
    throw createError(
      "TABLE_NOT_FOUND",
      `Table "${this.table}" is gone from ${this.store.uri} (dropped, or its storage was cleared or evicted by the browser); nothing was committed.`,
      { version },
    );
  }

  /** What the commit of `version` did, for conflict checks. */
  private async operationOf(version: number): Promise<OperationRecord> {
    const known = this.#operations.get(version);
    if (known !== undefined) return known;
    if ((await this.versionFile(version)) === undefined) {
      // Only cleanup by a Quiver older than tombstones leaves such gaps.
      throw createError("COMMIT_CONFLICT", `Version ${version} of "${this.table}" is gone, so this write cannot be checked against it. Reload the table and try again.`, { version });
    }
    return this.#operations.get(version)!;
  }

  /** The state of any version; fragments still current keep their loaded columns. */
  async readState(version: number): Promise<TableState> {
    const m = await this.manifest(version);
    const known = new Map<string, Fragment>();
    for (const f of this.#head?.fragments ?? []) known.set(fragmentKey(f), f);
    return this.stateFrom(m, known, await this.loadDeletions(m));
  }

  private async loadDeletions(m: Manifest): Promise<Map<number, Uint8Array>> {
    const out = new Map<number, Uint8Array>();
    // Deletion files are immutable: ones the head already decoded are reused, not read again.
    const known = new Map<string, Uint8Array>();
    for (const f of this.#head?.fragments ?? []) if (f.deletionFile !== null && f.deletions !== null) known.set(f.deletionFile, f.deletions);
    await Promise.all(m.fragments.filter((f) => f.deletionFile !== null).map(async (f) => {
      const key = fileKey(this.dir, f.deletionFile!);
      out.set(f.id, known.get(key) ?? decodeDeletions(await this.store.get(key), f.numRows, key));
    }));
    return out;
  }

  private stateFrom(m: Manifest, known: Map<string, Fragment>, deletions = new Map<number, Uint8Array>()): TableState {
    const fragments = m.fragments.map((e: FragmentEntry): Fragment => {
      const files = e.files.map((d) => ({ key: fileKey(this.dir, d.file), size: d.size, columns: d.columns }));
      const del = deletions.get(e.id) ?? null;
      const frag = { id: e.id, numRows: e.numRows, files };
      return {
        ...frag,
        columns: known.get(fragmentKey(frag))?.columns ?? new Map(),
        deletions: del, deletionFile: e.deletionFile === null ? null : fileKey(this.dir, e.deletionFile),
        liveRows: e.numRows - e.deletedRows,
      };
    });
    return {
      version: m.version, timestamp: m.timestamp, schema: m.schema, fragments, nextFragmentId: m.nextFragmentId,
      indices: m.indices, config: m.config, operation: m.operation, commitId: m.commitId,
    };
  }

  /** Versions that can still be checked out (not pruned), ascending. */
  async versions(): Promise<VersionInfo[]> {
    const out: VersionInfo[] = [];
    await this.forEachVersionFile(await Dataset.listedVersions(this.store, this.table), (_, file) => {
      if (!file.pruned) out.push({ version: file.manifest.version, timestamp: new Date(file.manifest.timestamp), metadata: { operation: file.manifest.operation.type } });
    });
    return out;
  }

  /** Reads the files of `versions` a few at a time, in order; keys that vanished are skipped. */
  async forEachVersionFile(versions: readonly number[], fn: (version: number, file: VersionFile) => void): Promise<void> {
    const BATCH = 16;
    for (let i = 0; i < versions.length; i += BATCH) {
      const batch = versions.slice(i, i + BATCH);
      const files = await Promise.all(batch.map((v) => this.versionFile(v)));
      files.forEach((f, j) => { if (f !== undefined) fn(batch[j]!, f); });
    }
  }

  /** A fresh key for a data file of this table. */
  newDataFileKey(): string {
    return `${this.dir}data/${randomId()}.qvf`;
  }

  /** Writes one data file holding `fields` of `columns`. */
  /** A column may be given as pieces of consecutive rows (a stream's batches), written without joining them. */
  async writeDataFile(fields: readonly Field[], columns: ReadonlyMap<string, Column | readonly Column[]>, numRows: number): Promise<DataFile> {
    const parts = encodeFragmentParts(fields, columns, numRows);
    const key = this.newDataFileKey();
    await writeParts(this.store, key, parts);
    return { key, size: parts.reduce((n, p) => n + p.length, 0), columns: Object.fromEntries(fields.map((f) => [f.name, f.name])) };
  }

  /**
   * Writes a data file for `columns` (each a column or pieces of consecutive rows); the fragment
   * gets its id when committed.
   */
  async writeFragment(schema: Schema, columns: ReadonlyMap<string, Column | readonly Column[]>, numRows: number): Promise<Fragment> {
    const file = await this.writeDataFile(schema.fields, columns, numRows);
    // In memory the written columns are the cheapest copy to keep; elsewhere they are read back on
    // demand, so a long ingest does not hold every batch it wrote. Vector columns are never kept:
    // exact search reads them into WebAssembly memory (a session-owned vector block), and a second
    // copy in JS would double what the table costs.
    const keep = new Map<string, Column>();
    if (this.store.inMemory === true) {
      for (const field of schema.fields) {
        const given = columns.get(field.name);
        if (given === undefined || field.type.kind === "vector") continue;
        keep.set(field.name, Array.isArray(given) ? concatColumns(field.type, given as readonly Column[]) : given as Column);
      }
    }
    return { id: -1, numRows, files: [file], columns: keep, deletions: null, deletionFile: null, liveRows: numRows };
  }

  /** The data file of `frag` holding column `name` (own properties only: a column may be named "constructor"). */
  private fileOf(frag: Fragment, name: string): DataFile {
    const file = frag.files.find((d) => Object.hasOwn(d.columns, name));
    if (file === undefined) throw createError("CORRUPT_FILE", `Fragment ${frag.id} of "${this.table}" has no data file for column "${name}".`, { column: name });
    return file;
  }

  /**
   * Session cache key of column `name` of `frag`: the data file holding it and its name there, so
   * every version and fragment object over the same immutable data shares one entry.
   */
  columnCacheKey(frag: Fragment, name: string): string {
    const file = this.fileOf(frag, name);
    return `${this.store.uri}|${file.key}#${file.columns[name]!}`;
  }

  /** One column of `frag`, read from its data file without keeping it on the fragment. */
  async readColumn(schema: Schema, frag: Fragment, name: string): Promise<Column> {
    const field = findField(schema, name);
    if (field === undefined) throw createError("UNKNOWN_COLUMN", `No column "${name}" in "${this.table}".`, { column: name });
    const file = this.fileOf(frag, name);
    return (await this.reader(file)).readColumn(file.columns[name]!, field.type);
  }

  /** The fragment with rows flagged in `remove` deleted too (deletion file written); `null` if no row is left. */
  async writeDeletions(frag: Fragment, remove: Uint8Array): Promise<Fragment | null> {
    const merged = mergeDeletions(frag, remove);
    if (merged === null) return null;
    const deletionFile = `${this.dir}_deletions/${frag.id}-${randomId()}.qvd`;
    await this.store.put(deletionFile, encodeDeletions(merged.deletions));
    return { ...frag, deletions: merged.deletions, deletionFile, liveRows: merged.live };
  }

  /**
   * Reads the named columns of every fragment of `state` that does not hold them yet. Scalar and
   * text columns go through the session's cache (kind "column"), so a table opened again, or
   * another version sharing the data file, decodes them once while the budget allows. Vector
   * columns do not: exact search scans them as WebAssembly blocks, and a cached JS copy would
   * double what they cost.
   */
  async ensureColumns(state: TableState, names: Iterable<string>): Promise<void> {
    const fields = [...new Set(names)].map((n) => findField(state.schema, n)).filter((f) => f !== undefined);
    await Promise.all(state.fragments.map((frag) => Promise.all(fields.filter((f) => !frag.columns.has(f.name)).map(async (f) => {
      const file = this.fileOf(frag, f.name);
      const read = async (): Promise<Column> => (await this.reader(file)).readColumn(file.columns[f.name]!, f.type);
      if (f.type.kind === "vector") {
        frag.columns.set(f.name, await read());
        return;
      }
      // JS memory: the lease is returned at once; the fragment holds the column while it lives.
      const lease = await this.session.acquire("column", this.columnCacheKey(frag, f.name), async () => {
        const col = await read();
        // Strings and lists cost more than their characters: UTF-16 and a header per value.
        const boxed = col.type.kind === "utf8" || col.type.kind === "list";
        return { value: col, bytes: boxed ? columnBytes(col) * 2 + col.length * 24 : columnBytes(col) };
      });
      lease.release();
      frag.columns.set(f.name, lease.value);
    }))));
  }

  /** Whether column `name` of `frag` is decoded already (on the fragment or in the session's cache). */
  hasColumn(frag: Fragment, name: string): boolean {
    return frag.columns.has(name) || this.session.has(this.columnCacheKey(frag, name));
  }

  /**
   * Rows `rows` of one fixed-width column (vectors, numbers) of `frag`, range-read from its data
   * file without loading the column (see FragmentFile.readRows), its chunks through the session's
   * buffers. `out`: where the rows go (the column is a view of it). Does not cache them on `frag`.
   */
  async readRows(schema: Schema, frag: Fragment, name: string, rows: Int32Array, out?: Uint8Array): Promise<Column> {
    const field = findField(schema, name);
    if (field === undefined) throw createError("UNKNOWN_COLUMN", `No column "${name}" in "${this.table}".`, { column: name });
    const file = this.fileOf(frag, name);
    return (await this.reader(file)).readRows(file.columns[name]!, field.type, rows, this.session.buffers, out);
  }

  /**
   * Rows [first, first + count) of a fixed-width column, read into `buffer` (reused by the caller)
   * where the store and file allow it (FragmentFile.readRowsInto); undefined where they do not.
   */
  async readRowsInto(schema: Schema, frag: Fragment, name: string, first: number, count: number, buffer: Uint8Array): Promise<Column | undefined> {
    const field = findField(schema, name);
    if (field === undefined) throw createError("UNKNOWN_COLUMN", `No column "${name}" in "${this.table}".`, { column: name });
    const file = this.fileOf(frag, name);
    return (await this.reader(file)).readRowsInto(file.columns[name]!, field.type, first, count, buffer);
  }

  /**
   * Opens the data files holding `names` of `frags` (reads their footers) in the background, all
   * at once; a failure is left to the read that needs the file.
   */
  openFiles(frags: readonly Fragment[], names: readonly string[]): void {
    for (const f of frags) for (const file of new Set(names.map((n) => this.fileOf(f, n)))) this.reader(file, true).catch(() => {});
  }

  /**
   * The data file opened for reading (its footer parsed), from the session's cache. Readers hold
   * only JS memory, so the lease is returned at once: the GC keeps a reader alive while used.
   */
  private async reader(file: DataFile, ahead = false): Promise<FragmentFile> {
    if (!ahead) this.store.needed?.(file.key);
    const lease = await this.session.acquire("reader", `${this.store.uri}|${file.key}`, async () => {
      const reader = await FragmentFile.open(this.store, file.key, file.size, this.#rangeCache, ahead);
      return { value: reader, bytes: READER_BYTES };
    });
    lease.release();
    return lease.value;
  }

  private apply(head: TableState, tx: Transaction): TableState {
    let next = head.nextFragmentId;
    const added = (tx.added ?? []).map((f) => ({ ...f, id: next++ }));
    let fragments: Fragment[];
    if (tx.fragments !== undefined) {
      fragments = [...tx.fragments, ...added];
      next = Math.max(next, ...fragments.map((f) => f.id + 1));
    } else {
      const removed = new Set(tx.removed ?? []);
      const replaced = new Map((tx.replaced ?? []).map((f) => [f.id, f] as const));
      fragments = [...head.fragments.filter((f) => !removed.has(f.id)).map((f) => replaced.get(f.id) ?? f), ...added];
    }
    return {
      version: head.version + 1, timestamp: Date.now(), schema: tx.schema ?? head.schema, fragments, nextFragmentId: next,
      indices: tx.indices ?? head.indices, config: tx.config ?? head.config,
      operation: { type: tx.type, readVersion: tx.readVersion, touched: touchedIds(tx) },
      commitId: randomId(),
    };
  }

  private toManifest(s: TableState, parent?: TableState): Manifest {
    const rel = (key: string): string => fileRef(this.dir, key);
    return {
      version: s.version, timestamp: s.timestamp, schema: s.schema, nextFragmentId: s.nextFragmentId, indices: s.indices, config: s.config,
      operation: s.operation, commitId: s.commitId, parentId: parent?.commitId,
      fragments: s.fragments.map((f) => ({
        id: f.id, files: f.files.map((d) => ({ file: rel(d.key), size: d.size, columns: d.columns })), numRows: f.numRows,
        deletionFile: f.deletionFile === null ? null : rel(f.deletionFile), deletedRows: f.numRows - f.liveRows,
      })),
    };
  }

  /**
   * Commits `tx`, rebasing it over compatible concurrent commits. Each version committed since
   * `tx.readVersion` is checked once, however many attempts it takes; there is no attempt limit,
   * because an attempt fails only when another commit succeeded (the table moves forward).
   */
  async commit(tx: Transaction): Promise<TableState> {
    return withCommitLock(`${this.store.uri}/${this.table}`, async () => {
      let head = this.#head.version >= tx.readVersion ? this.#head : await this.readState(tx.readVersion);
      const change: Change = { type: tx.type, readVersion: tx.readVersion, touched: touchedIds(tx) };
      let checked = tx.readVersion;
      for (let attempt = 0; ; attempt++) {
        if (head.version - checked > TOMBSTONE_KEEP) checked = await this.skipBelowFloor(change, checked);
        for (let v = checked + 1; v <= head.version; v++) {
          const theirs = v === head.version ? head.operation : await this.operationOf(v);
          if (!compatible(change, theirs)) {
            throw createError(
              "COMMIT_CONFLICT",
              `Another writer committed version ${v} of "${this.table}" (${theirs.type}) after this ${tx.type} read version ${tx.readVersion}; the two cannot be combined. Reload the table and try again.`,
              { version: v, operation: theirs.type },
            );
          }
        }
        checked = head.version;
        await this.checkStillThere(head.version);
        const state = this.apply(head, tx);
        if (await this.store.putIfAbsent(manifestKey(this.table, state.version), encodeManifest(this.toManifest(state, head)))) {
          if (await this.extendsHead(state)) {
            this.#head = state;
            this.#operations.set(state.version, state.operation);
            return state;
          }
          // An orphan, taken back: start over from the newest version, trusting nothing below the floor.
          head = await this.refreshFromListing();
          checked = tx.readVersion;
          continue;
        }
        const behind = head.version;
        head = await this.refresh();
        if (head.version <= behind) {
          // The key is taken, yet no newer version shows: the store is not behaving atomically.
          throw createError("COMMIT_CONFLICT", `Version ${behind + 1} of "${this.table}" exists but cannot be read as the newest version; nothing was committed. Reload the table and try again.`, { version: behind + 1 });
        }
        // The first retry is expected (this handle was behind); after that, writers are racing.
        if (attempt > 0) await pause(Math.random() * Math.min(MAX_BACKOFF_MS, 2 ** attempt));
      }
    });
  }
}

/** What a commit that cannot be confirmed reports. */
function unconfirmed(table: string, version: number): never {
  throw createError(
    "COMMIT_CONFLICT",
    `Cannot confirm the commit of version ${version} of "${table}": cleanup removed the versions around it while it was being written, so it may or may not be part of the table. Reload the table and check before writing again.`,
    { version },
  );
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/**
 * In browsers, Web Locks serialize committers across tabs and workers of one origin, so they queue
 * instead of racing; putIfAbsent stays the guarantee everywhere else.
 */
function withCommitLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  return locks ? locks.request(`quiverdb-commit:${name}`, fn) : fn();
}

/**
 * The session's cache as a RangeCache (kind "range"), keyed `<store>|<file>@<offset>+<length>` so
 * that dropping a file's or a table's entries by prefix drops its ranges too.
 */
function sessionRangeCache(session: Session, uri: string): RangeCache {
  const key = (file: string, r: { offset: number; length: number }): string => `${uri}|${file}@${r.offset}+${r.length}`;
  return {
    get: (file, r) => session.get<Uint8Array>(key(file, r)),
    set: (file, r, bytes) => { if (!session.closed) session.put("range", key(file, r), { value: bytes, bytes: bytes.byteLength }); },
  };
}
