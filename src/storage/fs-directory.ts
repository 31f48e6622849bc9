/**
 * The file-system store behind FsStore (fs-store.ts), loaded when a directory is opened.
 *
 * A directory on the file system, for Node and Deno (both provide `node:fs/promises`). Keys are
 * paths relative to the root directory; "/" segments are directories.
 *
 * Writes never expose a partial object: bytes go to a temporary file in the target directory
 * (`.quiver-tmp-<uuid>`), which is fsynced and then renamed (put) or hard-linked (putIfAbsent) into
 * place, and the directory is fsynced so the new name survives a power loss. `link` fails with
 * EEXIST when the name exists, atomically, even between processes, which makes putIfAbsent safe
 * for several writers. A crash can leave temporary files behind; `list` skips them and
 * `removeTemporaryFiles` deletes old ones.
 */
import { createError } from "../errors.js";
import { checkStreamSize, placeInto, sizedParts, type BlobInfo, type ByteRange } from "./blob-store.js";
import { FsStore, type FsStoreOptions } from "./fs-store.js";
import {
  checkData,
  checkKey,
  checkPrefix,
  checkRanges,
  closedError,
  isReservedName,
  keyShapeError,
  keySegments,
  notFoundError,
  quotaError,
  shortReadError,
  temporaryName,
} from "./keys.js";

type FsPromises = typeof import("node:fs/promises");

// Specifiers in variables, so that bundlers building for browsers do not try to resolve them.
const FS_MODULE = "node:fs/promises";
const PATH_MODULE = "node:path";

async function loadModules(root: string, fileSystem?: FsPromises): Promise<[FsPromises, typeof import("node:path")]> {
  try {
    return await Promise.all([
      fileSystem ?? (import(/* @vite-ignore */ FS_MODULE) as Promise<FsPromises>),
      import(/* @vite-ignore */ PATH_MODULE) as Promise<typeof import("node:path")>,
    ]);
  } catch (error) {
    throw createError(
      "UNSUPPORTED",
      `${root}: file paths need a runtime with a file system (Node or Deno); in a browser use idb://name or opfs://name.`,
      { store: root },
      error,
    );
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as { code?: string } | null)?.code;
}

/** Errors that mean "no object at this key" on reads. */
const ABSENT = new Set(["ENOENT", "ENOTDIR", "EISDIR"]);
const FULL = new Set(["ENOSPC", "EDQUOT"]);
const NO_HARD_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV"]);

/** FsStore's implementation, loaded by FsStore.open. */
export class FsDirectoryStore extends FsStore {
  readonly readOnly = false;
  readonly uri: string;
  readonly #fs: FsPromises;
  #closed = false;

  private constructor(root: string, fs: FsPromises) {
    super();
    this.uri = root;
    this.#fs = fs;
  }

  /**
   * Opens the directory `root` (absolute, or relative to the working directory now), creating it
   * and its parents when missing. `uri` is the absolute path.
   */
  static async openDirectory(root: string, options: FsStoreOptions): Promise<FsDirectoryStore> {
    const [fs, path] = await loadModules(root, options.fileSystem as FsPromises | undefined);
    const absolute = path.resolve(root);
    await fs.mkdir(absolute, { recursive: true });
    return new FsDirectoryStore(absolute, fs);
  }

