/**
 * A store that counts the bytes read through it (get / getRange / getRanges), and tells `onRead`
 * of each read (each range of a getRanges); every other call goes to `inner` as is.
 */
import type { BlobStore, ByteRange } from "../../src/storage/blob-store.js";

export function counting(inner: BlobStore, onRead?: (key: string, bytes: number) => void): BlobStore & { bytesRead: number } {
  const counter = { bytesRead: 0 };
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === "bytesRead") return counter.bytesRead;
      const seen = (key: string, b: Uint8Array): Uint8Array => {
        counter.bytesRead += b.length;
        onRead?.(key, b.length);
        return b;
      };
      if (prop === "get") return async (key: string) => seen(key, await target.get(key));
      if (prop === "getRange") return async (key: string, o: number, n: number) => seen(key, await target.getRange(key, o, n));
      if (prop === "getRanges" && target.getRanges) return async (key: string, ranges: readonly ByteRange[]) => (await target.getRanges!(key, ranges)).map((b) => seen(key, b));
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
    set(target, prop, value) {
      if (prop === "bytesRead") { counter.bytesRead = value as number; return true; }
      return Reflect.set(target, prop, value, target);
    },
  }) as BlobStore & { bytesRead: number };
}
