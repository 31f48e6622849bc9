/**
 * Manifests (`<table>.quiver/_versions/<version>.qvm`): one per version, naming everything that
 * version consists of. Writing the manifest with putIfAbsent is the commit point; every file it
 * names is written before it. Layout: a checked envelope (src/storage/envelope.ts) around JSON.
 *
 * Cleanup never frees a version's key: it overwrites a pruned manifest with a *tombstone* (magic
 * "QVMP") that keeps only the commit's identity and operation record. A writer whose head is stale
 * therefore finds every used version number taken and cannot commit "into the past"; later writers
 * still read the pruned commit's operation record to decide about conflicts.
 */
import type { Schema } from "../data/schema.js";
import { corrupt, decodeJson, encodeJson, openEnvelope, sealEnvelope } from "./envelope.js";

export const MANIFEST_FORMAT_VERSION = 2;
const MAGIC = "QVMF";
const TOMBSTONE_MAGIC = "QVMP";
export const TOMBSTONE_FORMAT_VERSION = 2;

export type OperationType =
  | "create" | "append" | "delete" | "update" | "merge" | "overwrite" | "restore"
  | "add_columns" | "alter_columns" | "drop_columns" | "create_index" | "drop_index" | "optimize" | "rekey";

/** What the commit that produced a version did; later writers read it to decide about conflicts. */
export interface OperationRecord {
  readonly type: OperationType;
  /** The version the writer read before writing. */
  readonly readVersion: number;
  /** Ids of fragments the operation removed or rewrote (their deletions or columns). */
  readonly touched: readonly number[];
}

export interface DataFileEntry {
  /** Key of the data file, relative to the table's folder. */
  readonly file: string;
  readonly size: number;
  /** Table column name → column name inside the file. */
  readonly columns: Readonly<Record<string, string>>;
}

export interface FragmentEntry {
  readonly id: number;
  readonly files: readonly DataFileEntry[];
  readonly numRows: number;
  readonly deletionFile: string | null;
  readonly deletedRows: number;
}

/** An index file named by a version; the ANN and FTS layers define `params`. */
export interface IndexEntry {
  readonly name: string;
  readonly columns: readonly string[];
  readonly kind: string;
  readonly file: string;
  readonly fileSize: number;
  /**
   * IVF indexes: bytes from the start of the file a reader needs to open it (the head), so that
   * it reads them at once instead of the preamble first. Absent in manifests written before it.
   */
  readonly headLength?: number;
  /** Fragment ids the index covers; rows of other fragments are searched flat. */
  readonly fragments: readonly number[];
  readonly params: Readonly<Record<string, unknown>>;
}

export interface Manifest {
  readonly version: number;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  readonly schema: Schema;
  readonly fragments: readonly FragmentEntry[];
  readonly nextFragmentId: number;
  readonly indices: readonly IndexEntry[];
  /** Table-level settings that travel with the data (e.g. embedding function configs). */
  readonly config: Readonly<Record<string, unknown>>;
  readonly operation: OperationRecord;
  /** Random identity of this commit (absent in manifests written before it existed). */
  readonly commitId?: string;
  /** `commitId` of the version this one was applied on top of. */
  readonly parentId?: string;
}

/** What a pruned version's key still holds: enough to check conflicts, nothing to read. */
export interface Tombstone {
  readonly version: number;
  readonly timestamp: number;
  readonly operation: OperationRecord;
  readonly commitId?: string;
  readonly parentId?: string;
  /** When cleanup pruned it, ms since the epoch. */
  readonly prunedAt: number;
}

/** The content of a version key: a live manifest or the tombstone of a pruned one. */
export type VersionFile = { readonly pruned: false; readonly manifest: Manifest } | { readonly pruned: true; readonly tombstone: Tombstone };

export function encodeManifest(m: Manifest): Uint8Array {
  return sealEnvelope(MAGIC, MANIFEST_FORMAT_VERSION, encodeJson(m));
}

export function encodeTombstone(m: Manifest | Tombstone, prunedAt: number): Uint8Array {
  const t: Tombstone = { version: m.version, timestamp: m.timestamp, operation: m.operation, commitId: m.commitId, parentId: m.parentId, prunedAt };
  return sealEnvelope(TOMBSTONE_MAGIC, TOMBSTONE_FORMAT_VERSION, encodeJson(t));
}

function isOperation(op: unknown): op is OperationRecord {
  const o = op as OperationRecord;
  return typeof o === "object" && o !== null && typeof o.type === "string" && Number.isInteger(o.readVersion) && Array.isArray(o.touched);
}

/** Decodes a version key's content, telling manifests from tombstones by their magic. */
export function decodeVersionFile(bytes: Uint8Array, what: string): VersionFile {
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== TOMBSTONE_MAGIC) return { pruned: false, manifest: decodeManifest(bytes, what) };
  const { payload } = openEnvelope(TOMBSTONE_MAGIC, TOMBSTONE_FORMAT_VERSION, bytes, what);
  const t = decodeJson<Tombstone>(payload, what);
  if (typeof t !== "object" || t === null || !Number.isInteger(t.version) || typeof t.timestamp !== "number" || !isOperation(t.operation)) {
    corrupt(what, "its tombstone fields are malformed");
  }
  return { pruned: true, tombstone: t };
}

