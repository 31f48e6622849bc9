/**
 * Encryption at rest: a BlobStore that seals every object it writes with AES-256-GCM (Web Crypto)
 * and opens what it reads, over any other BlobStore (memory, IndexedDB, OPFS, file system, HTTP).
 * `connect(uri, { encryption: { key } })` wraps the store it opens in one.
 *
 * An object is a header and fixed-size chunks, each sealed on its own, so a range read fetches and
 * decrypts only the chunks that hold its bytes (out-of-core search and HTTP reads stay partial):
 *
 *   0   "QVEC"
 *   4   u32 format version (1)
 *   8   u32 chunk size C (plaintext bytes per chunk; 16 KiB)
 *   12  u32 zero
 *   16  u64 plaintext length N
 *   24  8 bytes  key id (which key sealed the chunks; see encryption-key.ts)
 *   32  16 bytes file id (random per write)
 *   48  chunk 0, chunk 1, … chunk n−1 (n = max(1, ⌈N / C⌉)); chunk i is
 *       12-byte nonce | ciphertext of plaintext bytes [i·C, min(N, (i+1)·C)) | 16-byte tag
 *
 * Associated data of chunk i: the 48 header bytes, u32 i, one byte 1 for the last chunk (else 0),
 * and the object's key (UTF-8). So a chunk decrypts only in its own place: moved to another index,
 * another file (file id), another object key — another table (the key names the table's folder)
 * or another version (a manifest's key holds its version) — or cut off the end (the last-chunk flag
 * and N), it fails authentication and the read is CORRUPT_FILE, never wrong bytes. A damaged header
 * fails every chunk the same way. What authenticated encryption cannot tell is an older whole
 * object put back under the same key by someone with write access to the storage (a tag file's
 * previous contents, say): objects other than tags and the key check file are never rewritten.
 *
 * Nonces are 96 random bits per chunk (crypto.getRandomValues), the construction NIST SP 800-38D
 * §8.2.2 allows up to 2^32 sealed chunks per key (2^32 × 16 KiB = 64 TiB written under one key);
 * `table.rekey` starts a new key.
 */
import { createError } from "../errors.js";
import type { BlobInfo, BlobStore } from "./blob-store.js";
import { ADDED_KEYS_PREFIX, fromHex, hex, KEY_CHECK_FILE, type Keyring, type ResolvedKey } from "./encryption-key.js";

const MAGIC = [0x51, 0x56, 0x45, 0x43]; // "QVEC"
const FORMAT_VERSION = 1;
export const HEADER_BYTES = 48;
/** Plaintext bytes per chunk: small enough that a row read decrypts little, large enough that the 28-byte overhead is 0.17 %. */
export const CHUNK_BYTES = 16 * 1024;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const SEALED_CHUNK = CHUNK_BYTES + NONCE_BYTES + TAG_BYTES;
const CHUNK_CACHE_BYTES = 4 * 1024 * 1024;

interface Header {
  readonly bytes: Uint8Array;
  readonly length: number;
  readonly keyId: string;
}

/** Stored size of an object of `length` plaintext bytes. */
export function sealedSize(length: number): number {
  return HEADER_BYTES + length + Math.max(1, Math.ceil(length / CHUNK_BYTES)) * (NONCE_BYTES + TAG_BYTES);
}

/** Plaintext size of a stored object of `stored` bytes (inverse of sealedSize; -1 when no plaintext size fits). */
export function plainSize(stored: number): number {
  const body = stored - HEADER_BYTES;
  if (body < NONCE_BYTES + TAG_BYTES) return -1;
  const n = Math.ceil(body / SEALED_CHUNK);
  return body - n * (NONCE_BYTES + TAG_BYTES);
}

function corrupt(uri: string, key: string, why: string): never {
  throw createError("CORRUPT_FILE", `Encrypted object "${key}" in ${uri} is damaged: ${why}. Restore it from a backup or check out an older version.`, { key, store: uri });
}

export class EncryptedStore implements BlobStore {
  readonly uri: string;
  readonly readOnly: boolean;
  readonly remote?: boolean;
  /** Headers of objects read lately, so range reads of one file read its header once. */
  readonly #headers = new BoundedCache<Header>(4096, () => 1);
  /**
   * Decrypted chunks of range reads (keyed by object key, file id and chunk index, so a replaced
   * object never hits), up to CHUNK_CACHE_BYTES: re-ranking and row reads that come back to the
   * same chunks decrypt them once. Owned by the store and emptied by close().
   */
  readonly #chunks = new BoundedCache<Uint8Array>(CHUNK_CACHE_BYTES, (c) => Math.max(1, c.length));
  readonly #encoder = new TextEncoder();
  #writeKey: ResolvedKey;

