/**
 * The one interface every storage backend implements. A table is a set of immutable objects in a
 * BlobStore (fragments, deletion files, index files) plus one manifest per version; writing the
 * manifest with `putIfAbsent` is the commit point (see docs/FORMAT.md).
 *
 * Keys are relative, "/"-separated paths such as `docs.quiver/_versions/3.manifest`: no leading
 * "/", no "." or ".." segments, no empty segments. Backends map them onto their own namespace.
 */
import { createError } from "../errors.js";
import { checkData } from "./keys.js";

export interface BlobInfo {
  readonly key: string;
  /** Bytes. */
  readonly size: number;
  /** Last modification, ms since the epoch, where the backend knows it. */
  readonly modified?: number;
}

/** Bytes [offset, offset + length) of an object. */
export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

/** How a read may be scheduled; stores without a connection budget ignore it. */
export interface RangeReadHint {
  /**
   * Read ahead of need (a data file's footer opened in the background while a query reads its
   * index): a store with few connections (HttpStore `maxConnections`) sends it after the reads a
   * query is waiting on.
   */
  readonly ahead?: boolean;
}

export interface BlobStore {
  /** Where this store lives, e.g. `memory://x`, `idb://notes`, `opfs://notes`, `/data/db`, `https://cdn/x`. */
  readonly uri: string;
  /** True for stores that cannot be written (HTTP). Writes on them throw UNSUPPORTED. */
  readonly readOnly: boolean;
  /**
   * True when objects live in this JavaScript realm's memory (memory://): reading one back only
   * copies bytes, so tables keep the columns they wrote instead of dropping and re-reading them.
   */
  readonly inMemory?: boolean;
  /**
   * True when objects are behind a network (HTTP): every byte travels, so readers prefer fetching
   * just the rows a result needs over loading (and caching) whole columns.
   */
  readonly remote?: boolean;

  /** The whole object. Throws NOT_FOUND when absent. */
  get(key: string): Promise<Uint8Array>;
  /**
   * `length` bytes from `offset`. Throws NOT_FOUND when the object is absent and CORRUPT_FILE when
   * the range runs past its end (a truncated file), so callers never see short reads.
   */
  getRange(key: string, offset: number, length: number, options?: RangeReadHint): Promise<Uint8Array>;
  /**
   * Several ranges of one object, in as few requests as the backend can (HTTP: multi-range
   * requests), answers in the order asked; same errors as `getRange`. Optional: readers fall back
   * to parallel `getRange`s (see range-reads.ts). With `into` (at least the ranges' total length, a
   * buffer the caller reuses), a store that reads in place may return the answers as consecutive
   * views of it, in the order asked; others leave it unused.
   */
  getRanges?(key: string, ranges: readonly ByteRange[], into?: Uint8Array): Promise<Uint8Array[]>;
  /**
   * Reads `into.length` bytes of `key` from `offset` into `into` and returns it: `getRange` into a
   * buffer the caller reuses, for a reader that goes through a file slice after slice (an index
   * build reading a vector column) and would otherwise leave a fresh buffer per slice for the GC.
   * NOT_FOUND / short reads as `getRange`. Optional: such readers use `getRange` without it.
   */
  readInto?(key: string, offset: number, into: Uint8Array): Promise<Uint8Array>;
  /** A read of `key` asked for `ahead` (RangeReadHint) is now waited on. Optional: stores without a budget ignore hints. */
  needed?(key: string): void;
  /** Size and modification time, or `undefined` when absent. */
  head(key: string): Promise<BlobInfo | undefined>;

