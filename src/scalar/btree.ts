/**
 * BTREE scalar index: every (key, row) pair sorted by key, cut into pages, with a resident directory
 * of each page's first and last key, so a lookup reads only the pages its range touches (one range
 * read each) instead of the whole file. Rows whose value is NULL are kept apart for IS NULL.
 *
 * File: the shared index layout of ann/format.ts (magic QVIX, version, header CRC, CRC per section
 * and per body), kind "btree", params { keyType, pageRows }.
 *   head section "directory"  JSON [[bodyOffset, byteLength, count, firstKey, lastKey], …] per page;
 *                             bodyOffset counts from the end of the head
 *   head section "nulls"      f64 × nullCount, row addresses of NULL values, ascending
 *   body p (page p)           0  u32 count n
 *                             4  u32 key bytes
 *                             8  8 bytes reserved, 0
 *                             16 n × f64 row addresses (ascending within equal keys)
 *                             …  n keys (keys.ts encoding)
 * Each page is checked against its CRC when it is read.
 */
import { corruptIndex, IndexHead, IndexWriter, PREAMBLE_BYTES, readHeadLength } from "../ann/format.js";
import { compareKeys, decodeKeys, encodeKeys, inRange, type KeyRange, type KeyType, type ScalarKey } from "./keys.js";
import { DENSE_SHARE, DenseMaskBuilder, RowMask, type MaskFrame } from "./rowmask.js";
import { unionRows, type RowSet } from "./rowset.js";

/** Rows per page. Smaller pages make a point lookup read less; larger ones make the directory smaller. */
export const DEFAULT_PAGE_ROWS = 4096;
const PAGE_HEADER = 16;
/** Row addresses are `fragment id × 2^32 + row`. */
const ROW_FRAGMENT = 2 ** 32;

/** Reads `length` bytes at absolute `offset` of the index file. */
export type RangeReader = (offset: number, length: number) => Promise<Uint8Array>;

type DirectoryEntry = [offset: number, length: number, count: number, first: ScalarKey, last: ScalarKey];

export function buildBTree(keyType: KeyType, values: readonly (ScalarKey | null)[], rows: ArrayLike<number>, pageRows = DEFAULT_PAGE_ROWS): Uint8Array {
  const order: number[] = [];
  const nulls: number[] = [];
  values.forEach((v, i) => (v === null ? nulls.push(rows[i]!) : order.push(i)));
  order.sort((a, b) => compareKeys(values[a]!, values[b]!) || rows[a]! - rows[b]!);
  const writer = new IndexWriter();
  const directory: DirectoryEntry[] = [];
  for (let start = 0; start < order.length; start += pageRows) {
    const slice = order.slice(start, start + pageRows);
    const keys = slice.map((i) => values[i]!);
    const keyBytes = encodeKeys(keyType, keys);
    const page = new Uint8Array(PAGE_HEADER + 8 * slice.length + keyBytes.byteLength);
    const view = new DataView(page.buffer);
    view.setUint32(0, slice.length, true);
    view.setUint32(4, keyBytes.byteLength, true);
    new Float64Array(page.buffer, PAGE_HEADER, slice.length).set(slice.map((i) => rows[i]!));
    page.set(keyBytes, PAGE_HEADER + 8 * slice.length);
    const offset = writer.body(page);
    directory.push([offset, page.byteLength, slice.length, jsonKey(keys[0]!), jsonKey(keys[keys.length - 1]!)]);
  }
  writer.section("directory", new TextEncoder().encode(JSON.stringify(directory)));
  writer.section("nulls", Float64Array.from(nulls).sort());
  return writer.finish({ kind: "btree", metric: "none", dim: 1, size: values.length, params: { keyType, pageRows } });
}

// JSON has no NaN or ±Infinity; they travel as strings tagged so they cannot collide with string keys
// (a number index only ever holds numbers).
const jsonKey = (k: ScalarKey): ScalarKey => (typeof k === "number" && !Number.isFinite(k) ? String(k) : k);
const fromJsonKey = (type: KeyType, k: unknown): ScalarKey => (type === "number" && typeof k === "string" ? Number(k) : (k as ScalarKey));

/** A page as read: each entry's row address split into fragment id and row (integer loops, no f64 division), and its key. */
interface Page {
  fragments: Uint32Array;
  rows: Uint32Array;
  keys: ScalarKey[];
}

export interface BTreeStats {
  kind: "btree";
  keyType: KeyType;
  rows: number;
  nullRows: number;
  pages: number;
  /** Pages read (and checked) since the index was opened. */
  pagesRead: number;
}

