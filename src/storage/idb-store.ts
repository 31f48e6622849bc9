/**
 * `idb://name`: objects in IndexedDB, through `idb`. One database per store (`quiver:<name>`) with
 * two object stores keyed by the object's key:
 *
 *   data  key → Blob                 the bytes (Uint8Array in stores written before Blobs; still read)
 *   meta  key → { size, modified }    what `head` and `list` read, so they never load the bytes
 *
 * Values are Blobs so that `getRange` reads only its range: reading a Blob value from IndexedDB
 * hands back a handle to the bytes on disk (Chromium keeps large values as files), and
 * `blob.slice(…).arrayBuffer()` reads just that slice. A Uint8Array value would be deserialized
 * whole, so a 40-byte footer read of a 40 MB fragment file would load all 40 MB.
 *
 * `getRange` keeps the Blob handles of the last objects it read (up to 256), so reading rows or
 * index partitions of one file needs one IndexedDB transaction, not one per range: Quiver reads by
 * range only files that never change once written (data, index and deletion files, whose names are
 * random). Writes and deletes through this store drop the handle of their key.
 *
 * Every write touches both in one readwrite transaction and resolves on `tx.done`, so an object is
 * either wholly there or not at all. IndexedDB runs readwrite transactions over the same object
 * stores one at a time across every tab and worker of the origin, which is what makes
 * `putIfAbsent` (check, then add, inside one transaction) atomic.
 */
import type { DBSchema, IDBPDatabase, IDBPTransaction } from "idb";
import { LRUCache } from "lru-cache";
import { createError } from "../errors.js";
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

export interface IdbStoreOptions {
  /**
   * Transaction durability for writes. `strict` (default) resolves only once the browser has
   * flushed the write to disk, keeping the promise of `put` ("durable when it resolves"); `relaxed`
   * resolves when the write is visible to other readers, several times faster for many small writes,
   * but an OS crash or power loss can drop the last writes. Chromium's own default is relaxed.
   */
  durability?: "strict" | "relaxed";
}

interface Meta {
  size: number;
  modified: number;
}

interface QuiverBlobs extends DBSchema {
  data: { key: string; value: Blob | Uint8Array };
  meta: { key: string; value: Meta };
}

const DATABASE_PREFIX = "quiver:";

export class IdbStore implements BlobStore {
  readonly readOnly = false;
  readonly uri: string;
  readonly #db: IDBPDatabase<QuiverBlobs>;
  readonly #durability: "strict" | "relaxed";
  #closed = false;
  /** Blob handles of objects read by range (see the top of this file). */
  readonly #handles = new LRUCache<string, Blob>({ max: 256 });

  private constructor(uri: string, db: IDBPDatabase<QuiverBlobs>, options: IdbStoreOptions) {
    this.uri = uri;
    this.#db = db;
    this.#durability = options.durability ?? "strict";
  }

  /** Opens (creating if needed) the database for `name`. UNSUPPORTED where IndexedDB is missing. */
  static async open(name: string, options: IdbStoreOptions = {}): Promise<IdbStore> {
    const uri = `idb://${name}`;
    if (typeof indexedDB === "undefined") {
      throw createError("UNSUPPORTED", `${uri}: IndexedDB is not available in this runtime; use a file path (Node, Deno) or memory://.`);
    }
    // Loaded here, not at the top: runtimes without IndexedDB (Node, Deno, workerd) never need it.
    const { openDB } = await import("idb");
    let store: IdbStore | undefined;
    const db = await openDB<QuiverBlobs>(DATABASE_PREFIX + name, 1, {
      upgrade(database) {
        database.createObjectStore("data");
        database.createObjectStore("meta");
      },
      // Another connection wants to delete or upgrade the database: step aside instead of blocking
      // it forever. Later calls on this store fail with CLOSED.
      blocking() {
        if (store) store.#shutDown();
      },
      // The browser closed the connection (storage cleared, disk error).
      terminated() {
        if (store) store.#closed = true;
      },
    });
    store = new IdbStore(uri, db, options);
    return store;
  }

