/**
 * Backups: one version of a table — its manifest, the data, deletion and (optionally) index files
 * it names, and the tags that point at it — as one self-describing, checksummed archive, and the
 * restore that recreates a table from it. Format (docs/FORMAT.md, "Backup archive"):
 *
 *   0      "QVBK"
 *   4      u32 format version (1)
 *   8      u32 header length H
 *   12     header: UTF-8 JSON { table, version, createdAt, includeIndexes, files: [{ path, size, crc32 }] }
 *   12+H   u32 CRC-32 of bytes 0 .. 12+H
 *   16+H   the files' bytes, in header order (paths relative to the table folder; the manifest
 *          `_versions/<20 digits>.qvm` comes after the files it names, then the tags)
 *   end    "QVBE", u32 number of files, u64 total file bytes
 *
 * An archive of an encrypted table is sealed: "QVBX", u32 version (1), u32 length J, JSON
 * `{ keyId, kdf }` (which key sealed it; a passphrase's salt), then the QVBK archive sealed as one
 * object with the chunked AES-GCM layout of encrypted-store.ts, under the object key
 * `backup/<table>` (so it opens with the same key — or passphrase — on any database).
 *
 * Restore reads the whole archive, checks every checksum (and, sealed, every chunk's tag) before
 * it writes anything, writes the files, then the manifest with putIfAbsent (the commit), then the
 * tags. The restored table is at the backed-up version number. A damaged or truncated archive is
 * CORRUPT_FILE and creates nothing; a failed write removes what it wrote.
 */
import { createError } from "../errors.js";
import type { Dataset, TableState } from "../dataset/dataset.js";
import type { BlobStore } from "../storage/blob-store.js";
import { crc32 } from "../storage/crc32.js";
import { EncryptedStore } from "../storage/encrypted-store.js";
import { resolveKey, type EncryptionKeyInput, type EncryptionOptions, type KdfParams, type ResolvedKey } from "../storage/encryption-key.js";
import { decodeJson, encodeJson } from "../storage/envelope.js";
import type { decodeManifest, encodeManifest, Manifest } from "../storage/manifest.js";

/**
 * The manifest codec, passed in by the table layer rather than imported: this module loads on
 * demand, and importing storage/manifest.ts here would split it out of the core bundle.
 */
export interface ManifestCodec {
  readonly decodeManifest: typeof decodeManifest;
  readonly encodeManifest: typeof encodeManifest;
}

/** Paths inside a table folder (docs/FORMAT.md): the folder, and a version's manifest. */
const tableDir = (table: string): string => `${table}.quiver/`;
const manifestPath = (version: number): string => `_versions/${String(version).padStart(20, "0")}.qvm`;

export interface BackupOptions {
  /** Version to back up (default: the version the table handle reads). */
  version?: number;
  /** Include index files (default true); without them the restored table has no indexes. */
  includeIndexes?: boolean;
  /** Called after each file is read: files done and files in all. */
  progress?: (done: number, total: number) => void;
}

export interface RestoreBackupOptions {
  /** Name of the table to create (TABLE_EXISTS if it exists). */
  name: string;
  /** Keys for a sealed archive, when they differ from the connection's (e.g. restoring into another database). */
  encryption?: EncryptionOptions;
}

/** What `restoreBackup` reads: a Blob or File, bytes, or a stream of bytes. */
export type BackupSource = Blob | Uint8Array | ArrayBuffer | ReadableStream<Uint8Array>;

interface ArchiveFile { path: string; size: number; crc32: number }
interface ArchiveHeader { table: string; version: number; createdAt: number; includeIndexes: boolean; files: ArchiveFile[] }

/** What an EncryptedStore that only seals and opens archives stands on: no objects. */
const NO_STORE = { uri: "backup archive", readOnly: true } as BlobStore;

const PLAIN = "QVBK";
const SEALED = "QVBX";
const END = "QVBE";
const FORMAT_VERSION = 1;
const ascii = (s: string): Uint8Array => new Uint8Array([...s].map((c) => c.charCodeAt(0)));
const isMagic = (b: Uint8Array, m: string): boolean => b.length >= 4 && [...m].every((c, i) => b[i] === c.charCodeAt(0));

function damaged(why: string): never {
  throw createError("CORRUPT_FILE", `The backup archive is damaged: ${why}. Nothing was restored.`);
}

