/** A store that counts the bytes read through it (get / getRange); every other call goes to `inner` as is. */
import type { BlobStore } from "../../src/storage/blob-store.js";

export function counting(inner: BlobStore): BlobStore & { bytesRead: number } {
  const counter = { bytesRead: 0 };
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === "bytesRead") return counter.bytesRead;
      if (prop === "get") return async (key: string) => { const b = await target.get(key); counter.bytesRead += b.length; return b; };
      if (prop === "getRange") return async (key: string, o: number, n: number) => { const b = await target.getRange(key, o, n); counter.bytesRead += b.length; return b; };
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
    set(target, prop, value) {
      if (prop === "bytesRead") { counter.bytesRead = value as number; return true; }
      return Reflect.set(target, prop, value, target);
    },
  }) as BlobStore & { bytesRead: number };
}
