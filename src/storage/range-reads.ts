/**
 * Many byte ranges of one object read in few requests and one round trip. The planner sorts the
 * ranges and merges neighbours whose gap is at most `gapBytes` into one span, so the bytes read
 * past what was asked are bounded by the gaps it bridges (at most `gapBytes` per merge). The spans
 * go out together: through the store's `getRanges` where it has one (HTTP: multi-range requests,
 * many spans per request), else as parallel `getRange`s, at most `concurrency` at a time. Answers
 * are sliced back into the ranges asked for, in their order.
 *
 *   asked     [a)   [b)        [c)                             [d)
 *   spans     [a──────b)       [c)                             [d)      gap a→b ≤ gapBytes: one span
 *
 * With a cache, ranges it holds are not read; ranges read are checked by `verify` (a checksum)
 * before the cache keeps them, so a corrupt answer is never served twice.
 */
import type { BlobStore, ByteRange } from "./blob-store.js";

/** Cached answers by (object key, range), e.g. the session's cache of kind "range". */
export interface RangeCache {
  get(key: string, range: ByteRange): Uint8Array | undefined;
  set(key: string, range: ByteRange, bytes: Uint8Array): void;
}

export interface RangeReadOptions {
  /**
   * Neighbouring ranges at most this many bytes apart are read as one span. Default 64 KiB. More
   * means fewer spans and more bytes read that nobody asked for; 0 merges only touching ranges.
   */
  gapBytes?: number;
  /** Spans in flight at once when the store reads one range per request. Default 16. */
  concurrency?: number;
  cache?: RangeCache;
  /** Checks the ranges read (not those from the cache); throws to reject them. */
  verify?: (read: readonly number[], bytes: readonly Uint8Array[]) => void | Promise<void>;
  /**
   * A buffer the caller reuses, of at least the spans' `bytes` (e.g. BufferPool.take): asked for
   * where a store reads in place (local, with getRanges), which then answers into it, and the
   * ranges returned are views of it. Not with a cache, which keeps what it is given.
   */
  into?: (bytes: number) => Uint8Array;
}

/** One request's worth: bytes [offset, offset + length) covering the asked ranges `members`. */
export interface Span extends ByteRange {
  readonly members: number[];
}

export const DEFAULT_GAP_BYTES = 64 * 1024;
/** Cached pieces covering at least this share of the body they came in keep views of it (see readRanges). */
const SHARED_BODY_SHARE = 3 / 4;

/** The spans that read `ranges`: sorted by offset, neighbours at most `gapBytes` apart merged. */
export function planSpans(ranges: readonly ByteRange[], gapBytes: number = DEFAULT_GAP_BYTES): Span[] {
  const order = Array.from(ranges.keys()).sort((i, j) => ranges[i]!.offset - ranges[j]!.offset);
  const spans: { offset: number; length: number; members: number[] }[] = [];
  for (const i of order) {
    const { offset, length } = ranges[i]!;
    const last = spans.at(-1);
    if (last !== undefined && offset - (last.offset + last.length) <= gapBytes) {
      last.length = Math.max(last.length, offset + length - last.offset);
      last.members.push(i);
    } else {
      spans.push({ offset, length, members: [i] });
    }
  }
  return spans;
}

/** `ranges` of object `key`, in the order asked (see the file comment). */
export async function readRanges(store: BlobStore, key: string, ranges: readonly ByteRange[], options: RangeReadOptions = {}): Promise<Uint8Array[]> {
  const out = new Array<Uint8Array>(ranges.length);
  const missing: number[] = [];
  ranges.forEach((r, i) => {
    const hit = options.cache?.get(key, r);
    if (hit === undefined) missing.push(i);
    else out[i] = hit;
  });
  if (missing.length === 0) return out;
  const spans = planSpans(missing.map((i) => ranges[i]!), options.gapBytes);
  const inPlace = options.into !== undefined && options.cache === undefined && store.remote !== true;
  const bodies = store.getRanges
    ? await store.getRanges(key, spans, inPlace ? options.into!(spans.reduce((n, s) => n + s.length, 0)) : undefined)
    : await inParallel(spans, options.concurrency ?? 16, (s) => store.getRange(key, s.offset, s.length));
  spans.forEach((span, s) => {
    for (const m of span.members) {
      const i = missing[m]!;
      const r = ranges[i]!;
      out[i] = bodies[s]!.subarray(r.offset - span.offset, r.offset - span.offset + r.length);
    }
  });
  await options.verify?.(missing, missing.map((i) => out[i]!));
  if (options.cache) {
    // The cache is charged for the pieces' bytes, so a piece cut from a larger body is kept as a
    // copy, unless the pieces kept cover most of that body (a multi-range answer is little but
    // them): then the views keep it alive for about what they are charged, and copying them all
    // would cost as much time as reading them did.
    const kept = new Map<ArrayBufferLike, number>();
    for (const i of missing) kept.set(out[i]!.buffer, (kept.get(out[i]!.buffer) ?? 0) + out[i]!.byteLength);
    for (const i of missing) {
      const piece = out[i]!;
      const whole = kept.get(piece.buffer)! >= piece.buffer.byteLength * SHARED_BODY_SHARE;
      options.cache.set(key, ranges[i]!, whole ? piece : piece.slice());
    }
  }
  return out;
}

/** `task` over every item, at most `limit` running at once; results in item order. */
export async function inParallel<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