  /** Writes (or replaces) an object. Durable when the promise resolves. QUOTA_EXCEEDED when full. */
  put(key: string, data: Uint8Array): Promise<void>;
  /**
   * Writes an object only if no object has that key, atomically with respect to every other writer
   * of the same store (other tabs, workers, processes). Resolves `false` — writing nothing — when
   * the key exists. Readers never observe a partially written object.
   */
  putIfAbsent(key: string, data: Uint8Array): Promise<boolean>;
  /**
   * Writes (or replaces) an object made of `parts` back to back, as `put` of them joined would,
   * without joining them first (a fragment file is its columns' bytes plus small headers). The
   * parts must not change until the promise resolves. Optional: `writeParts` joins them and calls
   * `put` for stores without it.
   */
  putParts?(key: string, parts: readonly Uint8Array[]): Promise<void>;
  /**
   * Writes (or replaces) an object of `size` bytes whose bytes `parts` yields in order. Each part
   * is written before the next is asked for, so the producer may hand out one reused buffer
   * (an index file leaves WebAssembly memory a few MiB at a time instead of as a file-sized copy).
   * Writing a different number of bytes than `size` is INVALID_ARGUMENT and writes nothing.
   * `size` undefined: the object is whatever the parts add up to (a fragment written as a stream's
   * batches arrive). Atomic either way: when `parts` throws, nothing is written.
   * Optional: `writeStream` gathers the parts into one buffer and calls `put` for stores without it.
   */
  putStream?(key: string, size: number | undefined, parts: AsyncIterable<Uint8Array>): Promise<void>;
  /** Objects whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<BlobInfo[]>;
  /**
   * Names of the folders directly under `prefix` ("" or a key prefix ending in "/") that hold at
   * least one object below them — what `list` would show as the next path segment, without reading
   * every object. Optional: callers fall back to `list(prefix)`.
   */
  listFolders?(prefix: string): Promise<string[]>;
  /** Removes an object; no error when it is already absent. */
  delete(key: string): Promise<void>;
  /**
   * Deletes temporary files under `prefix` (a folder key ending in "/", or "" for everything) that
   * are older than `olderThanMs`: what writers that crashed mid-write left behind. Returns how many.
   * Only stores that write through temporary files (file system, OPFS) have it.
   */
  removeTemporaryFiles?(prefix: string, olderThanMs: number): Promise<number>;
  /**
   * Moves every object under folder `from` to folder `to` (both key prefixes ending in "/") in one
   * atomic step, as seen by every reader and writer of the store. Resolves false, moving nothing,
   * when `to` already holds objects. Optional: only stores that can rename a folder atomically
   * (memory, file system) have it; `renameTable` copies where it is absent.
   */
  renameFolder?(from: string, to: string): Promise<boolean>;
  /** Releases handles (database connections, file handles). The store is unusable afterwards. */
  close(): Promise<void>;
}

/** `parts` joined into one buffer (one part is returned as it is). */
export function joinParts(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Writes an object made of `parts`: through `putParts` where the store has it, else `put` of them joined. */
export function writeParts(store: BlobStore, key: string, parts: readonly Uint8Array[]): Promise<void> {
  return store.putParts !== undefined ? store.putParts(key, parts) : store.put(key, joinParts(parts));
}

/**
 * Writes an object of `size` bytes yielded by `parts` (see `putStream`): through `putStream` where
 * the store has it, else gathered into one buffer (each part copied as it comes, so the producer may
 * reuse its buffer) and `put`.
 */
export async function writeStream(store: BlobStore, key: string, size: number | undefined, parts: AsyncIterable<Uint8Array>): Promise<void> {
  if (store.putStream !== undefined) return store.putStream(key, size, parts);
  checkStreamSize(key, size);
  if (size === undefined) {
    const copies: Uint8Array[] = [];
    for await (const part of sizedParts(key, size, parts)) copies.push(part.slice());
    return store.put(key, joinParts(copies));
  }
  const out = new Uint8Array(size);
  let at = 0;
  for await (const part of sizedParts(key, size, parts)) {
    out.set(part, at);
    at += part.length;
  }
  return store.put(key, out);
}

/** `putStream`'s size: a byte count, or undefined (whatever the parts add up to). */
export function checkStreamSize(key: string, size: number | undefined): void {
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) throw createError("INVALID_ARGUMENT", `putStream("${key}"): size must be a byte count, got ${String(size)}.`, { key, size });
}

/** A stream that yielded more or fewer bytes than it said it would (`putStream`). */
export function streamSizeError(key: string, size: number, written: number): Error {
  return createError("INVALID_ARGUMENT", `putStream("${key}"): the parts hold ${written === size ? "" : written > size ? "more than " : ""}${written} bytes, not the ${size} announced; nothing was written.`, { key, size, written });
}

/** `parts` as they pass, each checked to be bytes, ending in INVALID_ARGUMENT when they do not add up to `size` where one is given (stores' `putStream`). */
export async function* sizedParts(key: string, size: number | undefined, parts: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  checkStreamSize(key, size);
  const most = size ?? Infinity;
  let at = 0;
  for await (const part of parts) {
    checkData(key, part);
    at += part.length;
    if (at > most) throw streamSizeError(key, most, at);
    yield part;
  }
  if (size !== undefined && at !== size) throw streamSizeError(key, size, at);
}

/** `ranges` with consecutive views of `into` to read them into, where it holds them all. */
export function placeInto(ranges: readonly ByteRange[], into: Uint8Array | undefined): readonly (ByteRange & { into?: Uint8Array })[] {
  if (into === undefined || ranges.reduce((n, r) => n + r.length, 0) > into.length) return ranges;
  let at = 0;
  return ranges.map((r) => ({ ...r, into: into.subarray(at, (at += r.length)) }));
}