  constructor(readonly inner: BlobStore, readonly keyring: Keyring) {
    this.uri = inner.uri;
    this.readOnly = inner.readOnly;
    // Not `inMemory`, even over memory://: reading back means decrypting, not copying, so tables
    // cache decoded columns as they do for other stores.
    if (inner.remote !== undefined) this.remote = inner.remote;
    if (inner.removeTemporaryFiles) this.removeTemporaryFiles = (prefix, age) => inner.removeTemporaryFiles!(prefix, age);
    if (inner.listFolders) this.listFolders = (prefix) => inner.listFolders!(prefix);
    this.#writeKey = keyring.current;
  }

  /** The key new objects are sealed with. */
  get writeKey(): ResolvedKey {
    return this.#writeKey;
  }

  /** Seals new objects with `key` from now on (it must be in the keyring). */
  useWriteKey(key: ResolvedKey): void {
    this.#writeKey = key;
  }

  listFolders?(prefix: string): Promise<string[]>;
  removeTemporaryFiles?(prefix: string, olderThanMs: number): Promise<number>;

  async get(key: string): Promise<Uint8Array> {
    const stored = await this.inner.get(key);
    const header = this.#parseHeader(key, stored.subarray(0, HEADER_BYTES));
    this.#headers.set(key, header);
    if (stored.length !== sealedSize(header.length)) corrupt(this.uri, key, `it is ${stored.length} bytes, the header says ${sealedSize(header.length)}`);
    return this.#openChunks(key, header, stored.subarray(HEADER_BYTES), 0, chunkCount(header.length));
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    // Keys are checked by the store below (every call reaches it with the same key); ranges here.
    for (const n of [offset, length]) {
      if (!Number.isSafeInteger(n) || n < 0) throw createError("INVALID_ARGUMENT", `getRange("${key}"): offset and length must be non-negative integers, got ${String(offset)}, ${String(length)}.`, { key });
    }
    for (let attempt = 0; ; attempt++) {
      const header = attempt === 0 ? this.#headers.get(key) ?? (await this.#readHeader(key)) : await this.#readHeader(key);
      if (offset + length > header.length) {
        if (attempt === 0) continue; // the cached header may be of an object since replaced
        throw createError("CORRUPT_FILE", `Object "${key}" in ${this.uri} is ${header.length} bytes, too short for ${length} bytes at offset ${offset}.`, { key, store: this.uri, offset, length, size: header.length });
      }
      if (length === 0) return new Uint8Array(0);
      const first = Math.floor(offset / CHUNK_BYTES);
      const last = Math.floor((offset + length - 1) / CHUNK_BYTES);
      const cached = this.#cachedRange(key, header, first, last, offset, length);
      if (cached !== undefined) return cached;
      const start = HEADER_BYTES + first * SEALED_CHUNK;
      const end = Math.min(sealedSize(header.length), HEADER_BYTES + (last + 1) * SEALED_CHUNK);
      try {
        const sealed = await this.inner.getRange(key, start, end - start);
        const plain = await this.#openChunks(key, header, sealed, first, last + 1);
        const fileId = hex(header.bytes.subarray(32, 48));
        for (let i = first; i <= last; i++) this.#chunks.set(`${key}|${fileId}|${i}`, plain.slice((i - first) * CHUNK_BYTES, (i - first + 1) * CHUNK_BYTES));
        const from = offset - first * CHUNK_BYTES;
        return plain.subarray(from, from + length);
      } catch (e) {
        // A cached header of an object that was replaced since fails; read the header again once.
        if (attempt === 0 && (e as { code?: string }).code === "CORRUPT_FILE") continue;
        throw e;
      }
    }
  }

