/**
 * `opfs://name` (or `opfs://dir/sub`): objects as files in the Origin Private File System, under
 * that directory; "/" segments of keys are subdirectories.
 *
 * Two ways in, chosen per store:
 * - async (main thread, and workers with `syncAccess: false`): `getFile()` to read, where
 *   `File.slice` reads only the requested range, and `createWritable()` to write;
 * - sync access handles (dedicated workers): `FileSystemSyncAccessHandle.read(buf, { at })` and
 *   `write`, several times faster and the reason OPFS exists. Chromium locks a file while a sync
 *   handle is open: readers ask for a shared `read-only` handle and hold it for one read; where that
 *   is refused (another handle holds the file, or the browser lacks the mode) they read through
 *   `getFile()` instead.
 *
 * `getRanges` reads many ranges of one file in one call (a refined query's candidate rows, the
 * partitions a query probes, planned by range-reads.ts): one handle, one sync read per range with
 * no await between them, instead of a promise and a handle lookup per range.
 *
 * Writes go to a temporary file (`.quiver-tmp-<uuid>`) that is then `move()`d over the target, so
 * readers never see a half-written object: even `createWritable()` alone would first create the
 * target as an empty file, visible until the stream closes. Browsers without `move()` get exactly
 * that (they write the target directly). Every write to a key holds an exclusive Web Lock named
 * after the store and the key, across all tabs and workers of the origin; `putIfAbsent` checks for
 * the file inside the lock, which is what makes it atomic. The browser decides when OPFS data
 * reaches the disk: a write that resolved survives reloads and tab crashes.
 */
import { createError } from "../errors.js";
import { checkStreamSize, placeInto, sizedParts, type BlobInfo, type ByteRange } from "./blob-store.js";
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
import { OpfsStore, type OpfsStoreOptions } from "./opfs-store.js";


// Parts of the File System API that TypeScript's DOM library does not describe (yet).
/** A file's bytes in order: a put's parts, or a streamed put's. */
type Parts = readonly Uint8Array[] | AsyncIterable<Uint8Array>;

interface SyncAccessHandle {
  read(buffer: Uint8Array, options?: { at?: number }): number;
  write(buffer: Uint8Array, options?: { at?: number }): number;
  getSize(): number;
  flush(): void;
  close(): void;
}
type FileHandle = FileSystemFileHandle & {
  move?(destination: FileSystemDirectoryHandle, name: string): Promise<void>;
  createSyncAccessHandle?(options?: { mode?: "readwrite" | "read-only" | "readwrite-unsafe" }): Promise<SyncAccessHandle>;
};
type DirectoryHandle = FileSystemDirectoryHandle & {
  entries(): AsyncIterableIterator<[string, FileSystemHandle]>;
};

function errorName(error: unknown): string | undefined {
  return (error as { name?: string } | null)?.name;
}

/** A handle of the wrong kind (a directory where a file is wanted, or the other way round). */
function isWrongKind(error: unknown): boolean {
  return errorName(error) === "TypeMismatchError";
}

function isAbsent(error: unknown): boolean {
  return errorName(error) === "NotFoundError" || isWrongKind(error);
}

/**
 * Runs `work`, retrying while another context holds a sync access handle on the file (Chromium
 * refuses to move over or remove a file while a worker reads it through one). Readers hold those
 * handles for one read, so a short back-off is enough.
 */
async function retryWhileLocked<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (errorName(error) !== "NoModificationAllowedError" || attempt === 8) throw error;
      await new Promise((resolve) => setTimeout(resolve, 2 ** attempt));
    }
  }
}

/** File handles kept by an open store (a few hundred bytes each). */
const HANDLE_CACHE_ENTRIES = 1024;
/** How long an idle read-only sync access handle stays open for the next read. */
const READ_HANDLE_LINGER_MS = 100;

/** A range to read; `length` undefined reads to the end of the file. */
interface Want {
  readonly offset: number;
  readonly length?: number;
  /** Where the bytes go (`readInto`), instead of a new buffer. */
  readonly into?: Uint8Array;
}

interface SharedRead {
  readonly handle: Promise<SyncAccessHandle>;
  users: number;
  /** The file's size, read once per open (a write or delete of the key closes the handle first). */
  size?: number;
  /** When the last read ended (performance.now()), for the sweep that closes idle handles. */
  idleSince: number;
}