/** The archive of `state` (a version of `ds`), as a Blob. */
export async function writeBackup(ds: Dataset, state: TableState, tagNames: readonly string[], codec: ManifestCodec, options: BackupOptions = {}): Promise<Blob> {
  const dir = tableDir(ds.table);
  const includeIndexes = options.includeIndexes ?? true;
  const paths: string[] = [];
  for (const f of state.fragments) {
    for (const d of f.files) paths.push(d.key.slice(dir.length));
    if (f.deletionFile !== null) paths.push(f.deletionFile.slice(dir.length));
  }
  if (includeIndexes) for (const e of state.indices) paths.push(e.file);
  let manifest = await ds.store.get(dir + manifestPath(state.version));
  if (!includeIndexes && state.indices.length > 0) manifest = codec.encodeManifest({ ...codec.decodeManifest(manifest, "manifest"), indices: [] });
  const tags = tagNames.map((name) => `_refs/tags/${name}.json`);

  const total = paths.length + 1 + tags.length;
  const files: ArchiveFile[] = [];
  const bodies: Uint8Array[] = [];
  const add = (path: string, bytes: Uint8Array): void => {
    files.push({ path, size: bytes.length, crc32: crc32(bytes) });
    bodies.push(bytes);
    options.progress?.(files.length, total);
  };
  for (const path of paths) add(path, await ds.store.get(dir + path));
  add(manifestPath(state.version), manifest);
  for (const path of tags) add(path, await ds.store.get(dir + path));

  const header: ArchiveHeader = { table: ds.table, version: state.version, createdAt: Date.now(), includeIndexes, files };
  const json = encodeJson(header);
  const head = new Uint8Array(16 + json.length);
  const dv = new DataView(head.buffer);
  head.set(ascii(PLAIN), 0);
  dv.setUint32(4, FORMAT_VERSION, true);
  dv.setUint32(8, json.length, true);
  head.set(json, 12);
  dv.setUint32(12 + json.length, crc32(head.subarray(0, 12 + json.length)), true);
  const totalBytes = files.reduce((s, f) => s + f.size, 0);
  const end = new Uint8Array(16);
  end.set(ascii(END), 0);
  new DataView(end.buffer).setUint32(4, files.length, true);
  new DataView(end.buffer).setFloat64(8, totalBytes, true);
  const parts = [head, ...bodies, end];

  if (!(ds.store instanceof EncryptedStore)) return new Blob(parts as BlobPart[], { type: "application/octet-stream" });
  return sealArchive(ds.store, ds.table, parts);
}

async function sealArchive(store: EncryptedStore, table: string, parts: Uint8Array[]): Promise<Blob> {
  const plain = concat(parts);
  const sealed = await new EncryptedStore(NO_STORE, { ...store.keyring, current: store.writeKey }).seal(`backup/${table}`, plain);
  const json = encodeJson({ keyId: store.writeKey.id, kdf: store.keyring.kdf, table });
  const head = new Uint8Array(12 + json.length);
  head.set(ascii(SEALED), 0);
  new DataView(head.buffer).setUint32(4, FORMAT_VERSION, true);
  new DataView(head.buffer).setUint32(8, json.length, true);
  head.set(json, 12);
  return new Blob([head, sealed] as BlobPart[], { type: "application/octet-stream" });
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

async function readSource(source: BackupSource): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (typeof Blob !== "undefined" && source instanceof Blob) return new Uint8Array(await source.arrayBuffer());
  if (typeof (source as ReadableStream<Uint8Array>)?.getReader === "function") {
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    const chunks: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    return concat(chunks);
  }
  throw createError("INVALID_ARGUMENT", "restoreBackup needs a Blob or File, a Uint8Array, an ArrayBuffer or a ReadableStream of bytes.");
}

/** The plain archive inside a sealed one, opened with the connection's keys or `encryption`. */
async function openSealed(bytes: Uint8Array, store: BlobStore, encryption: EncryptionOptions | undefined): Promise<Uint8Array> {
  if (bytes.length < 12) damaged("it is cut short");
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  if (12 + len > bytes.length) damaged("its header is cut short");
  const info = decodeJson<{ keyId?: string; kdf?: KdfParams; table?: string }>(bytes.subarray(12, 12 + len), "backup archive");
  if (typeof info.keyId !== "string" || typeof info.table !== "string") damaged("its header lacks the key id");
  const keys = new Map<string, ResolvedKey>();
  const derive = async (inputs: readonly EncryptionKeyInput[]): Promise<void> => {
    for (const k of inputs) {
      const r = await resolveKey(k, info.kdf);
      keys.set(r.id, r);
    }
  };
  if (encryption !== undefined) {
    await derive([encryption.key, ...(encryption.previousKeys ?? [])]);
  } else if (store instanceof EncryptedStore) {
    for (const [id, k] of store.keyring.byId) keys.set(id, k);
    // From another database, a passphrase derives another key (that database's salt).
    if (!keys.has(info.keyId)) await derive((store.keyring.inputs ?? []).filter((k) => typeof k === "object" && "passphrase" in k));
  }
  const key = keys.get(info.keyId);
  if (key === undefined) {
    throw createError("WRONG_KEY", `The backup archive is encrypted with key ${info.keyId}, which ${encryption ? "the given encryption options do not hold" : "this connection does not hold"}: pass { encryption: { key } } (or the passphrase) it was made with.`, { keyId: info.keyId });
  }
  return new EncryptedStore(NO_STORE, { current: key, byId: keys, registered: new Set(keys.keys()) }).open(`backup/${info.table}`, bytes.subarray(12 + len));
}

