/**
 * Counts what is read through a store (bytes and requests of `get` / `getRange`), for analyzePlan().
 * The wrapper forwards everything else to the store itself, so the store's own flags and methods
 * (`remote`, `inMemory`, `list`, …) behave as before.
 */
import type { BlobStore } from "./blob-store.js";

export interface ReadCounts {
  bytes: number;
  requests: number;
}

export function countReads(store: BlobStore): { store: BlobStore; reads: ReadCounts } {
  const reads: ReadCounts = { bytes: 0, requests: 0 };
  const get = async (key: string): Promise<Uint8Array> => {
    const b = await store.get(key);
    reads.bytes += b.byteLength;
    reads.requests++;
    return b;
  };
  const getRange = async (key: string, offset: number, length: number): Promise<Uint8Array> => {
    const b = await store.getRange(key, offset, length);
    reads.bytes += b.byteLength;
    reads.requests++;
    return b;
  };
  const counted = new Proxy(store, {
    get(target, prop) {
      if (prop === "get") return get;
      if (prop === "getRange") return getRange;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { store: counted, reads };
}
