/**
 * Counts what is read through a store (bytes, calls and round trips of `get` / `getRange` /
 * `getRanges` / `readInto`), for analyzePlan(). The wrapper forwards everything else to the store itself, so the
 * store's own flags and methods (`remote`, `inMemory`, `list`, …) behave as before.
 */
import type { BlobStore, ByteRange, RangeReadHint } from "./blob-store.js";

export interface ReadCounts {
  bytes: number;
  /** Calls to the store (a `getRanges` is one call, however many ranges it carries). */
  requests: number;
  /**
   * Round trips: the longest chain of reads each started after the one before it ended — what
   * latency multiplies. A read's depth is one more than the deepest read finished when it started,
   * so reads sent together count once and a read waiting on another counts again. An upper bound:
   * an unrelated read that happened to finish earlier also deepens the chain.
   */
  roundTrips: number;
}

/** `only`: count the reads of the keys it accepts (all by default). */
export function countReads(store: BlobStore, only?: (key: string) => boolean): { store: BlobStore; reads: ReadCounts } {
  const reads: ReadCounts = { bytes: 0, requests: 0, roundTrips: 0 };
  // Depth of the deepest read finished so far.
  let finished = 0;
  const counted = async <T extends Uint8Array | Uint8Array[]>(key: string, read: () => Promise<T>): Promise<T> => {
    if (only && !only(key)) return read();
    const depth = finished + 1;
    reads.requests++;
    reads.roundTrips = Math.max(reads.roundTrips, depth);
    try {
      const b = await read();
      reads.bytes += Array.isArray(b) ? b.reduce((s, x) => s + x.byteLength, 0) : b.byteLength;
      return b;
    } finally {
      finished = Math.max(finished, depth);
    }
  };
  const get = (key: string): Promise<Uint8Array> => counted(key, () => store.get(key));
  const getRange = (key: string, offset: number, length: number, hint?: RangeReadHint): Promise<Uint8Array> => counted(key, () => store.getRange(key, offset, length, hint));
  const getRanges = store.getRanges && ((key: string, ranges: readonly ByteRange[], into?: Uint8Array): Promise<Uint8Array[]> => counted(key, () => store.getRanges!(key, ranges, into)));
  const readInto = store.readInto && ((key: string, offset: number, into: Uint8Array): Promise<Uint8Array> => counted(key, () => store.readInto!(key, offset, into)));
  const proxy = new Proxy(store, {
    get(target, prop) {
      if (prop === "get") return get;
      if (prop === "getRange") return getRange;
      if (prop === "getRanges") return getRanges;
      if (prop === "readInto") return readInto;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { store: proxy, reads };
}
