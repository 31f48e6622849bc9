/**
 * Deno KV as a BlobStore (`Deno.openKv()`: a local SQLite file, or Deno Deploy's database), so a
 * Deno function can create, append to, index and search tables that persist.
 *
 *   const kv = await Deno.openKv("./data.kv");          // run with --unstable-kv (Deno 2)
 *   const db = await connect(new DenoKvStore(kv, "notes"));
 *
 * Objects are chunked (values are at most 64 KiB, see chunked-kv-store.ts) under the key prefix
 * `["quiverdb", name]`, so several databases can share one KV. `putIfAbsent` is an atomic check
 * (`versionstamp: null`) and set, which makes commits safe across isolates and processes.
 * The KV object is typed structurally: the library does not depend on Deno's types.
 */
import { createError } from "../errors.js";
import { ChunkedKvStore, type KvBackend } from "./chunked-kv-store.js";

type DenoKvKey = readonly (string | number | bigint | boolean | Uint8Array)[];

/** The part of `Deno.Kv` the store uses. */
export interface DenoKvLike {
  get(key: DenoKvKey): Promise<{ value: unknown; versionstamp: string | null }>;
  getMany(keys: readonly DenoKvKey[]): Promise<{ value: unknown; versionstamp: string | null }[]>;
  list(selector: { start: DenoKvKey; end: DenoKvKey }): AsyncIterable<{ key: DenoKvKey; value: unknown }>;
  atomic(): DenoKvAtomicLike;
  close(): void;
}

export interface DenoKvAtomicLike {
  check(...checks: { key: DenoKvKey; versionstamp: string | null }[]): DenoKvAtomicLike;
  set(key: DenoKvKey, value: unknown): DenoKvAtomicLike;
  delete(key: DenoKvKey): DenoKvAtomicLike;
  commit(): Promise<{ ok: boolean }>;
}

/** Deno KV's limits: values up to 64 KiB; getMany up to 10 keys; an atomic operation up to 1,000 mutations and 800 KiB. */
const MAX_VALUE = 65_536;
const GET_MANY = 10;
const BATCH_BYTES = 600 * 1024;
const BATCH_MUTATIONS = 500;

/**
 * A local Deno KV (SQLite) shared by several processes answers "database is locked" while another
 * process writes: transient, so such calls are retried with a jittered backoff.
 */
async function retryLocked<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (e) {
      if (attempt >= 100 || !/database is locked|SQLITE_BUSY/i.test(String((e as Error)?.message ?? e))) throw e;
      await new Promise((resolve) => setTimeout(resolve, Math.min(100, 2 + attempt * 5) * (0.5 + Math.random())));
    }
  }
}

class DenoKvBackend implements KvBackend {
  readonly maxValueBytes = MAX_VALUE;

  constructor(private readonly kv: DenoKvLike, private readonly ns: readonly string[], private readonly closeKv: boolean) {}

  private key(k: string): DenoKvKey {
    return [...this.ns, k];
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return bytesOf((await retryLocked(() => this.kv.get(this.key(key)))).value);
  }

  async getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    const out: (Uint8Array | undefined)[] = [];
    for (let at = 0; at < keys.length; at += GET_MANY) {
      const got = await retryLocked(() => this.kv.getMany(keys.slice(at, at + GET_MANY).map((k) => this.key(k))));
      out.push(...got.map((e) => bytesOf(e.value)));
    }
    return out;
  }

  async setMany(entries: readonly (readonly [string, Uint8Array])[]): Promise<void> {
    await this.batches(entries.length, (i) => entries[i]![1].length, (op, i) => op.set(this.key(entries[i]![0]), entries[i]![1]));
  }

  async setIfAbsent(key: string, value: Uint8Array): Promise<boolean> {
    const k = this.key(key);
    return (await retryLocked(() => this.kv.atomic().check({ key: k, versionstamp: null }).set(k, value).commit())).ok;
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    await this.batches(keys.length, () => 64, (op, i) => op.delete(this.key(keys[i]!)));
  }

  async *list(prefix: string): AsyncIterable<readonly [string, Uint8Array]> {
    // String parts sort by their UTF-8 bytes: [prefix, prefix + U+10FFFF) holds every key starting with prefix.
    const entries = await retryLocked(async () => {
      const out: [string, Uint8Array][] = [];
      for await (const entry of this.kv.list({ start: this.key(prefix), end: this.key(`${prefix}\u{10FFFF}`) })) {
        const k = entry.key[this.ns.length];
        const v = bytesOf(entry.value);
        if (typeof k === "string" && v !== undefined && k.startsWith(prefix)) out.push([k, v]);
      }
      return out;
    });
    yield* entries;
  }

  close(): void {
    if (this.closeKv) this.kv.close();
  }

  /** Runs mutations in atomic operations within Deno KV's size and count limits. */
  private async batches(n: number, size: (i: number) => number, add: (op: DenoKvAtomicLike, i: number) => DenoKvAtomicLike): Promise<void> {
    for (let at = 0; at < n;) {
      const start = at;
      let bytes = 0;
      while (at < n && at - start < BATCH_MUTATIONS && (at === start || bytes + size(at) <= BATCH_BYTES)) bytes += size(at++);
      const end = at;
      const commit = (): Promise<{ ok: boolean }> => {
        let op = this.kv.atomic();
        for (let i = start; i < end; i++) op = add(op, i);
        return op.commit();
      };
      // Without checks a commit only fails by throwing; `ok: false` would mean another writer won a check.
      if (!(await retryLocked(commit)).ok) throw createError("COMMIT_CONFLICT", "Deno KV refused a write: another writer changed the keys first.");
    }
  }
}

function bytesOf(value: unknown): Uint8Array | undefined {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Uint8Array) return value;
  throw createError("CORRUPT_FILE", "Deno KV holds a value that is not bytes under Quiver's prefix.");
}

export interface DenoKvStoreOptions {
  /** Bytes per chunk (1 KiB … 64 KiB). Default 63 KiB. */
  chunkBytes?: number;
  /** Close the KV with the store. Default false: the caller opened it and owns it. */
  closeKv?: boolean;
}

export class DenoKvStore extends ChunkedKvStore {
  constructor(kv: DenoKvLike, name: string, options: DenoKvStoreOptions = {}) {
    if (typeof name !== "string" || name.length === 0) throw createError("INVALID_ARGUMENT", "DenoKvStore needs a database name.");
    super(`denokv://${name}`, new DenoKvBackend(kv, ["quiverdb", name], options.closeKv ?? false), options.chunkBytes);
  }
}
