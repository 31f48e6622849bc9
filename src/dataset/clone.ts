/**
 * Moving and cloning tables inside one database (docs/FORMAT.md, "Clones and renames").
 *
 * A shallow clone is a new table whose first manifest names its source's immutable files through
 * "../<source>.quiver/…" paths instead of copying them. What keeps those files alive is a *clone
 * marker* in each folder whose files the clone names, `<folder>/_clones/<clone>-<id>.qvc`, listing
 * them: cleanup of that table keeps every file a marker lists, whatever its own versions say.
 * The marker is written before the clone's manifest and goes only when the clone is dropped, so a
 * clone never loses a file however the source is compacted or cleaned up. A table with markers
 * cannot be dropped or renamed (its clones would lose their files); drop the clones first.
 */
import { createError } from "../errors.js";
import type { BlobStore } from "../storage/blob-store.js";
import { corrupt, decodeJson, encodeJson, openEnvelope, randomId, sealEnvelope } from "../storage/envelope.js";
import type { Manifest } from "../storage/manifest.js";
import type { Session } from "../session.js";
import type { Dataset } from "./dataset.js";
import type { Tags } from "./tags.js";
import type { CloneKit } from "./clone-kit.js";

const MARKER_MAGIC = "QVCL";
const MARKER_FORMAT_VERSION = 1;
const CLONES = "_clones/";

interface CloneMarker {
  /** The clone that names the files. */
  readonly clone: string;
  /** Store keys of the files kept for it. */
  readonly files: readonly string[];
}

/** What a clone's config records about its source (manifest `config.clonedFrom`). */
export interface ClonedFrom {
  readonly table: string;
  readonly version: number;
  readonly shallow: boolean;
  /** Keys of the markers this clone placed in other tables' folders. */
  readonly markers: readonly string[];
}

function decodeMarker(bytes: Uint8Array, what: string): CloneMarker {
  const m = decodeJson<CloneMarker>(openEnvelope(MARKER_MAGIC, MARKER_FORMAT_VERSION, bytes, what).payload, what);
  if (typeof m !== "object" || m === null || typeof m.clone !== "string" || !Array.isArray(m.files) || !m.files.every((f) => typeof f === "string")) {
    corrupt(what, "its clone marker fields are malformed");
  }
  return m;
}

/** Files under table folder `dir` that clones of it still name: cleanup must keep them. */
export async function filesKeptForClones(k: CloneKit, store: BlobStore, dir: string): Promise<Set<string>> {
  const kept = new Set<string>();
  for (const info of await store.list(dir + CLONES)) for (const f of decodeMarker(await store.get(info.key), info.key).files) kept.add(f);
  return kept;
}

/** Names of the clones that hold files of `table` (empty when none). */
export async function clonesOf(k: CloneKit, store: BlobStore, table: string): Promise<string[]> {
  const out = new Set<string>();
  for (const info of await store.list(k.tableDir(table) + CLONES)) out.add(decodeMarker(await store.get(info.key), info.key).clone);
  return [...out].sort();
}

/** Refuses to drop or rename `table` while clones hold its files. */
export async function checkNoClones(k: CloneKit, store: BlobStore, table: string, what: string): Promise<void> {
  const clones = await clonesOf(k, store, table);
  if (clones.length > 0) {
    throw createError("INVALID_ARGUMENT", `Cannot ${what} table "${table}": ${clones.map((c) => `"${c}"`).join(", ")} ${clones.length === 1 ? "is a clone" : "are clones"} sharing its files. Drop the clones first.`, { clones });
  }
}

/** The markers a clone placed (from its newest manifest's config), removed when it is dropped. */
export async function releaseClone(store: BlobStore, config: Readonly<Record<string, unknown>>): Promise<void> {
  const from = config.clonedFrom as ClonedFrom | undefined;
  for (const key of from?.markers ?? []) await store.delete(key);
}

/** `m` with each file path rewritten by `move` (from the source folder's view to the clone's). */
function rewritePaths(m: Manifest, move: (file: string) => string): Pick<Manifest, "fragments" | "indices"> {
  return {
    fragments: m.fragments.map((f) => ({ ...f, files: f.files.map((d) => ({ ...d, file: move(d.file) })), deletionFile: f.deletionFile === null ? null : move(f.deletionFile) })),
    indices: m.indices.map((i) => ({ ...i, file: move(i.file) })),
  };
}