  /** The range from decrypted chunks already in the cache, or undefined when one is missing. */
  #cachedRange(key: string, header: Header, first: number, last: number, offset: number, length: number): Uint8Array | undefined {
    const fileId = hex(header.bytes.subarray(32, 48));
    const parts: Uint8Array[] = [];
    for (let i = first; i <= last; i++) {
      const c = this.#chunks.get(`${key}|${fileId}|${i}`);
      if (c === undefined) return undefined;
      parts.push(c);
    }
    const out = new Uint8Array(length);
    let at = 0;
    for (let j = 0; j < parts.length; j++) {
      const chunkStart = (first + j) * CHUNK_BYTES;
      const from = Math.max(offset, chunkStart) - chunkStart;
      const to = Math.min(offset + length, chunkStart + parts[j]!.length) - chunkStart;
      out.set(parts[j]!.subarray(from, to), at);
      at += to - from;
    }
    return out;
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    const info = await this.inner.head(key);
    return info && this.#plainInfo(info);
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    if (!(data instanceof Uint8Array)) return this.inner.put(key, data); // the store below says what is wrong
    const sealed = await this.#seal(key, data);
    this.#headers.delete(key);
    await this.inner.put(key, sealed);
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    if (!(data instanceof Uint8Array)) return this.inner.putIfAbsent(key, data);
    const sealed = await this.#seal(key, data);
    this.#headers.delete(key);
    return this.inner.putIfAbsent(key, sealed);
  }

  async list(prefix: string): Promise<BlobInfo[]> {
    return (await this.inner.list(prefix)).filter((i) => i.key !== KEY_CHECK_FILE && !i.key.startsWith(ADDED_KEYS_PREFIX)).map((i) => this.#plainInfo(i));
  }

  async delete(key: string): Promise<void> {
    await this.inner.delete(key);
    this.#headers.delete(key);
  }

  async close(): Promise<void> {
    this.#headers.clear();
    this.#chunks.clear();
    await this.inner.close();
  }

  /** `data` sealed as object `key` would be stored (for archives, which are not objects of a store). */
  seal(key: string, data: Uint8Array): Promise<Uint8Array> {
    return this.#seal(key, data);
  }

  /** The plaintext of `stored`, sealed as object `key`. */
  async open(key: string, stored: Uint8Array): Promise<Uint8Array> {
    const header = this.#parseHeader(key, stored.subarray(0, HEADER_BYTES));
    if (stored.length !== sealedSize(header.length)) corrupt(this.uri, key, `it is ${stored.length} bytes, the header says ${sealedSize(header.length)}`);
    return this.#openChunks(key, header, stored.subarray(HEADER_BYTES), 0, chunkCount(header.length));
  }

  #plainInfo(info: BlobInfo): BlobInfo {
    return { ...info, size: Math.max(0, plainSize(info.size)) };
  }

  async #readHeader(key: string): Promise<Header> {
    let bytes: Uint8Array;
    try {
      bytes = await this.inner.getRange(key, 0, HEADER_BYTES);
    } catch (e) {
      if ((e as { code?: string }).code === "CORRUPT_FILE") corrupt(this.uri, key, "it is shorter than its header");
      throw e;
    }
    const header = this.#parseHeader(key, bytes);
    this.#headers.set(key, header);
    return header;
  }

  #parseHeader(key: string, bytes: Uint8Array): Header {
    if (bytes.length < HEADER_BYTES) corrupt(this.uri, key, `only ${bytes.length} bytes`);
    if (MAGIC.some((m, i) => bytes[i] !== m)) {
      throw createError("CORRUPT_FILE", `"${key}" in ${this.uri} is not encrypted (no "QVEC" header) though the database is: the file was replaced or damaged.`, { key, store: this.uri });
    }
    const dv = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
    const version = dv.getUint32(4, true);
    if (version !== FORMAT_VERSION) {
      if (version > FORMAT_VERSION && version < 256) throw createError("UNSUPPORTED", `"${key}" uses encryption format ${version}; this build reads ${FORMAT_VERSION}. Upgrade quiverdb.`, { key });
      corrupt(this.uri, key, `format version ${version}`);
    }
    if (dv.getUint32(8, true) !== CHUNK_BYTES) corrupt(this.uri, key, `chunk size ${dv.getUint32(8, true)}`);
    const length = dv.getUint32(16, true) + dv.getUint32(20, true) * 2 ** 32;
    return { bytes: bytes.slice(0, HEADER_BYTES), length, keyId: hex(bytes.subarray(24, 32)) };
  }

  #keyFor(key: string, header: Header): CryptoKey {
    const found = this.keyring.byId.get(header.keyId);
    if (found) return found.key;
    if (this.keyring.registered.has(header.keyId)) {
      throw createError(
        "WRONG_KEY",
        `"${key}" in ${this.uri} is encrypted with key ${header.keyId}, an older key of this database that this connection was not given (pass it in encryption.previousKeys, or run optimize({ cleanupOlderThan }) after rekey to drop files under old keys).`,
        { key, store: this.uri, keyId: header.keyId },
      );
    }
    return corrupt(this.uri, key, `its header names key ${header.keyId}, which this database never had`);
  }

  #aad(key: string, header: Uint8Array, index: number, last: boolean): Uint8Array<ArrayBuffer> {
    const name = this.#encoder.encode(key);
    const out = new Uint8Array(HEADER_BYTES + 5 + name.length);
    out.set(header, 0);
    new DataView(out.buffer).setUint32(HEADER_BYTES, index, true);
    out[HEADER_BYTES + 4] = last ? 1 : 0;
    out.set(name, HEADER_BYTES + 5);
    return out;
  }

  /** Decrypts chunks [from, to) of an object from `sealed`, which starts at chunk `from`. */
  async #openChunks(key: string, header: Header, sealed: Uint8Array, from: number, to: number): Promise<Uint8Array> {
    const cryptoKey = this.#keyFor(key, header);
    const n = chunkCount(header.length);
    const out = new Uint8Array(Math.min(header.length, to * CHUNK_BYTES) - from * CHUNK_BYTES);
    await Promise.all(Array.from({ length: to - from }, async (_, j) => {
      const i = from + j;
      const plainLength = Math.min(CHUNK_BYTES, header.length - i * CHUNK_BYTES);
      const at = j * SEALED_CHUNK;
      const chunk = sealed.subarray(at, at + NONCE_BYTES + plainLength + TAG_BYTES);
      if (chunk.length !== NONCE_BYTES + plainLength + TAG_BYTES) corrupt(this.uri, key, `chunk ${i} is cut short`);
      let plain: ArrayBuffer;
      try {
        plain = await crypto.subtle.decrypt(
          { name: "AES-GCM", iv: chunk.slice(0, NONCE_BYTES), additionalData: this.#aad(key, header.bytes, i, i === n - 1) },
          cryptoKey, chunk.slice(NONCE_BYTES),
        );
      } catch {
        return corrupt(this.uri, key, `chunk ${i} of ${n} fails authentication (tampered, truncated or moved from elsewhere)`);
      }
      out.set(new Uint8Array(plain), j * CHUNK_BYTES);
    }));
    return out;
  }

  async #seal(key: string, data: Uint8Array): Promise<Uint8Array> {
    const writeKey = this.#writeKey;
    const n = chunkCount(data.length);
    const out = new Uint8Array(sealedSize(data.length));
    const dv = new DataView(out.buffer);
    out.set(MAGIC, 0);
    dv.setUint32(4, FORMAT_VERSION, true);
    dv.setUint32(8, CHUNK_BYTES, true);
    dv.setUint32(16, data.length >>> 0, true);
    dv.setUint32(20, Math.floor(data.length / 2 ** 32), true);
    out.set(fromHex(writeKey.id), 24);
    crypto.getRandomValues(out.subarray(32, 48));
    const header = out.slice(0, HEADER_BYTES);
    await Promise.all(Array.from({ length: n }, async (_, i) => {
      const at = HEADER_BYTES + i * SEALED_CHUNK;
      const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
      const plain = data.subarray(i * CHUNK_BYTES, Math.min(data.length, (i + 1) * CHUNK_BYTES));
      const sealed = await crypto.subtle.encrypt(
        { name: "AES-GCM", iv: nonce, additionalData: this.#aad(key, header, i, i === n - 1) },
        writeKey.key, plain.slice(),
      );
      out.set(nonce, at);
      out.set(new Uint8Array(sealed), at + NONCE_BYTES);
    }));
    return out;
  }
}

/**
 * A least-recently-used map bounded by a total size. Written here rather than taken from lru-cache:
 * this module loads on demand, and sharing lru-cache with the core bundle would split it into a
 * chunk of its own there (see scripts/size.mjs); a Map kept in use order is all this needs.
 */
class BoundedCache<V> {
  readonly #map = new Map<string, V>();
  #size = 0;

  constructor(readonly maxSize: number, readonly sizeOf: (value: V) => number) {}

  get(key: string): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.delete(key);
    this.#map.set(key, value);
    this.#size += this.sizeOf(value);
    for (const [oldest, v] of this.#map) {
      if (this.#size <= this.maxSize) break;
      this.#map.delete(oldest);
      this.#size -= this.sizeOf(v);
    }
  }

  delete(key: string): void {
    const value = this.#map.get(key);
    if (value === undefined) return;
    this.#map.delete(key);
    this.#size -= this.sizeOf(value);
  }

  clear(): void {
    this.#map.clear();
    this.#size = 0;
  }
}

function chunkCount(length: number): number {
  return Math.max(1, Math.ceil(length / CHUNK_BYTES));
}
