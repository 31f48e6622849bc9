/**
 * A BlobStore on a key-value database whose values are small (Deno KV: 64 KiB, Durable Objects:
 * 128 KiB): every object is a head record naming its size and a set of fixed-size chunks. The edge
 * stores (deno-kv-store.ts, durable-object-store.ts) are thin adapters over this.
 *
 *   o:<key>                          head: {"size", "modified", "id", "chunk"} (JSON)
 *   c:<key>\u0000<id>\u0000<index>   chunk `index` of the object written as `id`
 *
 * A write puts its chunks under a fresh id first and the head last, so readers never see a partial
 * object: the head is the commit point, one atomic single-key write (`putIfAbsent` makes it
 * conditional through the database's own atomic check). Replacing or deleting an object removes
 * the chunks of the head it replaced afterwards. A writer that dies between chunks and head leaves
 * chunks no head names; `removeTemporaryFiles` collects them once they are old (the id starts with
 * the write's time). `getRange` reads only the chunks the range covers.
 *
 * Hand-written: no library maps a blob store onto these databases; the layout is ours.
 */
import { createError } from "../errors.js";
import type { BlobInfo, BlobStore } from "./blob-store.js";
import { checkData, checkKey, checkPrefix, checkRange, closedError, notFoundError, shortReadError } from "./keys.js";

/** What ChunkedKvStore needs of a key-value database. Keys are strings; values are byte arrays. */
export interface KvBackend {
  /** Largest value one key may hold. */
  readonly maxValueBytes: number;
  get(key: string): Promise<Uint8Array | undefined>;
  /** Values of `keys` in order (undefined where absent). */
  getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]>;
  /** Writes every entry; need not be atomic as a group, but each key's write is. */
  setMany(entries: readonly (readonly [string, Uint8Array])[]): Promise<void>;
  /** Atomically writes `key` only if it has no value, across every writer of the database. */
  setIfAbsent(key: string, value: Uint8Array): Promise<boolean>;
  deleteMany(keys: readonly string[]): Promise<void>;
  /** Entries whose key starts with `prefix`, in key order. */
  list(prefix: string): AsyncIterable<readonly [string, Uint8Array]>;
  close?(): void | Promise<void>;
}

interface Head {
  readonly size: number;
  readonly modified: number;
  /** Names this write's chunks: `<ms since epoch, base 36>-<random>`. */
  readonly id: string;
  /** Bytes per chunk (the last may be shorter). */
  readonly chunk: number;
}

