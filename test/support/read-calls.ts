/**
 * A store that counts read calls — `get`, `getRange` and `getRanges` one each, however many ranges
 * a `getRanges` carries — and the bytes they return, by kind of object: index files
 * (`/_indices/`), data files (`/data/`) and the rest. With `getRanges: false` the store hides its
 * multi-range read, so readers fall back to one `getRange` per span (the uncoalesced path).
 */
import type { BlobStore, ByteRange } from "../../src/storage/blob-store.js";

export type ObjectKind = "index" | "data" | "other";

export interface ReadCalls {
  readonly store: BlobStore;
  readonly calls: Record<ObjectKind, number>;
  readonly bytes: Record<ObjectKind, number>;
  reset(): void;
}

export function kindOf(key: string): ObjectKind {
  return key.includes("/_indices/") ? "index" : key.includes("/data/") ? "data" : "other";
}

export function readCalls(inner: BlobStore, options: { getRanges?: boolean } = {}): ReadCalls {
  const calls: Record<ObjectKind, number> = { index: 0, data: 0, other: 0 };
  const bytes: Record<ObjectKind, number> = { index: 0, data: 0, other: 0 };
  const seen = <T extends Uint8Array | Uint8Array[]>(key: string, read: T): T => {
    calls[kindOf(key)]++;
    bytes[kindOf(key)] += Array.isArray(read) ? read.reduce((s, b) => s + b.byteLength, 0) : read.byteLength;
    return read;
  };
  const multi = options.getRanges !== false && inner.getRanges !== undefined;
  const store = new Proxy(inner, {
    get(target, prop) {
      if (prop === "get") return async (key: string) => seen(key, await target.get(key));
      if (prop === "getRange") return async (key: string, o: number, n: number) => seen(key, await target.getRange(key, o, n));
      if (prop === "getRanges") return multi ? async (key: string, ranges: readonly ByteRange[]) => seen(key, await target.getRanges!(key, ranges)) : undefined;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return {
    store, calls, bytes,
    reset(): void {
      for (const k of Object.keys(calls) as ObjectKind[]) calls[k] = bytes[k] = 0;
    },
  };
}