interface VerifiedArchive { header: ArchiveHeader; files: Map<string, Uint8Array>; manifest: Manifest; manifestPath: string }

/** Parses and checks a plain archive: header checksum, every file's checksum, the end record, the manifest. */
function verifyArchive(bytes: Uint8Array, { decodeManifest }: ManifestCodec): VerifiedArchive {
  if (bytes.length < 16 || !isMagic(bytes, PLAIN)) damaged(`it does not start with "${PLAIN}" or "${SEALED}"`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(4, true);
  const len = dv.getUint32(8, true);
  if (16 + len > bytes.length) damaged("its header is cut short");
  if (dv.getUint32(12 + len, true) !== crc32(bytes.subarray(0, 12 + len))) damaged("the header checksum does not match");
  if (version > FORMAT_VERSION) throw createError("UNSUPPORTED", `The backup archive uses format ${version}; this build reads ${FORMAT_VERSION}. Upgrade quiverdb.`);
  const header = decodeJson<ArchiveHeader>(bytes.subarray(12, 12 + len), "backup archive header");
  if (!Array.isArray(header.files) || !Number.isInteger(header.version)) damaged("its header lists no files");
  const PATH = /^(?:data|_deletions|_indices|_versions|_refs\/tags)\/[A-Za-z0-9_.-]+$/;
  for (const f of header.files) if (typeof f.path !== "string" || !PATH.test(f.path) || !Number.isSafeInteger(f.size) || f.size < 0) damaged(`it lists an invalid file ${JSON.stringify(f.path)}`);
  let at = 16 + len;
  const files = new Map<string, Uint8Array>();
  for (const f of header.files) {
    if (at + f.size > bytes.length) damaged(`it ends inside "${f.path}"`);
    const body = bytes.subarray(at, at + f.size);
    if (crc32(body) !== f.crc32) damaged(`"${f.path}" fails its checksum`);
    files.set(f.path, body);
    at += f.size;
  }
  if (bytes.length !== at + 16 || !isMagic(bytes.subarray(at), END)) damaged("its end record is missing (the archive is truncated) or it has bytes after it");
  const end = new DataView(bytes.buffer, bytes.byteOffset + at, 16);
  if (end.getUint32(4, true) !== header.files.length || end.getFloat64(8, true) !== header.files.reduce((s, f) => s + f.size, 0)) damaged("its end record does not match its header");
  const path = manifestPath(header.version);
  if (!files.has(path)) damaged(`it holds no manifest of version ${header.version}`);
  const manifest = decodeManifest(files.get(path)!, path);
  const named = [
    ...manifest.fragments.flatMap((f) => [...f.files.map((d) => d.file), ...(f.deletionFile === null ? [] : [f.deletionFile])]),
    ...manifest.indices.map((e) => e.file),
  ];
  for (const path of named) if (!files.has(path)) damaged(`the manifest names "${path}", which it does not hold`);
  return { header, files, manifest, manifestPath: path };
}

/**
 * Recreates table `name` in `store` from an archive; returns the restored version. Everything is
 * checked first; then files, the manifest (the commit), the tags.
 */
export async function restoreBackup(store: BlobStore, source: BackupSource, options: RestoreBackupOptions, exists: () => Promise<boolean>, codec: ManifestCodec): Promise<number> {
  if (store.readOnly) throw createError("READ_ONLY", `${store.uri} is read-only; tables cannot be restored there.`);
  let bytes = await readSource(source);
  if (isMagic(bytes, SEALED)) bytes = await openSealed(bytes, store, options.encryption);
  const archive = verifyArchive(bytes, codec);
  if (await exists()) throw createError("TABLE_EXISTS", `Table "${options.name}" already exists in ${store.uri}; restore under another name or drop it first.`);
  const dir = tableDir(options.name);
  const written: string[] = [];
  const tags = archive.header.files.filter((f) => f.path.startsWith("_refs/"));
  try {
    for (const f of archive.header.files) {
      if (f.path === archive.manifestPath || f.path.startsWith("_refs/")) continue;
      await store.put(dir + f.path, archive.files.get(f.path)!);
      written.push(dir + f.path);
    }
    if (!(await store.putIfAbsent(dir + archive.manifestPath, archive.files.get(archive.manifestPath)!))) {
      throw createError("TABLE_EXISTS", `Table "${options.name}" was created in ${store.uri} while the backup was being restored.`);
    }
  } catch (e) {
    await Promise.all(written.map((k) => store.delete(k).catch(() => undefined)));
    throw e;
  }
  // The table exists from here on; tags follow (a failure leaves it untagged, not broken).
  for (const f of tags) await store.put(dir + f.path, archive.files.get(f.path)!);
  return archive.header.version;
}