  async get(key: string): Promise<Uint8Array> {
    this.#checkOpen();
    return (await this.#read(checkKey(key)))[0]!;
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    return (await this.getRanges(key, [{ offset, length }]))[0]!;
  }

  /** Several ranges of one file through one open file descriptor, read in parallel (positional reads). */
  async getRanges(key: string, ranges: readonly ByteRange[], into?: Uint8Array): Promise<Uint8Array[]> {
    this.#checkOpen();
    return this.#read(checkRanges(key, ranges), placeInto(ranges, into));
  }

  async readInto(key: string, offset: number, into: Uint8Array): Promise<Uint8Array> {
    this.#checkOpen();
    checkRanges(key, [{ offset, length: into.length }]);
    return (await this.#read(key, [{ offset, length: into.length, into }]))[0]!;
  }

  /** `ranges` of the file of `key`, or (without ranges) all of it; a range with `into` is read into that buffer. */
  async #read(key: string, ranges?: readonly (ByteRange & { into?: Uint8Array })[]): Promise<Uint8Array[]> {
    let handle: Awaited<ReturnType<FsPromises["open"]>>;
    try {
      handle = await this.#fs.open(this.#path(key), "r");
    } catch (error) {
      throw this.#readError(error, key);
    }
    try {
      const { size } = await handle.stat();
      ranges ??= [{ offset: 0, length: size }];
      for (const { offset, length } of ranges) if (offset + length > size) throw shortReadError(this.uri, key, offset, length, size);
      return await Promise.all(ranges.map(async ({ offset, length, into }) => {
        const bytes = into ?? new Uint8Array(length);
        let filled = 0;
        while (filled < length) {
          const { bytesRead } = await handle.read(bytes, filled, length - filled, offset + filled);
          if (bytesRead === 0) throw shortReadError(this.uri, key, offset, length, offset + filled);
          filled += bytesRead;
        }
        return bytes;
      }));
    } catch (error) {
      throw this.#readError(error, key);
    } finally {
      await handle.close();
    }
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    this.#checkOpen();
    try {
      const stat = await this.#fs.stat(this.#path(checkKey(key)));
      return stat.isFile() ? { key, size: stat.size, modified: stat.mtimeMs } : undefined;
    } catch (error) {
      if (ABSENT.has(errorCode(error) ?? "")) return undefined;
      throw error;
    }
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    this.#checkOpen();
    checkData(checkKey(key), data);
    await this.#replace(key, [data.slice()]);
  }

  /** As `put` of the parts joined; the parts are written in turn, not copied (they must not change meanwhile). */
  async putParts(key: string, parts: readonly Uint8Array[]): Promise<void> {
    this.#checkOpen();
    checkKey(key);
    for (const p of parts) checkData(key, p);
    await this.#replace(key, parts);
  }

  /** As `put` of the parts joined; each part is written before the next is asked for (it may reuse its buffer). */
  async putStream(key: string, size: number | undefined, parts: AsyncIterable<Uint8Array>): Promise<void> {
    this.#checkOpen();
    checkKey(key);
    checkStreamSize(key, size);
    await this.#replace(key, sizedParts(key, size, parts));
  }

  async #replace(key: string, parts: readonly Uint8Array[] | AsyncIterable<Uint8Array>): Promise<void> {
    const [dir, path] = this.#placement(key);
    const temp = await this.#writeTemporary(dir, key, parts);
    try {
      await this.#fs.rename(temp, path);
    } catch (error) {
      await this.#fs.rm(temp, { force: true });
      throw this.#writeError(error, key);
    }
    await this.#syncDirectory(dir);
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    this.#checkOpen();
    checkData(checkKey(key), data);
    const [dir, path] = this.#placement(key);
    const temp = await this.#writeTemporary(dir, key, [data.slice()]);
    try {
      await this.#fs.link(temp, path);
    } catch (error) {
      const code = errorCode(error);
      if (code === "EEXIST") {
        if ((await this.head(key)) === undefined) throw keyShapeError(this.uri, key, error);
        return false;
      }
      if (!NO_HARD_LINKS.has(code ?? "")) throw this.#writeError(error, key);
      // File systems without hard links (FAT, some network mounts): an exclusive copy still lets
      // exactly one writer win, but a reader may see the object while it is being copied.
      try {
        await this.#fs.copyFile(temp, path, this.#fs.constants.COPYFILE_EXCL);
      } catch (copyError) {
        if (errorCode(copyError) === "EEXIST") return false;
        throw this.#writeError(copyError, key);
      }
    } finally {
      await this.#fs.rm(temp, { force: true });
    }
    await this.#syncDirectory(dir);
    return true;
  }