export function decodeManifest(bytes: Uint8Array, what: string): Manifest {
  const { payload } = openEnvelope(MAGIC, MANIFEST_FORMAT_VERSION, bytes, what);
  const m = decodeJson<Manifest>(payload, what);
  const okInt = (x: unknown): boolean => Number.isInteger(x) && (x as number) >= 0;
  if (typeof m !== "object" || m === null || !okInt(m.version) || !okInt(m.nextFragmentId) || typeof m.timestamp !== "number") corrupt(what, "its header fields are malformed");
  if (typeof m.schema !== "object" || m.schema === null || !Array.isArray(m.schema.fields)) corrupt(what, "it has no schema");
  if (!Array.isArray(m.fragments) || !Array.isArray(m.indices)) corrupt(what, "its fragment or index list is malformed");
  for (const f of m.fragments) {
    if (!okInt(f?.id) || !Array.isArray(f.files) || !okInt(f.numRows) || !okInt(f.deletedRows) || (f.deletionFile !== null && typeof f.deletionFile !== "string")) {
      corrupt(what, "a fragment entry is malformed");
    }
    for (const d of f.files) {
      if (typeof d?.file !== "string" || !okInt(d.size) || typeof d.columns !== "object" || d.columns === null) corrupt(what, "a data file entry is malformed");
    }
  }
  if (!isOperation(m.operation)) corrupt(what, "its operation record is malformed");
  return m;
}

/**
 * A table is the folder `<name>.quiver/`. (The suffix names Quiver's own format: it is not Lance's,
 * though the model — fragments, manifests per version, deletion files — follows LanceDB.)
 */
export const TABLE_SUFFIX = ".quiver";

/** The folder of table `table`, with its trailing "/". */
export function tableDir(table: string): string {
  return `${table}${TABLE_SUFFIX}/`;
}

/**
 * The store key of a file a manifest names. Paths are relative to the table's folder; a path that
 * starts with "../" names a file of another table of the same database (a shallow clone shares its
 * source's files that way, see docs/FORMAT.md): "../src.quiver/data/x.qvf" is "src.quiver/data/x.qvf".
 */
export function fileKey(dir: string, file: string): string {
  return file.startsWith("../") ? file.slice(3) : dir + file;
}

/** The manifest path of the file at `key`, as seen from the table folder `dir` (the inverse of fileKey). */
export function fileRef(dir: string, key: string): string {
  return key.startsWith(dir) ? key.slice(dir.length) : `../${key}`;
}

/** Zero-padded so that keys sort in version order. */
export function manifestKey(table: string, version: number): string {
  return `${tableDir(table)}_versions/${String(version).padStart(20, "0")}.qvm`;
}

export function versionsPrefix(table: string): string {
  return `${tableDir(table)}_versions/`;
}

export function versionFromKey(key: string): number | undefined {
  const m = /\/(\d{20})\.qvm$/.exec(key);
  return m ? Number(m[1]) : undefined;
}

/**
 * The version floor (`<table>.quiver/_floor/<20-digit F>.qvf`, a checked envelope "QVFL" around
 * JSON): cleanup may delete tombstones of versions below F, so keys below F may be free again,
 * while keys at or above F never are. The floor is the largest F among the floor files (they are
 * written once each and only ever added above the last), so two cleanups racing cannot lower it.
 */
export interface VersionFloor {
  readonly floor: number;
  /** The largest version below `floor` whose operation was exclusive (0 if none): appends check it. */
  readonly maxExclusive: number;
}

const FLOOR_MAGIC = "QVFL";

export function floorPrefix(table: string): string {
  return `${tableDir(table)}_floor/`;
}

export function floorKey(table: string, floor: number): string {
  return `${floorPrefix(table)}${String(floor).padStart(20, "0")}.qvf`;
}

export function floorFromKey(key: string): number | undefined {
  const m = /\/(\d{20})\.qvf$/.exec(key);
  return m ? Number(m[1]) : undefined;
}

export function encodeFloor(f: VersionFloor): Uint8Array {
  return sealEnvelope(FLOOR_MAGIC, 2, encodeJson(f));
}

export function decodeFloor(bytes: Uint8Array, what: string): VersionFloor {
  const f = decodeJson<VersionFloor>(openEnvelope(FLOOR_MAGIC, 2, bytes, what).payload, what);
  if (typeof f !== "object" || f === null || !Number.isInteger(f.floor) || !Number.isInteger(f.maxExclusive)) corrupt(what, "its fields are malformed");
  return f;
}

/** Age past which a writer's temporary file is taken for one a crashed writer left (cleanup, drop). */
export const TEMPORARY_FILE_AGE_MS = 3600 * 1000;

/** Every file a version names: its fragments' data and deletion files and its index files. */
export function filesOf(m: Manifest, dir: string): string[] {
  const out: string[] = [];
  for (const f of m.fragments) {
    for (const d of f.files) out.push(fileKey(dir, d.file));
    if (f.deletionFile !== null) out.push(fileKey(dir, f.deletionFile));
  }
  for (const i of m.indices) out.push(fileKey(dir, i.file));
  return out;
}
