/**
 * Browser storage limits. `QuotaGuardStore` checks every write against the room left before it
 * writes: the origin's quota minus its usage (`navigator.storage.estimate()`), and, if the app set
 * one, the database's own byte limit (`connect(uri, { storageLimit })`). A write that would not fit
 * fails with QUOTA_EXCEEDED before any of its bytes are written, naming what is used, what is
 * free, and what `optimize({ cleanupOlderThan })` would free.
 *
 * A write is the put of one object. A commit writes its data and index files first and its
 * manifest last, so the first object that does not fit stops it: the table stays at its version,
 * and files that did fit before are unreferenced until cleanup removes them. Data files are the
 * large objects and come first, so in practice the check stops a write before it writes anything.
 *
 * The estimate is read once per second at most; in between, this store counts what it wrote.
 * Browsers report usage loosely (padded, per origin), so the check is a fence against running
 * into the browser's own QuotaExceededError mid-commit, not an exact accounting.
 */
import { createError } from "../errors.js";
import type { BlobInfo, BlobStore, ByteRange, RangeReadHint } from "./blob-store.js";

export interface StorageEstimateLike { usage?: number; quota?: number }

export interface QuotaGuardOptions {
  /** The database's own limit in bytes (its objects, as listed). Default: none. */
  limitBytes?: number;
  /** The origin's estimate; default `navigator.storage.estimate()` where it exists. */
  estimate?: () => Promise<StorageEstimateLike>;
  /** Bytes `optimize({ cleanupOlderThan })` would free, for the error's details. */
  reclaimable?: () => Promise<number>;
}

const ESTIMATE_TTL_MS = 1000;

interface NavigatorStorageLike {
  estimate?(): Promise<StorageEstimateLike>;
  persist?(): Promise<boolean>;
  persisted?(): Promise<boolean>;
}

/** `navigator.storage` where the runtime has it (browsers, windows and workers). */
export function navigatorStorage(): NavigatorStorageLike | undefined {
  return (globalThis as { navigator?: { storage?: NavigatorStorageLike } }).navigator?.storage;
}

/** `navigator.storage.persist()` where there is one (pages, not workers); whether storage is persistent now. */
export async function requestPersistence(): Promise<boolean> {
  const nav = navigatorStorage();
  if (nav?.persist === undefined) return false;
  return (await nav.persisted?.()) === true || nav.persist();
}

export class QuotaGuardStore implements BlobStore {
  readonly uri: string;
  readonly readOnly: boolean;
  readonly inMemory?: boolean;
  readonly remote?: boolean;
  #checkedAt = -Infinity;
  /** Origin room and database bytes at the last check, less what was written since. */
  #originFree = Infinity;
  #databaseBytes = 0;

  constructor(readonly inner: BlobStore, readonly options: QuotaGuardOptions) {
    this.uri = inner.uri;
    this.readOnly = inner.readOnly;
    if (inner.inMemory !== undefined) this.inMemory = inner.inMemory;
    if (inner.remote !== undefined) this.remote = inner.remote;
    this.getRanges = inner.getRanges?.bind(inner);
    if (inner.readInto) this.readInto = inner.readInto.bind(inner);
    if (inner.listFolders) this.listFolders = (prefix) => inner.listFolders!(prefix);
    if (inner.removeTemporaryFiles) this.removeTemporaryFiles = (prefix, age) => inner.removeTemporaryFiles!(prefix, age);
    if (inner.putParts) {
      this.putParts = async (key, parts) => {
        const bytes = parts.reduce((n, p) => n + p.length, 0);
        await this.#check(key, bytes);
        await inner.putParts!(key, parts);
        this.#wrote(bytes);
      };
    }
    if (inner.putStream) {
      this.putStream = async (key, size, parts) => {
        let written = 0;
        if (size !== undefined) await this.#check(key, size);
        // A stream of unknown size is checked as it grows: past the room, the write fails and leaves nothing.
        const checked = size !== undefined ? parts : (async function* (guard: QuotaGuardStore) {
          for await (const part of parts) {
            await guard.#check(key, written + part.length);
            written += part.length;
            yield part;
          }
        })(this);
        await inner.putStream!(key, size, checked);
        this.#wrote(size ?? written);
      };
    }
  }

  getRanges?(key: string, ranges: readonly ByteRange[], into?: Uint8Array): Promise<Uint8Array[]>;
  readInto?(key: string, offset: number, into: Uint8Array): Promise<Uint8Array>;
  listFolders?(prefix: string): Promise<string[]>;
  putParts?(key: string, parts: readonly Uint8Array[]): Promise<void>;
  putStream?(key: string, size: number | undefined, parts: AsyncIterable<Uint8Array>): Promise<void>;
  removeTemporaryFiles?(prefix: string, olderThanMs: number): Promise<number>;

  get(key: string): Promise<Uint8Array> { return this.inner.get(key); }
  getRange(key: string, offset: number, length: number, hint?: RangeReadHint): Promise<Uint8Array> { return this.inner.getRange(key, offset, length, hint); }
  head(key: string): Promise<BlobInfo | undefined> { return this.inner.head(key); }
  list(prefix: string): Promise<BlobInfo[]> { return this.inner.list(prefix); }
  delete(key: string): Promise<void> { return this.inner.delete(key); }
  close(): Promise<void> { return this.inner.close(); }

  async put(key: string, data: Uint8Array): Promise<void> {
    // Not bytes: the store below reports the bad argument.
    const bytes = data instanceof Uint8Array ? data.length : 0;
    await this.#check(key, bytes);
    await this.inner.put(key, data);
    this.#wrote(bytes);
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    const bytes = data instanceof Uint8Array ? data.length : 0;
    await this.#check(key, bytes);
    const done = await this.inner.putIfAbsent(key, data);
    if (done) this.#wrote(bytes);
    return done;
  }

  #wrote(bytes: number): void {
    this.#originFree -= bytes;
    this.#databaseBytes += bytes;
  }

  async #check(key: string, bytes: number): Promise<void> {
    if (bytes === 0) return;
    if (performance.now() - this.#checkedAt > ESTIMATE_TTL_MS) {
      const estimate = this.options.estimate ?? navigatorStorage()?.estimate?.bind(navigatorStorage());
      const e = estimate ? await estimate() : {};
      this.#originFree = e.quota !== undefined && e.usage !== undefined ? e.quota - e.usage : Infinity;
      if (this.options.limitBytes !== undefined) this.#databaseBytes = (await this.inner.list("")).reduce((s, o) => s + o.size, 0);
      this.#checkedAt = performance.now();
    }
    const limitFree = this.options.limitBytes === undefined ? Infinity : this.options.limitBytes - this.#databaseBytes;
    const free = Math.min(this.#originFree, limitFree);
    if (bytes <= free) return;
    const reclaimable = await this.options.reclaimable?.().catch(() => undefined);
    const which = limitFree <= this.#originFree ? `the database's storageLimit of ${this.options.limitBytes} bytes` : "the browser's quota for this origin";
    throw createError(
      "QUOTA_EXCEEDED",
      `Writing "${key}" (${bytes} bytes) to ${this.uri} would pass ${which}: ${Math.max(0, free)} bytes are free. Nothing was written.` +
        (reclaimable ? ` optimize({ cleanupOlderThan }) would free ${reclaimable} bytes of old versions;` : "") +
        " ask for persistent storage (db.requestPersistence()) or free space.",
      { key, store: this.uri, needed: bytes, free: Math.max(0, free), limitBytes: this.options.limitBytes, reclaimableBytes: reclaimable },
    );
  }
}
