/**
 * A session owns what queries keep between calls, and everything WebAssembly memory holds for
 * them: its own kernels instance (so its WASM memory goes when the session is closed) and one
 * byte-budgeted LRU cache of opened vector indexes, full-text indexes and data-file readers, as
 * LanceDB's `Session` owns its caches. One per connection by default; pass one `Session` to several
 * connections to share a budget.
 *
 * Lifetimes. A query takes a *lease* on each entry it uses and returns it when it finishes; the
 * LRU may evict an entry at any time, but an entry's memory (`free`) is released only when it is
 * both out of the cache and no longer leased. So an index replaced or evicted while a query of an
 * older version is still searching it stays valid until that query ends.
 */
import { LRUCache } from "lru-cache";
import { createError } from "./errors.js";
import type { Kernels, KernelFlavor } from "./kernels/index.js";
import { newKernels } from "./kernels/index.js";
import { BufferPool } from "./util/buffer-pool.js";

/**
 * What the cache holds: opened vector, full-text and scalar indexes, data-file readers (parsed
 * footers), vector blocks (a fragment's vector column in WebAssembly memory, where exact search
 * scans it), decoded columns (scalar and text columns of a data file, as filters and results read them)
 * and byte ranges of remote files (rows read by re-ranking and results, kept by (file, range)).
 */
export type CacheKind = "vectorIndex" | "ftsIndex" | "scalarIndex" | "reader" | "vectorBlock" | "column" | "range";
const KINDS: readonly CacheKind[] = ["vectorIndex", "ftsIndex", "scalarIndex", "reader", "vectorBlock", "column", "range"];

export interface SessionOptions {
  /**
   * Bytes the cache may hold (JS and WebAssembly together). Default 256 MiB. More keeps more
   * indexes and file footers warm across queries; less re-reads them from storage more often. An
   * entry larger than the whole budget is used by the query that opened it and then freed.
   */
  cacheBytes?: number;
  /** Which kernel build the session instantiates. Default "auto" (SIMD where the engine has it). */
  kernels?: "auto" | KernelFlavor;
  /**
   * Most bytes of WebAssembly memory the session's kernels may allocate (vector blocks, opened
   * indexes, scratch); past it an allocation fails with OUT_OF_MEMORY naming the limit. Default:
   * no limit below what wasm32 memory can grow to (4 GiB).
   */
  wasmMemoryLimit?: number;
}

/** What a loader hands the cache: the value, what it costs, and how to free what the GC cannot see. */
export interface Loaded<T> {
  readonly value: T;
  readonly bytes: number;
  readonly free?: () => void;
}

/** A value in use; `release()` once done with it (idempotent). */
export interface Lease<T> {
  readonly value: T;
  release(): void;
}

export interface MemoryStats {
  /** WebAssembly memory of the session's kernels: reserved by the engine, and allocated by Quiver. */
  readonly wasm: { readonly reservedBytes: number; readonly allocatedBytes: number };
  readonly cache: {
    readonly limitBytes: number;
    readonly bytes: number;
    readonly entries: number;
    /** Entries evicted or invalidated but still leased by a query in flight. */
    readonly leasedOutside: number;
    readonly byKind: Readonly<Record<CacheKind, { readonly entries: number; readonly bytes: number }>>;
    readonly hits: number;
    readonly misses: number;
    readonly evictions: number;
  };
  /** Read buffers held for reuse (BufferPool): at most a 32nd of the cache's budget. */
  readonly buffers: { readonly limitBytes: number; readonly bytes: number };
}

interface Entry {
  readonly kind: CacheKind;
  readonly value: unknown;
  readonly bytes: number;
  readonly free?: () => void;
  leases: number;
  /** Out of the cache (evicted, invalidated, too big, or the session closed). */
  outside: boolean;
  freed: boolean;
}

const DEFAULT_CACHE_BYTES = 256 * 2 ** 20;

function freeEntry(entry: Entry): void {
  if (entry.freed || entry.leases > 0 || !entry.outside) return;
  entry.freed = true;
  entry.free?.();
}