  /** Deletes the database behind `idb://name` and everything in it. */
  static async destroy(name: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const request = indexedDB.deleteDatabase(DATABASE_PREFIX + name);
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error);
    });
  }

  async get(key: string): Promise<Uint8Array> {
    this.#checkOpen();
    checkKey(key);
    const data = await this.#value(key);
    return data instanceof Uint8Array ? data : this.#read(data, key);
  }

  /** Reads only the range from a Blob value; an older Uint8Array value is loaded whole and sliced. */
  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    this.#checkOpen();
    checkRange(checkKey(key), offset, length);
    let data: Blob | Uint8Array | undefined = this.#handles.get(key);
    if (data === undefined) {
      data = await this.#value(key);
      if (data instanceof Blob) this.#handles.set(key, data);
    }
    const size = data instanceof Uint8Array ? data.length : data.size;
    if (offset + length > size) throw shortReadError(this.uri, key, offset, length, size);
    if (data instanceof Uint8Array) return offset === 0 && length === size ? data : data.slice(offset, offset + length);
    return this.#read(offset === 0 && length === size ? data : data.slice(offset, offset + length), key);
  }

  async #value(key: string): Promise<Blob | Uint8Array> {
    const data = await this.#run(() => this.#db.get("data", key), key);
    if (data === undefined) throw notFoundError(this.uri, key);
    return data;
  }

  /** A Blob's bytes; the file behind it can vanish (storage cleared), which reads as NotReadableError. */
  async #read(blob: Blob, key: string): Promise<Uint8Array> {
    return new Uint8Array(await this.#run(() => blob.arrayBuffer(), key));
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    this.#checkOpen();
    checkKey(key);
    const meta = await this.#run(() => this.#db.get("meta", key), key);
    return meta && { key, size: meta.size, modified: meta.modified };
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    this.#checkOpen();
    checkData(checkKey(key), data);
    this.#handles.delete(key);
    // The Blob copies exactly the view's bytes now, so the caller may change `data` afterwards.
    const bytes = blobOf(data);
    await this.#run(async () => {
      const tx = this.#db.transaction(["data", "meta"], "readwrite", { durability: this.#durability });
      await settle(tx, [
        tx.objectStore("data").put(bytes, key),
        tx.objectStore("meta").put({ size: bytes.size, modified: Date.now() }, key),
      ]);
    }, key);
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    this.#checkOpen();
    checkData(checkKey(key), data);
    this.#handles.delete(key);
    const bytes = blobOf(data);
    return this.#run(async () => {
      const tx = this.#db.transaction(["data", "meta"], "readwrite", { durability: this.#durability });
      // Only IndexedDB requests are awaited in between, so the transaction stays active from the
      // check to the write, and no other readwrite transaction on these stores runs meanwhile.
      const count = tx.objectStore("meta").count(key);
      if ((await settleRequest(tx, count)) > 0) {
        await settle(tx, []);
        return false;
      }
      await settle(tx, [
        tx.objectStore("data").add(bytes, key),
        tx.objectStore("meta").add({ size: bytes.size, modified: Date.now() }, key),
      ]);
      return true;
    }, key);
  }

  async list(prefix: string): Promise<BlobInfo[]> {
    this.#checkOpen();
    checkPrefix(prefix);
    const range = prefixRange(prefix);
    const [keys, metas] = await this.#run(async () => {
      const tx = this.#db.transaction("meta", "readonly");
      const result = await Promise.all([tx.store.getAllKeys(range), tx.store.getAll(range), tx.done]);
      return [result[0], result[1]] as const;
    }, prefix);
    // Both arrays come from one transaction in key order, which is JavaScript string order.
    return keys.map((key, i) => ({ key, size: metas[i]!.size, modified: metas[i]!.modified }));
  }

  /**
   * Skips from folder to folder with a key cursor (`continue(past the folder)`), so the cost is one
   * step per folder, not one per object.
   */
  async listFolders(prefix: string): Promise<string[]> {
    this.#checkOpen();
    if (prefix !== "") checkPrefix(prefix);
    return this.#run(async () => {
      const tx = this.#db.transaction("meta", "readonly");
      const names: string[] = [];
      let cursor = await tx.store.openKeyCursor(prefixRange(prefix));
      while (cursor) {
        const key = cursor.key;
        const cut = key.indexOf("/", prefix.length);
        if (cut < 0) {
          cursor = await cursor.continue();
          continue;
        }
        names.push(key.slice(prefix.length, cut));
        // "0" is the code unit after "/": the first key past every key of this folder.
        cursor = await cursor.continue(`${key.slice(0, cut)}0`);
      }
      await tx.done;
      return names;
    }, prefix);
  }

  async delete(key: string): Promise<void> {
    this.#checkOpen();
    checkKey(key);
    this.#handles.delete(key);
    await this.#run(async () => {
      const tx = this.#db.transaction(["data", "meta"], "readwrite", { durability: this.#durability });
      await settle(tx, [tx.objectStore("data").delete(key), tx.objectStore("meta").delete(key)]);
    }, key);
  }

  async close(): Promise<void> {
    this.#shutDown();
  }

  #shutDown(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handles.clear();
    this.#db.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw closedError(this.uri);
  }

  /** Runs IndexedDB work, translating the browser's errors into Quiver's. */
  async #run<T>(work: () => Promise<T>, key: string): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const name = (error as { name?: string } | null)?.name;
      if (name === "QuotaExceededError") throw quotaError(this.uri, key, error);
      if (name === "InvalidStateError" && this.#closed) throw closedError(this.uri);
      throw error;
    }
  }
}

/** A Blob of the view's bytes (copied now). Blobs take no views of shared memory: copy those first. */
function blobOf(data: Uint8Array): Blob {
  return new Blob([data.buffer instanceof ArrayBuffer ? (data as Uint8Array<ArrayBuffer>) : data.slice()]);
}

/**
 * Waits for a write transaction to commit. When the browser aborts it (a full disk aborts at
 * commit), its requests fail with a bare AbortError and the reason is on `tx.error`: report that.
 */
async function settle(tx: IDBPTransaction<QuiverBlobs, ("data" | "meta")[], "readwrite">, requests: Promise<unknown>[]): Promise<void> {
  try {
    await Promise.all([...requests, tx.done]);
  } catch (error) {
    throw tx.error ?? error;
  }
}

async function settleRequest<T>(tx: IDBPTransaction<QuiverBlobs, ("data" | "meta")[], "readwrite">, request: Promise<T>): Promise<T> {
  try {
    return await request;
  } catch (error) {
    // Keep tx.done's rejection from going unhandled; the request's failure is the one to report.
    tx.done.catch(() => {});
    throw tx.error ?? error;
  }
}

/** The key range of every string starting with `prefix`, or undefined for all keys. */
function prefixRange(prefix: string): IDBKeyRange | undefined {
  // The smallest string greater than every string starting with `prefix`: drop trailing U+FFFF
  // code units, then bump the last one. IndexedDB compares strings by code unit, like JavaScript.
  let end = prefix;
  while (end.endsWith("\uffff")) end = end.slice(0, -1);
  if (end === "") return prefix === "" ? undefined : IDBKeyRange.lowerBound(prefix);
  const upper = end.slice(0, -1) + String.fromCharCode(end.charCodeAt(end.length - 1) + 1);
  return IDBKeyRange.bound(prefix, upper, false, true);
}
