/**
 * HttpStore.getRanges: many ranges of one file in few requests. The ranges of one file asked for
 * in the same task (by several readers) are read together. Up to RANGES_PER_REQUEST ranges go
 * in one `Range: bytes=a-b,c-d,…` request, answered `206 multipart/byteranges` (byteranges.ts);
 * the requests go out in parallel. Servers vary: one may answer with the whole file (200), or with
 * the first range only, or merge neighbouring ranges into one part. Every range is taken from a
 * part that covers it; what no part covers is read with one range per request, and a server that
 * left some out is not asked for several ranges again (its ranges then merge with neighbours up to
 * SINGLE_RANGE_GAP_BYTES apart: fewer requests for a few bytes more). Loaded on demand: only
 * remote tables use it.
 *
 * With a connection budget (HttpStore `maxConnections`) every request holds a connection for a
 * round trip, so a file's ranges are packed into as few requests as servers take: up to
 * BUDGET_RANGES_PER_REQUEST each, and past that the closest ranges merge into one (reading the
 * bytes between them) while the bytes nobody asked for stay within the bytes asked.
 *
 *   asked     [a)  [b)            [c)                      [d)     3 ranges allowed per request:
 *   packed    [a────b)            [c)                      [d)     the smallest gap (a→b) is read
 */
import { createError } from "../errors.js";
import type { BlobStore, ByteRange } from "./blob-store.js";
import { parseByteranges, type BytePart } from "./byteranges.js";
import { shortReadError } from "./keys.js";

/**
 * Most ranges in one request: its Range header stays near 3 KB, under the header limits of
 * common servers (8 KB) and Apache's MaxRanges (200). A refined query asks two per candidate in a
 * data file (its row and, until the file's table is read, its chunk's checksum): 64 split the
 * candidates of a file of 30 or more into two requests.
 */
export const RANGES_PER_REQUEST = 128;
/** With a connection budget: below Apache's default MaxRanges (200), a Range header near 4 KB. */
export const BUDGET_RANGES_PER_REQUEST = 192;
const SINGLE_READS = 16;
/**
 * Against a server that answers one range per request, ranges at most this far apart are read as
 * one (readers ask for exact ranges, counting on multi-range requests to carry them).
 */
const SINGLE_RANGE_GAP_BYTES = 16 * 1024;

/** What HttpStore lends this module: its retried, deadline-bound reads. */
export interface RangeTransport {
  /** Cleared once the server shows it does not answer multi-range requests. */
  multiRange: boolean;
  /** The store's connection budget (0: none; see the file comment). */
  readonly maxConnections: number;
  store: BlobStore;
  /** With the store's retries unless `retries` says otherwise; the store's deadline and typed errors. */
  read<T>(key: string, range: string, consume: (response: Response) => Promise<T>, retries?: number): Promise<T>;
  body(response: Response, limit: number): Promise<Uint8Array>;
  /** The store's typed error for an unexpected status (the body cancelled). */
  statusError(response: Response, key: string): Error;
  url(key: string): string;
}

/** A 206 for other bytes than asked: retried like a network failure (by its name), never returned as data. */
class WrongRange extends Error {
  override name = "WrongRange";
}

/** One range's bytes from the answer to a single-range request: a 206 for exactly those bytes, or a 200 sliced. */
export async function rangeBody(http: RangeTransport, response: Response, key: string, offset: number, length: number): Promise<Uint8Array> {
  const uri = http.store.uri;
  if (response.status === 416) {
    await response.body?.cancel();
    const size = Number(/\/(\d+)$/.exec(response.headers.get("Content-Range") ?? "")?.[1] ?? Number.NaN);
    throw shortReadError(uri, key, offset, length, Number.isNaN(size) ? 0 : size);
  }
  if (response.status === 206) {
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get("Content-Range") ?? "");
    if (!range || Number(range[1]) !== offset) {
      await response.body?.cancel();
      // Never data: bytes from another offset would decode as something else.
      throw new WrongRange(`GET ${http.url(key)}: asked for bytes ${offset}-${offset + length - 1}, the server sent ${range?.[0] ?? "no Content-Range"}.`);
    }
    const bytes = await http.body(response, length);
    if (bytes.length < length) {
      const size = range && range[3] !== "*" ? Number(range[3]) : offset + bytes.length;
      throw shortReadError(uri, key, offset, length, size);
    }
    return bytes.length === length ? bytes : bytes.slice(0, length);
  }
  if (!response.ok) throw http.statusError(response, key);
  // 200: the server ignored the Range header and sends the whole file; stop once we have the range.
  const bytes = await http.body(response, offset + length);
  if (bytes.length < offset + length) throw shortReadError(uri, key, offset, length, bytes.length);
  return bytes.slice(offset, offset + length);
}