/**
 * Commits version 1 of `target` as a clone of `source` at `version` (a live manifest `m`).
 * Shallow: markers first, then a check that the source version was not cleaned up meanwhile (its
 * files could be going), then the manifest. Deep: the files are copied into the clone's folder.
 */
export async function writeClone(k: CloneKit, store: BlobStore, source: string, m: Manifest, target: string, shallow: boolean): Promise<void> {
  const { decodeVersionFile, encodeManifest, fileKey, fileRef, filesOf, manifestKey, tableDir } = k;
  const from = tableDir(source);
  const to = tableDir(target);
  const keys = filesOf(m, from);
  const markers: string[] = [];
  let move: (file: string) => string;
  if (shallow) {
    const byFolder = new Map<string, string[]>();
    for (const key of keys) {
      const folder = key.slice(0, key.indexOf("/") + 1);
      byFolder.set(folder, [...(byFolder.get(folder) ?? []), key]);
    }
    for (const [folder, files] of byFolder) {
      const key = `${folder}${CLONES}${target}-${randomId()}.qvc`;
      await store.put(key, sealEnvelope(MARKER_MAGIC, MARKER_FORMAT_VERSION, encodeJson({ clone: target, files })));
      markers.push(key);
    }
    const now = await store.get(manifestKey(source, m.version)).catch((e: unknown) => {
      if ((e as { code?: string }).code === "NOT_FOUND") return undefined;
      throw e;
    });
    if (now === undefined || decodeVersionFile(now, manifestKey(source, m.version)).pruned) {
      for (const key of markers) await store.delete(key);
      throw createError("NOT_FOUND", `Version ${m.version} of "${source}" was cleaned up while it was being cloned; clone a newer version.`, { version: m.version });
    }
    move = (file) => fileRef(to, fileKey(from, file));
  } else {
    // A deep copy keeps each file's path below its table folder, inside the clone's folder.
    const copied = new Map<string, string>();
    for (const key of keys) {
      const local = to + key.slice(key.indexOf("/") + 1);
      await store.put(local, await store.get(key));
      copied.set(key, local);
    }
    move = (file) => fileRef(to, copied.get(fileKey(from, file))!);
  }
  const clonedFrom: ClonedFrom = { table: source, version: m.version, shallow, markers };
  const manifest: Manifest = {
    ...m, ...rewritePaths(m, move), version: 1, timestamp: Date.now(), config: { ...m.config, clonedFrom },
    operation: { type: "create", readVersion: 0, touched: [] }, commitId: randomId(), parentId: undefined,
  };
  if (!(await store.putIfAbsent(manifestKey(target, 1), encodeManifest(manifest)))) {
    for (const key of markers) await store.delete(key);
    throw createError("TABLE_EXISTS", `Table "${target}" already exists in ${store.uri}.`);
  }
}

/**
 * Moves every file of table `from` to table `to` by copying, for stores without an atomic folder
 * rename. Files first, then the newest manifest (from then on `to` is a whole table), then older
 * versions; the folder is listed again until a pass finds nothing new (a commit that landed
 * meanwhile comes along); then `from` is deleted, manifests first (oldest first). A crash leaves `from` whole, or
 * `to` whole, or both (the newest version with part of its history): never neither.
 */
export async function copyTable(k: CloneKit, store: BlobStore, from: string, to: string): Promise<void> {
  const { tableDir, versionFromKey, versionsPrefix } = k;
  const src = tableDir(from);
  const dst = tableDir(to);
  const copied: string[] = [];
  for (let pass = 0; ; pass++) {
    const files = (await store.list(src)).filter((f) => !copied.includes(f.key));
    if (files.length === 0) break;
    const isVersion = (key: string): boolean => key.startsWith(versionsPrefix(from)) && versionFromKey(key) !== undefined;
    const versions = files.filter((f) => isVersion(f.key)).sort((a, b) => versionFromKey(b.key)! - versionFromKey(a.key)!);
    for (const f of files.filter((f) => !isVersion(f.key))) {
      await store.put(dst + f.key.slice(src.length), await store.get(f.key));
      copied.push(f.key);
    }
    for (const [i, f] of versions.entries()) {
      const placed = await store.putIfAbsent(dst + f.key.slice(src.length), await store.get(f.key));
      if (!placed && pass === 0 && i === 0) throw createError("TABLE_EXISTS", `Table "${to}" appeared in ${store.uri} while "${from}" was being renamed to it; "${from}" is unchanged.`);
      copied.push(f.key);
    }
  }
  // Oldest manifests first, so until its newest manifest goes the old table still reads as it was.
  const order = (key: string): number => versionFromKey(key) ?? Infinity;
  for (const key of copied.sort((a, b) => order(a) - order(b))) await store.delete(key);
}

