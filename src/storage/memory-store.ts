/**
 * `memory://`: objects in a Map, gone when the JavaScript realm ends. Every write is atomic (it is
 * one synchronous step) and bytes are copied in and out, so callers can neither change stored
 * objects through the array they wrote nor through the one they read.
 *
 * Several `MemoryStore` handles can share one `MemoryVolume` (named stores, `memory://name`); each
 * handle closes on its own.
 */
import type { BlobInfo, BlobStore } from "./blob-store.js";
import {
  checkData,
  checkKey,
  checkPrefix,
  checkRange,
  closedError,
  notFoundError,
  quotaError,
  shortReadError,
} from "./keys.js";

export interface MemoryStoreOptions {
  /**
   * Most bytes the volume holds; a write that would pass it fails with QUOTA_EXCEEDED and changes
   * nothing. Default: unlimited. Used to test how writers behave when a real store is full.
   */
  quotaBytes?: number;
}

interface Entry {
  readonly data: Uint8Array;
  readonly modified: number;
}

/** The objects behind one or more MemoryStore handles. */
export class MemoryVolume {
  readonly objects = new Map<string, Entry>();
  usedBytes = 0;

  constructor(readonly quotaBytes = Infinity) {}
}

export class MemoryStore implements BlobStore {
  readonly readOnly = false;
  readonly inMemory = true;
  readonly #volume: MemoryVolume;
  #closed = false;

  constructor(
    readonly uri = "memory://",
    options: MemoryStoreOptions | MemoryVolume = {},
  ) {
    this.#volume = options instanceof MemoryVolume ? options : new MemoryVolume(options.quotaBytes);
  }

  /** Bytes held by the volume. */
  get usedBytes(): number {
    return this.#volume.usedBytes;
  }

  async get(key: string): Promise<Uint8Array> {
    return this.#entry(key).data.slice();
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    this.#checkOpen();
    checkRange(checkKey(key), offset, length);
    const { data } = this.#entry(key);
    if (offset + length > data.length) throw shortReadError(this.uri, key, offset, length, data.length);
    return data.slice(offset, offset + length);
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    this.#checkOpen();
    const entry = this.#volume.objects.get(checkKey(key));
    return entry && { key, size: entry.data.length, modified: entry.modified };
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    this.#write(key, data);
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    this.#checkOpen();
    if (this.#volume.objects.has(checkKey(key))) {
      checkData(key, data);
      return false;
    }
    this.#write(key, data);
    return true;
  }

  async list(prefix: string): Promise<BlobInfo[]> {
    this.#checkOpen();
    checkPrefix(prefix);
    const found: BlobInfo[] = [];
    for (const [key, entry] of this.#volume.objects) {
      if (key.startsWith(prefix)) found.push({ key, size: entry.data.length, modified: entry.modified });
    }
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async listFolders(prefix: string): Promise<string[]> {
    this.#checkOpen();
    if (prefix !== "") checkPrefix(prefix);
    const names = new Set<string>();
    for (const key of this.#volume.objects.keys()) {
      if (!key.startsWith(prefix)) continue;
      const cut = key.indexOf("/", prefix.length);
      if (cut > 0) names.add(key.slice(prefix.length, cut));
    }
    return [...names].sort();
  }

  async delete(key: string): Promise<void> {
    this.#checkOpen();
    const entry = this.#volume.objects.get(checkKey(key));
    if (entry === undefined) return;
    this.#volume.objects.delete(key);
    this.#volume.usedBytes -= entry.data.length;
  }

  /** One synchronous step, so atomic for every handle on the volume. */
  async renameFolder(from: string, to: string): Promise<boolean> {
    this.#checkOpen();
    checkPrefix(from);
    checkPrefix(to);
    const objects = this.#volume.objects;
    for (const key of objects.keys()) if (key.startsWith(to)) return false;
    for (const [key, entry] of [...objects]) {
      if (!key.startsWith(from)) continue;
      objects.delete(key);
      objects.set(to + key.slice(from.length), entry);
    }
    return true;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #checkOpen(): void {
    if (this.#closed) throw closedError(this.uri);
  }

  #entry(key: string): Entry {
    this.#checkOpen();
    const entry = this.#volume.objects.get(checkKey(key));
    if (entry === undefined) throw notFoundError(this.uri, key);
    return entry;
  }

  #write(key: string, data: Uint8Array): void {
    this.#checkOpen();
    checkData(checkKey(key), data);
    const volume = this.#volume;
    const used = volume.usedBytes - (volume.objects.get(key)?.data.length ?? 0) + data.length;
    if (used > volume.quotaBytes) throw quotaError(this.uri, key);
    volume.objects.set(key, { data: data.slice(), modified: Date.now() });
    volume.usedBytes = used;
  }
}