const HEAD = "o:";
const CHUNK = "c:";
const SEP = "\u0000";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function newId(): string {
  const random = new Uint8Array(8);
  crypto.getRandomValues(random);
  return `${Date.now().toString(36)}-${Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function chunkKey(key: string, id: string, index: number): string {
  return `${CHUNK}${key}${SEP}${id}${SEP}${String(index).padStart(8, "0")}`;
}

export class ChunkedKvStore implements BlobStore {
  readonly readOnly = false;
  readonly #kv: KvBackend;
  readonly #chunk: number;
  #closed = false;

  /** `chunkBytes`: bytes per chunk, at most the backend's value limit (default: that limit less 1 KiB). */
  constructor(readonly uri: string, kv: KvBackend, chunkBytes?: number) {
    this.#kv = kv;
    const chunk = chunkBytes ?? kv.maxValueBytes - 1024;
    if (!Number.isSafeInteger(chunk) || chunk < 1024 || chunk > kv.maxValueBytes) {
      throw createError("INVALID_ARGUMENT", `${uri}: chunkBytes must be an integer in 1024..${kv.maxValueBytes}, got ${String(chunkBytes)}.`);
    }
    this.#chunk = chunk;
  }

  async get(key: string): Promise<Uint8Array> {
    this.#checkOpen();
    checkKey(key);
    // Replaced while read (chunks gone): the new object, whole.
    for (let attempt = 0; ; attempt++) {
      const head = await this.#head(key);
      if (head === undefined) throw notFoundError(this.uri, key);
      const bytes = await this.#read(key, head, 0, head.size, true).catch((e: unknown) => {
        if (attempt < 3 && (e as { code?: string }).code === "CORRUPT_FILE") return undefined;
        throw e;
      });
      if (bytes !== undefined) return bytes;
    }
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    this.#checkOpen();
    checkRange(checkKey(key), offset, length);
    const head = await this.#head(key);
    if (head === undefined) throw notFoundError(this.uri, key);
    if (offset + length > head.size) throw shortReadError(this.uri, key, offset, length, head.size);
    return this.#read(key, head, offset, length);
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    this.#checkOpen();
    checkKey(key);
    const head = await this.#head(key);
    return head && { key, size: head.size, modified: head.modified };
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    this.#checkOpen();
    checkData(checkKey(key), data);
    const { head, chunks } = this.#split(key, data);
    const previous = await this.#head(key);
    await this.#kv.setMany(chunks);
    await this.#kv.setMany([[HEAD + key, encodeHead(head)]]);
    if (previous !== undefined && previous.id !== head.id) await this.#dropChunks(key, previous);
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    this.#checkOpen();
    checkData(checkKey(key), data);
    const { head, chunks } = this.#split(key, data);
    if ((await this.#head(key)) !== undefined) return false;
    await this.#kv.setMany(chunks);
    if (await this.#kv.setIfAbsent(HEAD + key, encodeHead(head))) return true;
    await this.#dropChunks(key, head);
    return false;
  }

  async list(prefix: string): Promise<BlobInfo[]> {
    this.#checkOpen();
    checkPrefix(prefix);
    const out: BlobInfo[] = [];
    for await (const [k, v] of this.#kv.list(HEAD + prefix)) {
      const key = k.slice(HEAD.length);
      const head = decodeHead(v, this.uri, key);
      out.push({ key, size: head.size, modified: head.modified });
    }
    // The database's order (UTF-8 bytes) and JavaScript's (UTF-16 units) differ beyond the BMP.
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    this.#checkOpen();
    checkKey(key);
    const head = await this.#head(key);
    if (head === undefined) return;
    await this.#kv.deleteMany([HEAD + key]);
    await this.#dropChunks(key, head);
  }

  /**
   * Deletes chunks no head names that are older than `olderThanMs` (what writers that died between
   * their chunks and their head left behind) for objects under `prefix`. Returns how many writes' worth.
   */
  async removeTemporaryFiles(prefix: string, olderThanMs: number): Promise<number> {
    this.#checkOpen();
    checkPrefix(prefix);
    const cutoff = Date.now() - olderThanMs;
    const orphans = new Map<string, string[]>();
    const live = new Map<string, string | undefined>();
    for await (const [k] of this.#kv.list(CHUNK + prefix)) {
      const [key, id] = k.slice(CHUNK.length).split(SEP) as [string, string];
      if (!live.has(key)) live.set(key, (await this.#head(key))?.id);
      const written = parseInt(id.split("-")[0]!, 36);
      if (live.get(key) === id || !(written < cutoff)) continue;
      const group = `${key}${SEP}${id}`;
      let keys = orphans.get(group);
      if (keys === undefined) orphans.set(group, (keys = []));
      keys.push(k);
    }
    for (const keys of orphans.values()) await this.#kv.deleteMany(keys);
    return orphans.size;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#kv.close?.();
  }

  async #head(key: string): Promise<Head | undefined> {
    const bytes = await this.#kv.get(HEAD + key);
    return bytes === undefined ? undefined : decodeHead(bytes, this.uri, key);
  }

  /**
   * The head and chunks of a write, cut now: the caller may change `data` as soon as the call
   * returns. Each chunk is a copy of its own (a view would carry the whole buffer into databases
   * that structured-clone their values).
   */
  #split(key: string, data: Uint8Array): { head: Head; chunks: [string, Uint8Array][] } {
    const head: Head = { size: data.length, modified: Date.now(), id: newId(), chunk: this.#chunk };
    const chunks: [string, Uint8Array][] = [];
    for (let i = 0, at = 0; at < data.length; i++, at += head.chunk) chunks.push([chunkKey(key, head.id, i), data.slice(at, at + head.chunk)]);
    return { head, chunks };
  }

  async #dropChunks(key: string, head: Head): Promise<void> {
    const keys: string[] = [];
    for (let i = 0; i * head.chunk < head.size; i++) keys.push(chunkKey(key, head.id, i));
    await this.#kv.deleteMany(keys);
  }

  /** Bytes [offset, offset + length) of the object `head` describes, reading only its chunks. */
  async #read(key: string, head: Head, offset: number, length: number, retried = false): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    if (length === 0) return out;
    const first = Math.floor(offset / head.chunk);
    const last = Math.floor((offset + length - 1) / head.chunk);
    const keys = Array.from({ length: last - first + 1 }, (_, i) => chunkKey(key, head.id, first + i));
    const chunks = await this.#kv.getMany(keys);
    if (chunks.some((c) => c === undefined)) {
      // Replaced or deleted while we read: read the current object once more.
      const now = await this.#head(key);
      if (now === undefined) throw notFoundError(this.uri, key);
      if (!retried && now.id !== head.id) {
        if (offset + length > now.size) throw shortReadError(this.uri, key, offset, length, now.size);
        return this.#read(key, now, offset, length, true);
      }
      throw createError("CORRUPT_FILE", `${this.uri}: ${key} is missing chunks of its data.`, { store: this.uri, key });
    }
    chunks.forEach((chunk, i) => {
      const start = (first + i) * head.chunk;
      const expected = Math.min(head.chunk, head.size - start);
      if (chunk!.length !== expected) throw createError("CORRUPT_FILE", `${this.uri}: chunk ${first + i} of ${key} has ${chunk!.length} bytes, expected ${expected}.`, { store: this.uri, key });
      const from = Math.max(offset, start);
      const to = Math.min(offset + length, start + chunk!.length);
      out.set(chunk!.subarray(from - start, to - start), from - offset);
    });
    return out;
  }

  #checkOpen(): void {
    if (this.#closed) throw closedError(this.uri);
  }
}

function encodeHead(head: Head): Uint8Array {
  return encoder.encode(JSON.stringify(head));
}

function decodeHead(bytes: Uint8Array, uri: string, key: string): Head {
  try {
    const h = JSON.parse(decoder.decode(bytes)) as Head;
    if (Number.isSafeInteger(h.size) && h.size >= 0 && Number.isSafeInteger(h.chunk) && h.chunk > 0 && typeof h.id === "string" && typeof h.modified === "number") return h;
  } catch {
    // fall through
  }
  throw createError("CORRUPT_FILE", `${uri}: the head record of ${key} is malformed.`, { store: uri, key });
}