/** `Connection.renameTable` once the names are checked: `closeHandles` closes the caller's handles on `from`. */
export async function renameTable(
  k: CloneKit, store: BlobStore, from: string, to: string, options: { namespacePath?: readonly string[]; newNamespacePath?: readonly string[] }, closeHandles: () => void,
): Promise<void> {
  const { Dataset, tableDir } = k;
  if ((options.namespacePath?.length ?? 0) > 0 || (options.newNamespacePath?.length ?? 0) > 0) throw createError("UNSUPPORTED", "Quiver databases have no namespaces.");
  if ((await Dataset.latestVersion(store, from)) === undefined) throw createError("TABLE_NOT_FOUND", `No table "${from}" in ${store.uri}.`);
  if (from === to) return;
  if ((await Dataset.latestVersion(store, to)) !== undefined) throw createError("TABLE_EXISTS", `Table "${to}" already exists in ${store.uri}.`);
  await checkNoClones(k, store, from, "rename");
  closeHandles();
  if (store.renameFolder !== undefined && (await store.renameFolder(tableDir(from), tableDir(to)))) return;
  await copyTable(k, store, from, to);
}

/** `Connection.cloneTable` once the names are checked. */
export async function cloneTable(
  k: CloneKit, store: BlobStore, session: Session, tableName: RegExp, sourceUri: string, target: string,
  options: { sourceVersion?: number; sourceTag?: string; isShallow?: boolean; targetNamespacePath?: readonly string[] },
): Promise<void> {
  const { Dataset, Tags } = k;
  // A table name, or the database's URI followed by "/name" (what LanceDB passes).
  const source = typeof sourceUri === "string" ? (sourceUri.startsWith(store.uri) ? sourceUri.slice(store.uri.length) : sourceUri).replace(/^\/+|\/+$/g, "").replace(/\.quiver$/, "") : "";
  if (!tableName.test(source)) {
    throw createError("INVALID_ARGUMENT", `cloneTable() clones a table of this database (a clone shares its files): pass the table's name, got ${JSON.stringify(sourceUri)}.`);
  }
  if ((options.targetNamespacePath?.length ?? 0) > 0) throw createError("UNSUPPORTED", "Quiver databases have no namespaces.");
  if (options.sourceVersion !== undefined && options.sourceTag !== undefined) throw createError("INVALID_ARGUMENT", "cloneTable() takes sourceVersion or sourceTag, not both.");
  const dataset = await Dataset.open(store, source, session);
  const version = options.sourceTag !== undefined ? await new Tags(dataset).getVersion(options.sourceTag) : options.sourceVersion ?? dataset.head().version;
  if (!Number.isInteger(version) || version < 1) throw createError("INVALID_ARGUMENT", `sourceVersion must be a version number >= 1, got ${String(version)}.`);
  if ((await Dataset.latestVersion(store, target)) !== undefined) throw createError("TABLE_EXISTS", `Table "${target}" already exists in ${store.uri}.`);
  await writeClone(k, store, source, await dataset.manifest(version), target, options.isShallow ?? true);
}

/** `Connection.dropAllTables`: drops `names` with `drop`, clones before the tables they share files with. */
export async function dropInOrder(k: CloneKit, store: BlobStore, names: readonly string[], drop: (name: string) => Promise<void>): Promise<void> {
  let left = [...names];
  while (left.length > 0) {
    const shared = new Set<string>();
    for (const name of left) if ((await clonesOf(k, store, name)).length > 0) shared.add(name);
    // Clones of clones come out in rounds; a round that could drop nothing would be a cycle, which cannot be.
    const now = left.length === shared.size ? left : left.filter((n) => !shared.has(n));
    for (const name of now) await drop(name);
    left = left.filter((n) => !now.includes(n));
  }
}