/** An object's size from the total of a one-byte range answer (for servers whose HEAD has no length). */
export async function sizeByProbe(http: RangeTransport, key: string): Promise<number> {
  const total = await http.read(key, "bytes=0-0", async (probe) => {
    const t = /\/(\d+)$/.exec(probe.headers.get("Content-Range") ?? "")?.[1];
    await probe.body?.cancel();
    return t;
  });
  if (total === undefined) throw createError("UNSUPPORTED", `HEAD ${http.url(key)}: the server reports no size for the object (no Content-Length, no Content-Range).`, { url: http.url(key) });
  return Number(total);
}

interface Ask {
  readonly ranges: readonly ByteRange[];
  resolve(bytes: Uint8Array[]): void;
  reject(error: unknown): void;
}

/** Asks per store and file waiting for the next flush. */
const waiting = new WeakMap<RangeTransport, Map<string, Ask[]>>();

/**
 * `ranges` of `key`, read together with the other ranges of the same file asked for before the
 * next task: refine's vector rows and the output rows it reads ahead, say, go out in one
 * multi-range request per file instead of one each. Overlapping asks are read once. Every file's
 * asks flush in the same task, so a query's requests to many files (refine's, one per data file)
 * leave back to back, not each in a task of its own behind the answers already arriving (which
 * stretched one wave into a chain of round trips on a busy page).
 */
export function getRanges(http: RangeTransport, key: string, ranges: readonly ByteRange[]): Promise<Uint8Array[]> {
  let files = waiting.get(http);
  if (files === undefined) {
    const batch = new Map<string, Ask[]>();
    waiting.set(http, (files = batch));
    // A task, not a microtask: the asks come down promise chains of different lengths.
    setTimeout(() => {
      waiting.delete(http);
      for (const [file, asks] of batch) void readAsks(http, file, asks);
    }, 0);
  }
  let asks = files.get(key);
  if (asks === undefined) files.set(key, (asks = []));
  return new Promise((resolve, reject) => asks!.push({ ranges, resolve, reject }));
}

/** One read for every ask: their ranges sorted and merged where they overlap or touch, sliced back. */
async function readAsks(http: RangeTransport, key: string, asks: readonly Ask[]): Promise<void> {
  // Empty ranges last: each is a request of its own and would split the batches of the others.
  const items = asks.flatMap((a, ask) => a.ranges.map((r, i) => ({ ...r, ask, i, span: 0 })))
    .sort((a, b) => Number(a.length === 0) - Number(b.length === 0) || a.offset - b.offset);
  const spans: { offset: number; length: number }[] = [];
  const gap = http.multiRange ? 0 : SINGLE_RANGE_GAP_BYTES;
  for (const item of items) {
    const last = spans.at(-1);
    // Empty ranges stay alone: reading one checks that the file is there and long enough.
    if (last !== undefined && last.length > 0 && item.length > 0 && item.offset <= last.offset + last.length + gap) {
      last.length = Math.max(last.length, item.offset + item.length - last.offset);
    } else spans.push({ offset: item.offset, length: item.length });
    item.span = spans.length - 1;
  }
  if (http.maxConnections > 0 && http.multiRange) {
    const into = packSpans(spans, BUDGET_RANGES_PER_REQUEST);
    for (const item of items) item.span = into[item.span]!;
  }
  let bodies: Uint8Array[];
  try {
    bodies = await readSpans(http, key, spans);
  } catch (error) {
    // Another caller's bad range (past the end of the file, say) must not fail this one's reads.
    if (asks.length > 1) await Promise.all(asks.map((a) => readAsks(http, key, [a])));
    else asks[0]!.reject(error);
    return;
  }
  const out = asks.map((a) => new Array<Uint8Array>(a.ranges.length));
  for (const { offset, length, ask, i, span } of items) out[ask]![i] = bodies[span]!.subarray(offset - spans[span]!.offset, offset - spans[span]!.offset + length);
  asks.forEach((a, ask) => a.resolve(out[ask]!));
}

/**
 * Merges the closest of `spans` (sorted, disjoint; in place) until they fit in the fewest requests
 * of `perRequest` ranges, as long as the bytes between merged spans stay within the bytes of the
 * spans. Returns where each span went (old index → new index).
 */