/** OpfsStore's implementation, loaded by OpfsStore.open. */
export class OpfsDirectoryStore extends OpfsStore {
  readonly readOnly = false;
  readonly uri: string;
  readonly #root: DirectoryHandle;
  readonly #sync: boolean;
  /**
   * File handles by key, so a read costs no directory walk (one browser round trip per path
   * segment). Chromium's handles name a path, not a file: a replaced object reads as the new one
   * and a removed one fails as a fresh lookup would.
   */
  readonly #handles = new Map<string, FileHandle>();
  /**
   * Read-only sync access handles open now, by key: concurrent reads of one file (a query's
   * candidate rows) share one, and it stays open READ_HANDLE_LINGER_MS after the last of them
   * ends, so a run of queries opens each file once instead of once per read (an open is a round
   * trip to the browser process). While open it locks the file against writers: this store's own
   * put and delete close it first; another tab or worker retries as it does for any reader.
   */
  readonly #reading = new Map<string, SharedRead>();
  /**
   * One timer closes the handles idle for READ_HANDLE_LINGER_MS, rather than a timer per read:
   * a query reads a file or two per fragment, and setting and clearing a timer each time cost as
   * much as the reads.
   */
  #sweep?: ReturnType<typeof setTimeout>;
  #closed = false;

  private constructor(uri: string, root: DirectoryHandle, sync: boolean) {
    super();
    this.uri = uri;
    this.#root = root;
    this.#sync = sync;
  }

  /**
   * Opens (creating) the OPFS directory `path` ("notes" or "apps/notes"). UNSUPPORTED where the
   * runtime has no OPFS.
   */
  static async openDirectory(path: string, options: OpfsStoreOptions): Promise<OpfsDirectoryStore> {
    const uri = `opfs://${path}`;
    const storage = (globalThis as { navigator?: Navigator }).navigator?.storage;
    if (typeof storage?.getDirectory !== "function") {
      throw createError("UNSUPPORTED", `${uri}: this runtime has no Origin Private File System; use idb://name or memory://.`);
    }
    let dir = (await storage.getDirectory()) as DirectoryHandle;
    for (const segment of keySegments(checkKey(path))) {
      dir = (await dir.getDirectoryHandle(segment, { create: true })) as DirectoryHandle;
    }
    const sync =
      options.syncAccess !== false &&
      typeof FileSystemFileHandle !== "undefined" &&
      "createSyncAccessHandle" in FileSystemFileHandle.prototype;
    return new OpfsDirectoryStore(uri, dir, sync);
  }

  /** Whether this store reads and writes through sync access handles. */
  get usesSyncAccess(): boolean {
    return this.#sync;
  }