  async list(prefix: string): Promise<BlobInfo[]> {
    this.#checkOpen();
    checkPrefix(prefix);
    // Walk from the deepest directory the prefix names in full, skipping subdirectories that
    // cannot hold a matching key.
    const cut = prefix.lastIndexOf("/");
    const start = cut < 0 ? "" : prefix.slice(0, cut);
    const found: BlobInfo[] = [];
    const walk = async (dirKey: string): Promise<void> => {
      let entries;
      try {
        entries = await this.#fs.readdir(dirKey === "" ? this.uri : this.#path(dirKey), { withFileTypes: true });
      } catch (error) {
        if (ABSENT.has(errorCode(error) ?? "")) return;
        throw error;
      }
      await Promise.all(
        entries.map(async (entry) => {
          if (isReservedName(entry.name)) return;
          const key = dirKey === "" ? entry.name : `${dirKey}/${entry.name}`;
          if (entry.isDirectory()) {
            if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`)) await walk(key);
          } else if (entry.isFile() && key.startsWith(prefix)) {
            const info = await this.head(key); // undefined when deleted meanwhile
            if (info) found.push(info);
          }
        }),
      );
    };
    await walk(start);
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** A rename of the folder's directory: atomic on POSIX file systems and NTFS. */
  async renameFolder(from: string, to: string): Promise<boolean> {
    this.#checkOpen();
    checkPrefix(from);
    checkPrefix(to);
    const segments = to.slice(0, -1).split("/");
    const parent = segments.length > 1 ? this.#path(segments.slice(0, -1).join("/")) : this.uri;
    try {
      await this.#fs.mkdir(parent, { recursive: true });
      await this.#fs.rename(this.#path(from.slice(0, -1)), this.#path(to.slice(0, -1)));
    } catch (error) {
      // The target folder exists with objects in it (an empty one is replaced; Windows says EPERM).
      if ((await this.list(to)).length > 0) return false;
      throw this.#readError(error, from);
    }
    await this.#syncDirectory(parent);
    return true;
  }

  async delete(key: string): Promise<void> {
    this.#checkOpen();
    try {
      await this.#fs.unlink(this.#path(checkKey(key)));
    } catch (error) {
      // EISDIR / EPERM: the key names a directory of other keys, not an object.
      if (ABSENT.has(errorCode(error) ?? "") || errorCode(error) === "EPERM") return;
      throw error;
    }
  }

  async listFolders(prefix: string): Promise<string[]> {
    this.#checkOpen();
    if (prefix !== "") checkPrefix(prefix);
    const dir = prefix === "" ? this.uri : this.#path(prefix.slice(0, -1));
    let entries;
    try {
      entries = await this.#fs.readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (ABSENT.has(errorCode(error) ?? "")) return [];
      throw error;
    }
    // Deleting objects leaves their directories behind: a folder counts only if it holds a file.
    const holds = async (path: string): Promise<boolean> => {
      for (const e of await this.#fs.readdir(path, { withFileTypes: true }).catch(() => [])) {
        if (isReservedName(e.name)) continue;
        if (e.isFile() || (e.isDirectory() && (await holds(`${path}/${e.name}`)))) return true;
      }
      return false;
    };
    const names: string[] = [];
    for (const e of entries) if (e.isDirectory() && !isReservedName(e.name) && (await holds(`${dir}/${e.name}`))) names.push(e.name);
    return names.sort();
  }

  /**
   * Deletes temporary files under `prefix` older than `olderThanMs` left by writers that crashed;
   * returns how many. Temporary files of writes still running are younger, so pick a bound well
   * above a write's time.
   */
  async removeTemporaryFiles(prefix: string, olderThanMs: number): Promise<number> {
    this.#checkOpen();
    if (prefix !== "") checkPrefix(prefix);
    const limit = Date.now() - olderThanMs;
    let removed = 0;
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await this.#fs.readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as { code?: string }).code === "ENOENT") return;
        throw error;
      }
      for (const entry of entries) {
        const path = `${dir}${dir.endsWith("/") ? "" : "/"}${entry.name}`;
        if (entry.isDirectory()) await walk(path);
        else if (isReservedName(entry.name)) {
          // A write in progress renames its temporary file into place at any moment.
          const modified = await this.#fs.stat(path).then((s) => s.mtimeMs, (error: unknown) => {
            if (ABSENT.has(errorCode(error) ?? "")) return Infinity;
            throw error;
          });
          if (modified >= limit) continue;
          await this.#fs.rm(path, { force: true });
          removed++;
        }
      }
    };
    const folder = prefix.slice(0, prefix.lastIndexOf("/") + 1);
    await walk(folder === "" ? this.uri : this.#path(folder.slice(0, -1)));
    return removed;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #checkOpen(): void {
    if (this.#closed) throw closedError(this.uri);
  }

  #path(key: string): string {
    return this.uri.endsWith("/") || this.uri.endsWith("\\") ? this.uri + key : `${this.uri}/${key}`;
  }

  /** The directory holding `key` and the object's path. */
  #placement(key: string): [string, string] {
    const segments = keySegments(key);
    const dir = segments.length > 1 ? this.#path(segments.slice(0, -1).join("/")) : this.uri;
    return [dir, this.#path(key)];
  }

  /**
   * Writes `data` to a new temporary file in `dir` and fsyncs it; returns its path. Callers pass a
   * copy: the caller of put may change its array while the write is under way.
   */
  async #writeTemporary(dir: string, key: string, parts: readonly Uint8Array[] | AsyncIterable<Uint8Array>): Promise<string> {
    const temp = `${dir}/${temporaryName()}`;
    try {
      await this.#fs.mkdir(dir, { recursive: true });
      const handle = await this.#fs.open(temp, "wx");
      try {
        for await (const data of parts) {
          let written = 0;
          while (written < data.length) {
            written += (await handle.write(data, written, data.length - written)).bytesWritten;
          }
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      return temp;
    } catch (error) {
      await this.#fs.rm(temp, { force: true }).catch(() => {});
      throw this.#writeError(error, key);
    }
  }

  /** Makes a rename or link in `dir` durable. Some systems cannot fsync a directory; they journal it. */
  async #syncDirectory(dir: string): Promise<void> {
    let handle;
    try {
      handle = await this.#fs.open(dir, "r");
      await handle.sync();
    } catch (error) {
      if (!["EISDIR", "EPERM", "EINVAL", "EBADF", "ENOTSUP"].includes(errorCode(error) ?? "")) throw error;
    } finally {
      await handle?.close();
    }
  }

  #readError(error: unknown, key: string): unknown {
    if (ABSENT.has(errorCode(error) ?? "")) return notFoundError(this.uri, key, error);
    return error;
  }

  #writeError(error: unknown, key: string): unknown {
    const code = errorCode(error) ?? "";
    if (FULL.has(code)) return quotaError(this.uri, key, error);
    // A path segment is an existing object (ENOTDIR, EEXIST from mkdir), or the key is a directory.
    if (code === "ENOTDIR" || code === "EEXIST" || code === "EISDIR") return keyShapeError(this.uri, key, error);
    return error;
  }
}