export class Session {
  readonly limitBytes: number;
  /** Host buffers that storage reads reuse across queries (see BufferPool). */
  readonly buffers: BufferPool;
  readonly #flavor: "auto" | KernelFlavor;
  readonly #wasmLimit: number | undefined;
  readonly #lru: LRUCache<string, Entry>;
  readonly #loading = new Map<string, Promise<Entry>>();
  /** Entries out of the cache that queries still lease, until their last release. */
  readonly #outside = new Set<Entry>();
  #kernels: Promise<Kernels> | undefined;
  #loaded: Kernels | undefined;
  #hits = 0;
  #misses = 0;
  #evictions = 0;
  #closed = false;

  /** `kernelsSource` (internal): where the kernels come from instead of a new instance (a scan pool's). */
  constructor(options: SessionOptions = {}, private readonly kernelsSource?: () => Promise<Kernels>) {
    const bytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
    if (!Number.isSafeInteger(bytes) || bytes < 2 ** 20) {
      throw createError("INVALID_ARGUMENT", `cacheBytes must be an integer of at least 1 MiB (1048576), got ${String(options.cacheBytes)}.`);
    }
    const flavor = options.kernels ?? "auto";
    if (!["auto", "simd", "scalar"].includes(flavor)) {
      throw createError("INVALID_ARGUMENT", `kernels must be "auto", "simd" or "scalar", got ${JSON.stringify(flavor)}.`);
    }
    const wasmLimit = options.wasmMemoryLimit;
    if (wasmLimit !== undefined && (!Number.isSafeInteger(wasmLimit) || wasmLimit < 2 ** 20)) {
      throw createError("INVALID_ARGUMENT", `wasmMemoryLimit must be an integer of at least 1 MiB, got ${String(wasmLimit)}.`);
    }
    this.#wasmLimit = wasmLimit;
    this.limitBytes = bytes;
    this.buffers = new BufferPool(Math.floor(bytes / 32));
    this.#flavor = flavor;
    this.#lru = new LRUCache<string, Entry>({
      maxSize: bytes,
      sizeCalculation: (entry) => entry.bytes,
      dispose: (entry, _key, reason) => {
        if (reason === "evict") this.#evictions++;
        this.#leave(entry);
      },
    });
  }

  /** The session's kernels, instantiated on first use (a WebAssembly instance of its own). */
  kernels(): Promise<Kernels> {
    this.#checkOpen();
    this.#kernels ??= (this.kernelsSource?.() ?? newKernels({ flavor: this.#flavor })).then((k) => {
      if (this.#wasmLimit !== undefined) k.heap.limitBytes = this.#wasmLimit;
      return (this.#loaded = k);
    });
    const pending = this.#kernels;
    pending.catch(() => { if (this.#kernels === pending) this.#kernels = undefined; });
    return pending;
  }

  /** The kernels if they are loaded already. */
  loadedKernels(): Kernels | undefined {
    return this.#loaded;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * A lease on the cached value under `key`, loading it with `load` when absent (concurrent
   * acquirers of one key share one load). The caller must `release()` the lease.
   */
  async acquire<T>(kind: CacheKind, key: string, load: () => Promise<Loaded<T>>): Promise<Lease<T>> {
    this.#checkOpen();
    let entry = this.#lru.get(key);
    if (entry !== undefined) this.#hits++;
    else {
      this.#misses++;
      let pending = this.#loading.get(key);
      if (pending === undefined) {
        pending = load().then((l): Entry => ({ kind, value: l.value, bytes: Math.max(1, Math.ceil(l.bytes)), free: l.free, leases: 0, outside: false, freed: false }));
        this.#loading.set(key, pending);
        const settled = pending;
        void settled.finally(() => { if (this.#loading.get(key) === settled) this.#loading.delete(key); }).catch(() => {});
      }
      entry = await pending;
      entry.leases++;
      if (this.#closed || entry.bytes > this.limitBytes) {
        entry.outside = true;
        this.#outside.add(entry);
      } else if (this.#lru.peek(key) !== entry && !entry.outside) {
        this.#lru.set(key, entry);
      }
      return this.#lease(entry);
    }
    entry.leases++;
    return this.#lease(entry);
  }

  /**
   * The value cached under `key`, counting a hit or a miss, without a lease: for values the GC
   * owns alone (bytes, parsed objects), which stay valid after the cache lets go of them.
   */
  get<T>(key: string): T | undefined {
    if (this.#closed) return undefined;
    const entry = this.#lru.get(key);
    if (entry === undefined) this.#misses++;
    else this.#hits++;
    return entry?.value as T | undefined;
  }

  /** Whether `key` is cached (without counting a hit or refreshing its place in the LRU order). */
  has(key: string): boolean {
    return !this.#closed && this.#lru.has(key);
  }

  /** Puts a value the caller just built (e.g. a new index) in the cache, unleased. */
  put(kind: CacheKind, key: string, loaded: Loaded<unknown>): void {
    this.#checkOpen();
    const entry: Entry = { kind, value: loaded.value, bytes: Math.max(1, Math.ceil(loaded.bytes)), free: loaded.free, leases: 0, outside: false, freed: false };
    if (entry.bytes > this.limitBytes) { entry.outside = true; freeEntry(entry); return; }
    this.#lru.set(key, entry);
  }

  /**
   * Drops entries whose key starts with `prefix` (a replaced index, a dropped table's files), of
   * one kind only when `kind` is given. Leased entries are freed when their last query ends.
   */
  invalidate(prefix: string, kind?: CacheKind): void {
    for (const [key, entry] of [...this.#lru.entries()]) if (key.startsWith(prefix) && (kind === undefined || entry.kind === kind)) this.#lru.delete(key);
  }

  memoryStats(): MemoryStats {
    const byKind = Object.fromEntries(KINDS.map((k) => [k, { entries: 0, bytes: 0 }])) as Record<CacheKind, { entries: number; bytes: number }>;
    for (const entry of this.#lru.values()) {
      byKind[entry.kind].entries++;
      byKind[entry.kind].bytes += entry.bytes;
    }
    return {
      wasm: { reservedBytes: this.#loaded?.memoryBytes ?? 0, allocatedBytes: this.#loaded?.heap.allocatedBytes ?? 0 },
      cache: {
        limitBytes: this.limitBytes, bytes: this.#lru.calculatedSize, entries: this.#lru.size, leasedOutside: this.#outside.size,
        byKind, hits: this.#hits, misses: this.#misses, evictions: this.#evictions,
      },
      buffers: { limitBytes: this.buffers.limitBytes, bytes: this.buffers.bytes },
    };
  }

  /**
   * Frees every cached entry (leased ones when their query ends) and lets go of the kernels
   * instance, so its WebAssembly memory can be collected. The session cannot be used afterwards.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#lru.clear();
    this.buffers.clear();
    this.#kernels = undefined;
    this.#loaded = undefined;
  }

  #leave(entry: Entry): void {
    entry.outside = true;
    if (entry.leases > 0) this.#outside.add(entry);
    freeEntry(entry);
  }

  #lease<T>(entry: Entry): Lease<T> {
    let released = false;
    return {
      value: entry.value as T,
      release: () => {
        if (released) return;
        released = true;
        entry.leases--;
        if (entry.leases === 0 && entry.outside) {
          this.#outside.delete(entry);
          freeEntry(entry);
        }
      },
    };
  }

  #checkOpen(): void {
    if (this.#closed) throw createError("CLOSED", "This session is closed.");
  }
}

/**
 * The leases one operation (a query, a build) takes, released together when it ends, so a path
 * cannot forget one.
 */
export class LeaseScope {
  readonly #leases: Lease<unknown>[] = [];

  constructor(readonly session: Session) {}

  async acquire<T>(kind: CacheKind, key: string, load: () => Promise<Loaded<T>>): Promise<T> {
    const lease = await this.session.acquire(kind, key, load);
    this.#leases.push(lease);
    return lease.value;
  }

  release(): void {
    for (const lease of this.#leases.splice(0)) lease.release();
  }
}