export function packSpans(spans: { offset: number; length: number }[], perRequest: number): number[] {
  const into = Array.from(spans.keys());
  const nonEmpty = spans.filter((s) => s.length > 0).length;
  let excess = nonEmpty - perRequest;
  if (excess <= 0) return into;
  const asked = spans.reduce((n, s) => n + s.length, 0);
  // Gaps between neighbouring non-empty spans (empty spans, sorted last, take no part), smallest first.
  const gaps = Array.from({ length: nonEmpty - 1 }, (_, i) => i).sort((i, j) => gapAfter(spans, i) - gapAfter(spans, j));
  const join = new Uint8Array(spans.length);
  let over = 0;
  for (const i of gaps) {
    if (excess === 0 || over + gapAfter(spans, i) > asked) break;
    over += gapAfter(spans, i);
    join[i] = 1;
    excess--;
  }
  const packed: { offset: number; length: number }[] = [];
  spans.forEach((s, i) => {
    if (i > 0 && join[i - 1]) {
      const last = packed.at(-1)!;
      last.length = s.offset + s.length - last.offset;
    } else packed.push({ ...s });
    into[i] = packed.length - 1;
  });
  spans.splice(0, spans.length, ...packed);
  return into;
}

const gapAfter = (spans: readonly ByteRange[], i: number): number => spans[i + 1]!.offset - spans[i]!.offset - spans[i]!.length;

async function readSpans(http: RangeTransport, key: string, ranges: readonly ByteRange[]): Promise<Uint8Array[]> {
  const out = new Array<Uint8Array>(ranges.length);
  const batches: number[][] = [];
  const perRequest = http.maxConnections > 0 ? BUDGET_RANGES_PER_REQUEST : RANGES_PER_REQUEST;
  ranges.forEach((r, i) => {
    const last = batches.at(-1);
    if (r.length > 0 && last !== undefined && last.length < perRequest && ranges[last[0]!]!.length > 0) last.push(i);
    else batches.push([i]);
  });
  await Promise.all(batches.map(async (batch) => {
    // A multi-range request that fails is not retried: the ranges are read one per request, which
    // retry on their own. In browsers it may be the request itself that fails: several ranges are
    // not a CORS-safelisted Range, so a cross-origin server must answer a preflight for them.
    const parts = http.multiRange && batch.length > 1 ? await multiRangeParts(http, key, batch.map((i) => ranges[i]!)).catch((e: unknown) => {
      if ((e as { code?: string }).code !== "NETWORK_ERROR") throw e;
      return [];
    }) : undefined;
    const left = batch.filter((i) => {
      const { offset, length } = ranges[i]!;
      const part = parts?.find((p) => p.offset <= offset && offset + length <= p.offset + p.bytes.length);
      if (part !== undefined) out[i] = part.bytes.subarray(offset - part.offset, offset - part.offset + length);
      return part === undefined;
    });
    if (left.length > 0 && parts !== undefined) http.multiRange = false;
    // At most SINGLE_READS at once, like a browser's connections to one host.
    let next = 0;
    const single = async (): Promise<void> => {
      for (let i = left[next++]; i !== undefined; i = left[next++]) out[i] = await http.store.getRange(key, ranges[i]!.offset, ranges[i]!.length);
    };
    await Promise.all(Array.from({ length: Math.min(SINGLE_READS, left.length) }, single));
  }));
  return out;
}

/**
 * The parts of a multi-range answer; [] for any other answer (the whole file, 416 from a server
 * that refuses several ranges, an error status): single reads then get the bytes, or meet the
 * error themselves and report it as for any range read.
 */
function multiRangeParts(http: RangeTransport, key: string, ranges: readonly ByteRange[]): Promise<BytePart[]> {
  const header = `bytes=${ranges.map((r) => `${r.offset}-${r.offset + r.length - 1}`).join(",")}`;
  return http.read(key, header, async (response) => {
    const type = response.headers.get("Content-Type") ?? "";
    const single = /^bytes (\d+)-(\d+)\//.exec(response.headers.get("Content-Range") ?? "");
    if (response.status === 206 && /^multipart\/byteranges/i.test(type)) return parseByteranges(await http.body(response, Infinity), type) ?? [];
    if (response.status === 206 && single) {
      const offset = Number(single[1]);
      return [{ offset, bytes: await http.body(response, Number(single[2]) - offset + 1) }];
    }
    await response.body?.cancel();
    return [];
  }, 0);
}
