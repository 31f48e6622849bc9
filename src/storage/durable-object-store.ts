/**
 * A Cloudflare Durable Object's storage as a BlobStore, so a Worker can create, append to, index
 * and search tables that persist. Inside the Durable Object class:
 *
 *   const db = await connect(new DurableObjectStore(this.ctx.storage, "notes"));
 *
 * Objects are chunked (values are at most 128 KiB, see chunked-kv-store.ts) under the key prefix
 * `quiverdb/<name>/`. A Durable Object runs one request's storage operations at a time and
 * `transaction()` makes `putIfAbsent`'s check and write one step, so concurrent requests to the
 * object never lose a commit. The storage object is typed structurally (no dependency on
 * @cloudflare/workers-types).
 */
import { createError } from "../errors.js";
import { ChunkedKvStore, type KvBackend } from "./chunked-kv-store.js";

/** The part of `DurableObjectStorage` (and of its transactions) the store uses. */
export interface DurableObjectStorageLike {
  get(key: string): Promise<unknown>;
  get(keys: string[]): Promise<Map<string, unknown>>;
  put(entries: Record<string, unknown>): Promise<void>;
  delete(keys: string[]): Promise<number>;
  list(options: { prefix: string; startAfter?: string; limit?: number }): Promise<Map<string, unknown>>;
  transaction<T>(run: (txn: DurableObjectStorageLike) => Promise<T>): Promise<T>;
}

/** Durable Object storage limits: values up to 128 KiB; get/put/delete up to 128 keys per call. */
const MAX_VALUE = 128 * 1024;
const PER_CALL = 128;
const LIST_PAGE = 1000;

class DurableObjectBackend implements KvBackend {
  readonly maxValueBytes = MAX_VALUE;

  constructor(private readonly storage: DurableObjectStorageLike, private readonly ns: string) {}

  async get(key: string): Promise<Uint8Array | undefined> {
    return bytesOf(await this.storage.get(this.ns + key));
  }

  async getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    const out: (Uint8Array | undefined)[] = [];
    for (let at = 0; at < keys.length; at += PER_CALL) {
      const part = keys.slice(at, at + PER_CALL).map((k) => this.ns + k);
      const got = await this.storage.get(part);
      out.push(...part.map((k) => bytesOf(got.get(k))));
    }
    return out;
  }

  async setMany(entries: readonly (readonly [string, Uint8Array])[]): Promise<void> {
    for (let at = 0; at < entries.length; at += PER_CALL) {
      await this.storage.put(Object.fromEntries(entries.slice(at, at + PER_CALL).map(([k, v]) => [this.ns + k, v])));
    }
  }

  setIfAbsent(key: string, value: Uint8Array): Promise<boolean> {
    const k = this.ns + key;
    return this.storage.transaction(async (txn) => {
      if ((await txn.get(k)) !== undefined) return false;
      await txn.put({ [k]: value });
      return true;
    });
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    for (let at = 0; at < keys.length; at += PER_CALL) await this.storage.delete(keys.slice(at, at + PER_CALL).map((k) => this.ns + k));
  }

  async *list(prefix: string): AsyncIterable<readonly [string, Uint8Array]> {
    let startAfter: string | undefined;
    for (;;) {
      const page = await this.storage.list({ prefix: this.ns + prefix, limit: LIST_PAGE, ...(startAfter === undefined ? {} : { startAfter }) });
      for (const [k, v] of page) {
        const value = bytesOf(v);
        if (value !== undefined) yield [k.slice(this.ns.length), value];
        startAfter = k;
      }
      if (page.size < LIST_PAGE) return;
    }
  }
}

function bytesOf(value: unknown): Uint8Array | undefined {
  if (value === undefined) return undefined;
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw createError("CORRUPT_FILE", "Durable Object storage holds a value that is not bytes under Quiver's prefix.");
}

export interface DurableObjectStoreOptions {
  /** Bytes per chunk (1 KiB … 128 KiB). Default 127 KiB. */
  chunkBytes?: number;
}

export class DurableObjectStore extends ChunkedKvStore {
  constructor(storage: DurableObjectStorageLike, name: string, options: DurableObjectStoreOptions = {}) {
    if (typeof name !== "string" || name.length === 0 || name.includes("/")) throw createError("INVALID_ARGUMENT", "DurableObjectStore needs a database name without \"/\".");
    super(`durable-object://${name}`, new DurableObjectBackend(storage, `quiverdb/${name}/`), options.chunkBytes);
  }
}