  async get(key: string): Promise<Uint8Array> {
    this.#checkOpen();
    return (await this.#read(checkKey(key), [{ offset: 0 }]))[0]!;
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    return (await this.getRanges(key, [{ offset, length }]))[0]!;
  }

  /**
   * Several ranges of one file through one handle: in a worker one shared sync access handle reads
   * them back to back (no await between them), elsewhere they are slices of one `File` snapshot.
   */
  async getRanges(key: string, ranges: readonly ByteRange[], into?: Uint8Array): Promise<Uint8Array[]> {
    this.#checkOpen();
    return this.#read(checkRanges(key, ranges), placeInto(ranges, into));
  }

  async readInto(key: string, offset: number, into: Uint8Array): Promise<Uint8Array> {
    this.#checkOpen();
    checkRanges(key, [{ offset, length: into.length }]);
    return (await this.#read(key, [{ offset, length: into.length, into }]))[0]!;
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    this.#checkOpen();
    checkKey(key);
    try {
      const file = await (await this.#fileHandle(key)).getFile();
      return { key, size: file.size, modified: file.lastModified };
    } catch (error) {
      if (isAbsent(error) || (error as { code?: string }).code === "NOT_FOUND") {
        this.#handles.delete(key);
        return undefined;
      }
      throw error;
    }
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    this.#checkOpen();
    checkData(checkKey(key), data);
    const copy = data.slice(); // the caller may change `data` while the write is under way
    this.#closeIdleRead(key);
    await this.#withKeyLock(key, false, () => this.#write(key, [copy]));
  }

  /** As `put` of the parts joined; the parts are written in turn, not copied (they must not change meanwhile). */
  async putParts(key: string, parts: readonly Uint8Array[]): Promise<void> {
    this.#checkOpen();
    checkKey(key);
    for (const p of parts) checkData(key, p);
    this.#closeIdleRead(key);
    await this.#withKeyLock(key, false, () => this.#write(key, parts));
  }

  /** As `put` of the parts joined; each part is written before the next is asked for (it may reuse its buffer). */
  async putStream(key: string, size: number | undefined, parts: AsyncIterable<Uint8Array>): Promise<void> {
    this.#checkOpen();
    checkKey(key);
    checkStreamSize(key, size);
    this.#closeIdleRead(key);
    await this.#withKeyLock(key, false, () => this.#write(key, sizedParts(key, size, parts)));
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    this.#checkOpen();
    checkData(checkKey(key), data);
    const copy = data.slice(); // the caller may change `data` while the write is under way
    return this.#withKeyLock(key, true, async () => {
      if (await this.#exists(key)) return false;
      await this.#write(key, [copy]);
      return true;
    });
  }

  async list(prefix: string): Promise<BlobInfo[]> {
    this.#checkOpen();
    checkPrefix(prefix);
    const found: BlobInfo[] = [];
    const walk = async (dir: DirectoryHandle, dirKey: string): Promise<void> => {
      const pending: Promise<void>[] = [];
      for await (const [name, handle] of dir.entries()) {
        if (isReservedName(name)) continue;
        const key = dirKey === "" ? name : `${dirKey}/${name}`;
        if (handle.kind === "directory") {
          if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`)) pending.push(walk(handle as DirectoryHandle, key));
        } else if (key.startsWith(prefix)) {
          pending.push(
            (handle as FileHandle).getFile().then(
              (file) => void found.push({ key, size: file.size, modified: file.lastModified }),
              (error: unknown) => {
                if (!isAbsent(error)) throw error; // deleted while listing
              },
            ),
          );
        }
      }
      await Promise.all(pending);
    };
    // Start from the deepest directory the prefix names in full.
    const cut = prefix.lastIndexOf("/");
    const startKey = cut < 0 ? "" : prefix.slice(0, cut);
    let start: DirectoryHandle;
    try {
      start = startKey === "" ? this.#root : await this.#directory(keySegments(startKey), false);
    } catch (error) {
      if (isAbsent(error)) return [];
      throw error;
    }
    await walk(start, startKey);
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    this.#checkOpen();
    checkKey(key);
    const segments = keySegments(key);
    this.#handles.delete(key);
    this.#closeIdleRead(key);
    await this.#withKeyLock(key, false, async () => {
      try {
        const dir = await this.#directory(segments.slice(0, -1), false);
        const handle = await dir.getFileHandle(segments.at(-1)!);
        await retryWhileLocked(() => dir.removeEntry(handle.name));
      } catch (error) {
        if (!isAbsent(error)) throw error;
      }
    });
  }

  async listFolders(prefix: string): Promise<string[]> {
    this.#checkOpen();
    if (prefix !== "") checkPrefix(prefix);
    let dir: DirectoryHandle;
    try {
      dir = prefix === "" ? this.#root : await this.#directory(keySegments(prefix.slice(0, -1)), false);
    } catch (error) {
      if (isAbsent(error)) return [];
      throw error;
    }
    // Deleting objects leaves their directories behind: a folder counts only if it holds a file.
    const holds = async (d: DirectoryHandle): Promise<boolean> => {
      for await (const [name, handle] of d.entries()) {
        if (isReservedName(name)) continue;
        if (handle.kind === "file" || (await holds(handle as DirectoryHandle))) return true;
      }
      return false;
    };
    const names: string[] = [];
    for await (const [name, handle] of dir.entries()) {
      if (handle.kind === "directory" && !isReservedName(name) && (await holds(handle as DirectoryHandle))) names.push(name);
    }
    return names.sort();
  }

  /** See BlobStore.removeTemporaryFiles: temporary files of crashed writers, by their modification time. */
  async removeTemporaryFiles(prefix: string, olderThanMs: number): Promise<number> {
    this.#checkOpen();
    if (prefix !== "") checkPrefix(prefix);
    const limit = Date.now() - olderThanMs;
    let removed = 0;
    const walk = async (dir: DirectoryHandle): Promise<void> => {
      for await (const [name, handle] of dir.entries()) {
        if (handle.kind === "directory") { await walk(handle as DirectoryHandle); continue; }
        if (!isReservedName(name)) continue;
        try {
          if ((await (handle as FileHandle).getFile()).lastModified >= limit) continue;
          await retryWhileLocked(() => dir.removeEntry(name));
          removed++;
        } catch (error) {
          if (!isAbsent(error)) throw error; // renamed into place or removed meanwhile
        }
      }
    };
    const folder = prefix.slice(0, prefix.lastIndexOf("/") + 1);
    let start: DirectoryHandle;
    try {
      start = folder === "" ? this.#root : await this.#directory(keySegments(folder.slice(0, -1)), false);
    } catch (error) {
      if (isAbsent(error)) return 0;
      throw error;
    }
    await walk(start);
    return removed;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#handles.clear();
    clearTimeout(this.#sweep);
    this.#sweep = undefined;
    for (const key of [...this.#reading.keys()]) this.#closeIdleRead(key);
  }

  #checkOpen(): void {
    if (this.#closed) throw closedError(this.uri);
  }

  async #directory(segments: string[], create: boolean): Promise<DirectoryHandle> {
    let dir = this.#root;
    for (const segment of segments) dir = (await dir.getDirectoryHandle(segment, { create })) as DirectoryHandle;
    return dir;
  }

  async #fileHandle(key: string): Promise<FileHandle> {
    const cached = this.#handles.get(key);
    if (cached !== undefined) return cached;
    const handle = await this.#lookup(key);
    if (this.#handles.size >= HANDLE_CACHE_ENTRIES) this.#handles.delete(this.#handles.keys().next().value!);
    this.#handles.set(key, handle);
    return handle;
  }

  /** The file handle of `key`, looked up now (existence checks must not trust the cache). */
  async #lookup(key: string): Promise<FileHandle> {
    const segments = keySegments(key);
    let handle: FileHandle;
    try {
      const dir = await this.#directory(segments.slice(0, -1), false);
      handle = (await dir.getFileHandle(segments.at(-1)!)) as FileHandle;
    } catch (error) {
      if (isAbsent(error)) throw notFoundError(this.uri, key, error);
      throw error;
    }
    return handle;
  }

  async #exists(key: string): Promise<boolean> {
    try {
      await this.#lookup(key);
      return true;
    } catch (error) {
      if ((error as { code?: string }).code !== "NOT_FOUND") throw error;
      // A directory under that name is not an object, but the key can never be written either.
      if (isWrongKind((error as { cause?: unknown }).cause)) throw keyShapeError(this.uri, key, error);
      return false;
    }
  }

  /** `ranges` of `key` (length undefined: to the end of the file), in the order asked. */
  async #read(key: string, ranges: readonly Want[]): Promise<Uint8Array[]> {
    const file = await this.#fileHandle(key);
    if (this.#sync) {
      const bytes = await this.#readSync(file, key, ranges);
      if (bytes) return bytes;
    }
    return this.#readAsync(file, key, ranges);
  }

  /** Reads through a shared sync access handle; undefined when the file is locked by another one. */
  async #readSync(file: FileHandle, key: string, ranges: readonly Want[]): Promise<Uint8Array[] | undefined> {
    let open = this.#reading.get(key);
    if (open === undefined) {
      open = { handle: file.createSyncAccessHandle!({ mode: "read-only" }), users: 0, idleSince: 0 };
      this.#reading.set(key, open);
    }
    const shared = open;
    shared.users++;
    let handle: SyncAccessHandle;
    try {
      handle = await shared.handle;
    } catch (error) {
      if (--shared.users === 0 && this.#reading.get(key) === shared) this.#reading.delete(key);
      if (isAbsent(error)) this.#handles.delete(key);
      if (errorName(error) === "NoModificationAllowedError") return undefined;
      if (isAbsent(error)) throw notFoundError(this.uri, key, error);
      throw error;
    }
    // From here to the close the reads are synchronous: no other read of this handle interleaves.
    try {
      const size = (shared.size ??= handle.getSize());
      return ranges.map(({ offset, length, into }) => {
        const want = length ?? size;
        if (offset + want > size) throw shortReadError(this.uri, key, offset, want, size);
        const bytes = into ?? new Uint8Array(want);
        let filled = 0;
        while (filled < want) {
          const read = handle.read(bytes.subarray(filled), { at: offset + filled });
          if (read === 0) throw shortReadError(this.uri, key, offset, want, offset + filled);
          filled += read;
        }
        return bytes;
      });
    } finally {
      if (--shared.users === 0) {
        shared.idleSince = performance.now();
        this.#scheduleSweep();
      }
    }
  }

  /** Closes, every READ_HANDLE_LINGER_MS while any is open and idle, the handles idle that long. */
  #scheduleSweep(): void {
    if (this.#sweep !== undefined || this.#closed) return;
    this.#sweep = setTimeout(() => {
      this.#sweep = undefined;
      const now = performance.now();
      let idle = false;
      for (const [key, shared] of [...this.#reading]) {
        if (shared.users > 0) continue;
        if (now - shared.idleSince >= READ_HANDLE_LINGER_MS) this.#closeIdleRead(key);
        else idle = true;
      }
      if (idle) this.#scheduleSweep();
    }, READ_HANDLE_LINGER_MS);
  }

  /** Closes the shared read handle of `key` if no read uses it (before a write or delete of the key, or on close). */
  #closeIdleRead(key: string): void {
    const shared = this.#reading.get(key);
    if (shared === undefined || shared.users > 0) return;
    this.#reading.delete(key);
    shared.handle.then((h) => h.close(), () => {});
  }

  async #readAsync(file: FileHandle, key: string, ranges: readonly Want[]): Promise<Uint8Array[]> {
    // A File snapshot becomes unreadable (NotReadableError) when the file is replaced before it is
    // read: take a fresh snapshot, which then holds the new object.
    for (let attempt = 0; ; attempt++) {
      try {
        const blob = await file.getFile();
        return await Promise.all(ranges.map(async ({ offset, length, into }) => {
          const want = length ?? blob.size;
          if (offset + want > blob.size) throw shortReadError(this.uri, key, offset, want, blob.size);
          const part = offset === 0 && want === blob.size ? blob : blob.slice(offset, offset + want);
          const bytes = new Uint8Array(await part.arrayBuffer());
          if (into === undefined) return bytes;
          into.set(bytes);
          return into;
        }));
      } catch (error) {
        if (isAbsent(error)) {
          this.#handles.delete(key);
          throw notFoundError(this.uri, key, error);
        }
        if (errorName(error) !== "NotReadableError" || attempt === 2) throw error;
      }
    }
  }

  /** Writes `data` under `key` through a temporary file; the caller holds the key's lock. */
  async #write(key: string, data: Parts): Promise<void> {
    const segments = keySegments(key);
    const name = segments.at(-1)!;
    let dir: DirectoryHandle;
    try {
      dir = await this.#directory(segments.slice(0, -1), true);
    } catch (error) {
      throw isWrongKind(error) ? keyShapeError(this.uri, key, error) : error;
    }
    const tempName = temporaryName();
    const temp = (await dir.getFileHandle(tempName, { create: true })) as FileHandle;
    try {
      if (typeof temp.move === "function") {
        await this.#writeFile(temp, data);
        await retryWhileLocked(() => temp.move!(dir, name));
      } else {
        await dir.removeEntry(tempName);
        await this.#writeFile((await dir.getFileHandle(name, { create: true })) as FileHandle, data);
      }
    } catch (error) {
      await dir.removeEntry(tempName).catch(() => {});
      if (errorName(error) === "QuotaExceededError") throw quotaError(this.uri, key, error);
      if (isWrongKind(error) || errorName(error) === "InvalidModificationError") throw keyShapeError(this.uri, key, error);
      throw error;
    }
  }

  async #writeFile(file: FileHandle, parts: Parts): Promise<void> {
    if (this.#sync) {
      const handle = await file.createSyncAccessHandle!();
      try {
        let written = 0;
        for await (const data of parts) {
          for (let at = 0; at < data.length;) {
            const n = handle.write(data.subarray(at), { at: written });
            if (n === 0) throw createError("QUOTA_EXCEEDED", `${this.uri}: the browser accepted no more bytes.`);
            at += n;
            written += n;
          }
        }
        handle.flush();
      } finally {
        handle.close();
      }
      return;
    }
    const stream = await file.createWritable();
    try {
      // write() resolves once the chunk is taken in, so a streamed part's buffer may be reused after it.
      for await (const data of parts) await stream.write(data as Uint8Array<ArrayBuffer>);
      await stream.close();
    } catch (error) {
      await stream.abort().catch(() => {});
      throw error;
    }
  }

  /**
   * Runs `work` holding the exclusive Web Lock of `key` in this store, shared by every tab and
   * worker of the origin. Without Web Locks, plain writes go ahead unlocked, and `putIfAbsent`,
   * which cannot be atomic then, is UNSUPPORTED.
   */
  async #withKeyLock<T>(key: string, required: boolean, work: () => Promise<T>): Promise<T> {
    const locks = (globalThis as { navigator?: Navigator }).navigator?.locks;
    if (!locks) {
      if (required) {
        throw createError("UNSUPPORTED", `${this.uri}: putIfAbsent needs Web Locks (navigator.locks), which this runtime lacks.`);
      }
      return work();
    }
    return locks.request(`quiver:${this.uri}/${key}`, { mode: "exclusive" }, work) as Promise<T>;
  }
}