export class BTreeIndex {
  readonly keyType: KeyType;
  readonly #head: IndexHead;
  readonly #directory: DirectoryEntry[];
  readonly #nulls: RowSet;
  readonly #read: RangeReader;
  readonly #pages = new Map<number, Page>();

  private constructor(head: IndexHead, read: RangeReader) {
    if (head.meta.kind !== "btree") corruptIndex(`it is a "${head.meta.kind}" index, not a btree`);
    const keyType = head.meta.params.keyType;
    if (keyType !== "number" && keyType !== "string") corruptIndex(`its key type ${String(keyType)} is unknown`);
    this.keyType = keyType;
    this.#head = head;
    this.#read = read;
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(head.bytes("directory")));
    } catch (cause) {
      corruptIndex("its page directory is not valid JSON", {}, cause);
    }
    if (!Array.isArray(parsed) || parsed.length !== (head.meta.bodies?.length ?? -1)) corruptIndex("its page directory does not list one entry per page");
    this.#directory = parsed.map((e: unknown) => {
      if (!Array.isArray(e) || e.length !== 5 || !e.slice(0, 3).every((x) => Number.isSafeInteger(x) && x >= 0)) corruptIndex("a page directory entry is malformed");
      return [e[0], e[1], e[2], fromJsonKey(keyType, e[3]), fromJsonKey(keyType, e[4])] as DirectoryEntry;
    });
    this.#nulls = head.f64("nulls");
  }

  /** Opens an index file by reading its head only. */
  static async open(read: RangeReader): Promise<BTreeIndex> {
    const headLength = readHeadLength(await read(0, PREAMBLE_BYTES));
    return new BTreeIndex(new IndexHead(await read(0, headLength)), read);
  }

  /** Opens an index from its whole file in memory. */
  static fromBytes(bytes: Uint8Array): BTreeIndex {
    return new BTreeIndex(new IndexHead(bytes), async (offset, length) => bytes.subarray(offset, offset + length));
  }

  get stats(): BTreeStats {
    const rows = this.#head.meta.size;
    return { kind: "btree", keyType: this.keyType, rows, nullRows: this.#nulls.length, pages: this.#directory.length, pagesRead: this.#pagesRead };
  }
  #pagesRead = 0;

  /** Rows whose key lies in `range`, ascending. */
  async range(range: KeyRange): Promise<RowSet> {
    const spans = await this.#spans(range);
    const out = new Float64Array(spans.reduce((n, s) => n + s.to - s.from, 0));
    let n = 0;
    for (const { page, from, to } of spans) for (let i = from; i < to; i++) out[n++] = page.fragments[i]! * ROW_FRAGMENT + page.rows[i]!;
    // Sorted by key then row: ascending rows need a sort (a plain typed-array sort, no dedupe needed,
    // as a btree holds each row once).
    return out.sort();
  }

  /**
   * Rows whose key lies in `range`, as a mask over the fragments `frame` knows: a large answer is
   * set straight into per-fragment bitmaps from the pages, never sorted as a list.
   */
  async rangeMask(range: KeyRange, frame: MaskFrame): Promise<RowMask> {
    const spans = await this.#spans(range);
    const total = spans.reduce((n, s) => n + s.to - s.from, 0);
    if (total * DENSE_SHARE <= frame.totalRows) return RowMask.fromAddresses(await this.range(range));
    const builder = new DenseMaskBuilder((id) => frame.numRows(id));
    for (const { page, from, to } of spans) builder.add(page.fragments, page.rows, from, to);
    return builder.finish();
  }

  /**
   * How many rows have a key in `range`: pages wholly inside it are counted from the directory,
   * unread; at most the two pages holding the range's ends are read.
   */
  async countRange(range: KeyRange): Promise<number> {
    let n = 0;
    const [from, to] = this.#meeting(range);
    for (let p = from; p < to; p++) {
      const [, , count, first, last] = this.#directory[p]!;
      if (!overlaps(first, last, range)) continue;
      if (inRange(first, range) && inRange(last, range)) n += count;
      else {
        const [from, to] = span(this.keyType, (await this.#page(p)).keys, range);
        n += to - from;
      }
    }
    return n;
  }

  /**
   * The pages [from, to) that may meet `range`, found by binary search over the directory: pages
   * follow the key order, so their first and last keys both ascend.
   */
  #meeting(r: KeyRange): [number, number] {
    const d = this.#directory;
    const search = (below: (p: number) => boolean): number => {
      let lo = 0;
      let hi = d.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (below(mid)) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    // Pages ending below the lower bound come first; pages starting above the upper bound come last.
    const from = r.lower === undefined ? 0 : search((p) => {
      const c = compareKeys(d[p]![4], r.lower!);
      return c < 0 || (c === 0 && r.lowerInclusive === false);
    });
    const to = r.upper === undefined ? d.length : search((p) => {
      const c = compareKeys(d[p]![3], r.upper!);
      return !(c > 0 || (c === 0 && r.upperInclusive === false));
    });
    return [from, Math.max(from, to)];
  }

  /** The pages `range` meets, each with the positions [from, to) of its keys inside the range. */
  async #spans(range: KeyRange): Promise<{ page: Page; from: number; to: number }[]> {
    const out: { page: Page; from: number; to: number }[] = [];
    const [first, end] = this.#meeting(range);
    for (let p = first; p < end; p++) {
      const [, , , first, last] = this.#directory[p]!;
      if (!overlaps(first, last, range)) continue;
      const page = await this.#page(p);
      const [from, to] = span(this.keyType, page.keys, range);
      if (to > from) out.push({ page, from, to });
    }
    return out;
  }

  equals(key: ScalarKey): Promise<RowSet> {
    return this.range({ lower: key, lowerInclusive: true, upper: key, upperInclusive: true });
  }

  async in(keys: readonly ScalarKey[]): Promise<RowSet> {
    let out: RowSet = new Float64Array(0);
    for (const k of keys) out = unionRows(out, await this.equals(k));
    return out;
  }

  /** Rows whose value is NULL, ascending. */
  isNull(): RowSet {
    return this.#nulls.slice();
  }

  async #page(p: number): Promise<Page> {
    const cached = this.#pages.get(p);
    if (cached) return cached;
    const [offset, length, count] = this.#directory[p]!;
    const bytes = new Uint8Array(await this.#read(this.#head.headLength + offset, length));
    if (bytes.byteLength !== length) corruptIndex(`page ${p} is truncated`, { page: p });
    this.#head.verifyBody(p, bytes);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = view.getUint32(0, true);
    const keyBytes = view.getUint32(4, true);
    if (n !== count || PAGE_HEADER + 8 * n + keyBytes !== length) corruptIndex(`page ${p} does not hold the ${count} rows its directory lists`, { page: p });
    const addresses = new Float64Array(bytes.slice(PAGE_HEADER, PAGE_HEADER + 8 * n).buffer);
    const keys = decodeKeys(this.keyType, bytes.subarray(PAGE_HEADER + 8 * n), n);
    if (!keys) corruptIndex(`page ${p} has malformed keys`, { page: p });
    const page = { fragments: new Uint32Array(n), rows: new Uint32Array(n), keys };
    for (let i = 0; i < n; i++) {
      const a = addresses[i]!;
      const id = Math.floor(a / ROW_FRAGMENT);
      if (!(a >= 0 && id < ROW_FRAGMENT && Number.isInteger(a))) corruptIndex(`page ${p} holds a row address that is not one (${a})`, { page: p });
      page.fragments[i] = id;
      page.rows[i] = a - id * ROW_FRAGMENT;
    }
    this.#pages.set(p, page);
    this.#pagesRead++;
    return page;
  }
}

/** First position in sorted `keys` whose key is above `key` (`orEqual`: at or above). */
function firstAbove(keys: readonly ScalarKey[], key: ScalarKey, orEqual: boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareKeys(keys[mid]!, key);
    if (c > 0 || (orEqual && c === 0)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The positions [from, to) of a page's sorted keys inside `range`, matching inRange(): NaN keys
 * sort last and are never inside, so a number range always ends before the first NaN.
 */
function span(keyType: KeyType, keys: readonly ScalarKey[], r: KeyRange): [number, number] {
  const from = r.lower === undefined ? 0 : firstAbove(keys, r.lower, r.lowerInclusive !== false);
  let to = r.upper === undefined ? keys.length : firstAbove(keys, r.upper, r.upperInclusive === false);
  if (keyType === "number") to = Math.min(to, firstAbove(keys, Infinity, false));
  return [from, Math.max(from, to)];
}

function overlaps(first: ScalarKey, last: ScalarKey, r: KeyRange): boolean {
  // NaN sorts last, so a page's last key may be NaN while its first is not: compareKeys handles both.
  // A page whose first key is NaN holds nothing else, and no range holds NaN.
  if (typeof first === "number" && Number.isNaN(first)) return false;
  if (r.lower !== undefined) {
    const c = compareKeys(last, r.lower);
    if (c < 0 || (c === 0 && r.lowerInclusive === false)) return false;
  }
  if (r.upper !== undefined) {
    const c = compareKeys(first, r.upper);
    if (c > 0 || (c === 0 && r.upperInclusive === false)) return false;
  }
  return true;
}
