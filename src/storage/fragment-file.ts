/**
 * Fragment files (`data/<id>.qvf`): one immutable file per fragment, columnar, documented in
 * docs/FORMAT.md. Every buffer starts on a 64-byte boundary so a vector block read from storage can
 * be viewed as a Float32Array (and copied into WebAssembly memory) without reshuffling.
 *
 *   0      4        8            64
 *   | QVFR | format | zero pad …  | buffer | pad | buffer | pad | … | footer JSON | len | crc | QVFR |
 *                                                                                 u32   u32
 *
 * The footer lists, per column, its type and buffers as [offset, length, crc32]; a reader fetches
 * the tail, then only the byte ranges of the columns it needs. Since format 2, the buffers of
 * fixed-width columns (values, validity) also have a CRC per 4 KiB chunk, in a buffer of their own
 * (`valueChunks`, `validityChunks`: u32 per chunk), so a read of a few rows verifies the chunks it
 * read instead of trusting them. Since format 3, chunks are whole rows, as many as fit in 512 bytes
 * (the footer's `chunkBytes`, or the column's for wider rows): re-ranking reads and checks each
 * candidate's own vector, not the 4 KiB around it.
 *
 * Buffers per type (all little-endian):
 *   validity  n bytes (1 = present), only when the column has nulls
 *   values    the column's typed array as stored in memory (see src/data/column.ts)
 *   utf8      offsets (n + 1) × u32 into values = UTF-8 bytes
 *   list<T>   offsets (n + 1) × u32 into a child column of all items (encoded the same way)
 */
import { createError } from "../errors.js";
import { buildColumn, concatColumns, numericConstructor, readValue, vectorStride, type Column, type NumericArray } from "../data/column.js";
import { typesEqual, typeToString, type DataType, type Field } from "../data/schema.js";
import { joinParts, type BlobStore } from "./blob-store.js";
import { crc32 } from "./crc32.js";
import type { RangeCache } from "./range-reads.js";
import type { BufferPool } from "../util/buffer-pool.js";
import { ALIGNMENT, alignUp, corrupt, decodeJson, encodeJson, magicBytes } from "./envelope.js";
import { lazyImport } from "../util/lazy.js";

/** Loaded once (see lazyImport): every row read of a query waits on it, and they should go out together. */
const rangeReads = lazyImport(() => import("./range-reads.js"));

export const FRAGMENT_FORMAT_VERSION = 3;
/** Bytes per checksummed chunk of a fixed-width buffer in format 2 (a row read reads whole chunks). */
const CHUNK_BYTES = 4096;
/** From format 3, a fixed-width buffer's chunks are whole rows, as many as fit in this many bytes (at least one); see `chunkBytesFor`. */
export const ROW_CHUNK_BYTES = 512;
const MAGIC = "QVFR";
const TAIL = 12;
/** Bytes read from the end of a file in the first request; most footers fit. */
const TAIL_GUESS = 16 * 1024;

/**
 * Row reads merge two spans when at most this many bytes lie between them (one span instead of
 * two), except from remote stores: there every byte travels, a multi-range request carries many
 * spans for a few dozen bytes of headers each, and HttpStore merges spans itself for a server that
 * answers one range per request.
 */
const ROW_GAP_BYTES = 16 * 1024;
/**
 * What reading one chunk checksum alone costs a remote row read, in bytes: its 4 and the part
 * headers of a multi-range answer. A read takes the entries it needs while they cost less than the
 * whole chunk table (a 50,000-row 384-d column's table is 75 KB, for the ~20 chunks a query
 * reads), else the table (kept for the file's later reads).
 */
const ENTRY_READ_BYTES = 96;
/** Row reads covering at least this share of a buffer read it whole (and verify its checksum). */
const WHOLE_BUFFER_SHARE = 0.5;

/** [offset, length, crc32] of one buffer in the file. */
export type BufferRef = readonly [number, number, number];

export interface ColumnLayout {
  readonly validity?: BufferRef;
  readonly values?: BufferRef;
  /** CRC-32 of each chunk of `values` / `validity` (format 2, fixed-width columns). */
  readonly valueChunks?: BufferRef;
  readonly validityChunks?: BufferRef;
  /** Chunk size of `valueChunks` when it is not the footer's (format 3: rows wider than 512 bytes or not dividing it, see `chunkBytesFor`). */
  readonly chunkBytes?: number;
  readonly offsets?: BufferRef;
  /** Items of a list column. */
  readonly child?: ColumnLayout;
  /** Rows of this (possibly child) column. */
  readonly length: number;
}

export interface FragmentFooter {
  /** The format version (from format 3; the header has it too, but a reader fetches only the tail). */
  readonly format?: number;
  readonly numRows: number;
  /** Chunk size of `validityChunks`, and of `valueChunks` where the column gives none (format 2). */
  readonly chunkBytes?: number;
  readonly columns: readonly (ColumnLayout & { readonly name: string; readonly type: DataType })[];
}

export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export class FileBuilder {
  readonly parts: Uint8Array[] = [];
  size = 0;

  constructor() {
    const head = new Uint8Array(ALIGNMENT);
    head.set(magicBytes(MAGIC), 0);
    new DataView(head.buffer).setUint32(4, FRAGMENT_FORMAT_VERSION, true);
    this.push(head);
  }

  push(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.size += bytes.length;
  }

  /** One buffer, given whole or as pieces written back to back (not copied: they must not change before the write). */
  buffer(bytes: Uint8Array | readonly Uint8Array[]): BufferRef {
    const pieces = bytes instanceof Uint8Array ? [bytes] : bytes;
    const offset = this.size;
    let crc = 0;
    for (const p of pieces) {
      this.push(p);
      crc = crc32(p, crc);
    }
    const length = this.size - offset;
    this.pad();
    return [offset, length, crc];
  }

  /** The CRC of each `size`-byte chunk of `bytes` (whole or in pieces, chunks spanning them), written as a buffer of its own. */
  chunks(bytes: Uint8Array | readonly Uint8Array[], size: number): BufferRef {
    const crcs = new ChunkCrcs(size);
    for (const p of bytes instanceof Uint8Array ? [bytes] : bytes) crcs.add(p);
    return this.buffer(bytesOf(Uint32Array.from(crcs.crcs)));
  }

  /** Zeros up to the next 64-byte boundary, after a buffer pushed piece by piece. */
  pad(): void {
    const pad = alignUp(this.size) - this.size;
    if (pad > 0) this.push(new Uint8Array(pad));
  }

  /** The file as the pieces written, in order (see `writeParts`): no copy into one buffer. */
  finish(footer: FragmentFooter): Uint8Array[] {
    const json = encodeJson(footer);
    this.push(json);
    const tail = new Uint8Array(TAIL);
    const dv = new DataView(tail.buffer);
    dv.setUint32(0, json.length, true);
    dv.setUint32(4, crc32(json), true);
    tail.set(magicBytes(MAGIC), 8);
    this.push(tail);
    return this.parts;
  }
}

/** The CRC-32 of each `size`-byte chunk of a buffer given piece by piece (chunks span pieces; the last may be short). */
export class ChunkCrcs {
  readonly crcs: number[] = [];
  /** Bytes the last chunk still takes. */
  #room = 0;

  constructor(readonly size: number) {}

  add(p: Uint8Array): void {
    for (let at = 0; at < p.length;) {
      if (this.#room === 0) {
        this.crcs.push(0);
        this.#room = this.size;
      }
      const take = Math.min(this.#room, p.length - at);
      const last = this.crcs.length - 1;
      this.crcs[last] = crc32(p.subarray(at, at + take), this.crcs[last]);
      at += take;
      this.#room -= take;
    }
  }
}

function encodeUtf8(strings: readonly string[], f: FileBuilder): { offsets: BufferRef; values: BufferRef } {
  const enc = new TextEncoder();
  const offsets = new Uint32Array(strings.length + 1);
  let cap = 0;
  for (const s of strings) cap += s.length * 3;
  const out = new Uint8Array(cap);
  let at = 0;
  for (let i = 0; i < strings.length; i++) {
    at += enc.encodeInto(strings[i]!, out.subarray(at)).written;
    offsets[i + 1] = at;
  }
  return { offsets: f.buffer(bytesOf(offsets)), values: f.buffer(out.subarray(0, at)) };
}

/**
 * A column given as pieces (a stream's batches): a fixed-width column without nulls is written
 * straight from the pieces' bytes; any other is joined first (its bytes are small beside vectors).
 */
export function encodeColumnPieces(type: DataType, pieces: readonly Column[], f: FileBuilder): ColumnLayout {
  if (pieces.length === 1) return encodeColumn(pieces[0]!, f);
  if (type.kind === "utf8" || type.kind === "list" || pieces.some((c) => c.validity !== null && c.validity.includes(0))) {
    return encodeColumn(concatColumns(type, pieces), f);
  }
  const values = pieces.map((c) => bytesOf(c.data as NumericArray));
  return { length: pieces.reduce((n, c) => n + c.length, 0), validity: undefined, values: f.buffer(values), ...valueChunks(type, values, f), validityChunks: undefined };
}

/** The chunk table of a fixed-width column's values, with its chunk size when that is not the file's default. */
function valueChunks(type: DataType, values: Uint8Array | readonly Uint8Array[], f: FileBuilder): Pick<ColumnLayout, "valueChunks" | "chunkBytes"> {
  const size = chunkBytesFor(type);
  return { valueChunks: f.chunks(values, size), ...(size === ROW_CHUNK_BYTES ? {} : { chunkBytes: size }) };
}

/**
 * Bytes per checksummed chunk of a fixed-width column: whole rows, as many as fit in 512 bytes, at
 * least one. Re-ranking a candidate so reads and checks its own vector (a 384-d float32 row is one
 * 1,536-byte chunk), and the ids of 400 candidates cost 400 × 512 bytes, where 4 KiB chunks (format
 * 2) cost 4–8 KiB per vector and 4 KiB per id: most of a refined query's reads. The chunk tables
 * grow to 0.8 % of a column of numbers and 0.26 % of a 384-d float32 column; a local reader reads
 * a table once per file, a remote one only the entries it uses.
 */
export function chunkBytesFor(type: DataType): number {
  const row = rowBytes(type);
  return row * Math.max(1, Math.floor(ROW_CHUNK_BYTES / row));
}

function encodeColumn(col: Column, f: FileBuilder): ColumnLayout {
  const hasNulls = col.validity !== null && col.validity.includes(0);
  const validity = hasNulls ? f.buffer(col.validity!) : undefined;
  const t = col.type;
  if (t.kind === "utf8") return { length: col.length, validity, ...encodeUtf8(col.data as string[], f) };
  if (t.kind === "list") {
    const lists = col.data as (unknown[] | null)[];
    const offsets = new Uint32Array(col.length + 1);
    const items: unknown[] = [];
    lists.forEach((l, i) => {
      if (l) for (const x of l) items.push(x);
      offsets[i + 1] = items.length;
    });
    const child = buildColumn(t.item, items, true, { column: "list item", rowOffset: 0 });
    return { length: col.length, validity, offsets: f.buffer(bytesOf(offsets)), child: encodeColumn(child, f) };
  }
  const values = bytesOf(col.data as NumericArray);
  return {
    length: col.length, validity, values: f.buffer(values), ...valueChunks(t, values, f),
    validityChunks: hasNulls ? f.chunks(col.validity!, ROW_CHUNK_BYTES) : undefined,
  };
}

/**
 * Encodes a fragment's columns, in schema order, into one file, returned as the pieces to write in
 * order (`writeParts`): the columns' bytes are not copied into one buffer. A column may be given as
 * pieces (consecutive rows), which gives the same file as the pieces joined.
 */
export function encodeFragmentParts(fields: readonly Field[], columns: ReadonlyMap<string, Column | readonly Column[]>, numRows: number): Uint8Array[] {
  const f = new FileBuilder();
  const layouts = fields.map((field) => {
    const given = columns.get(field.name);
    const pieces = given === undefined ? [] : Array.isArray(given) ? given as readonly Column[] : [given as Column];
    if (pieces.length === 0 || pieces.reduce((n, c) => n + c.length, 0) !== numRows) throw new Error(`encodeFragment: column ${field.name} missing or of wrong length`);
    return { name: field.name, type: field.type, ...encodeColumnPieces(field.type, pieces, f) };
  });
  return f.finish({ format: FRAGMENT_FORMAT_VERSION, numRows, chunkBytes: ROW_CHUNK_BYTES, columns: layouts });
}

/** Encodes a fragment's columns, in schema order, into one file (one buffer). */
export function encodeFragment(fields: readonly Field[], columns: ReadonlyMap<string, Column>, numRows: number): Uint8Array {
  return joinParts(encodeFragmentParts(fields, columns, numRows));
}

/** A fragment file opened for reading: footer parsed, columns fetched on demand. */
export class FragmentFile {
  /** Chunk CRC tables read so far, by buffer offset (read once, then row reads check against them). */
  readonly #chunkCrcs = new Map<number, Promise<Uint32Array>>();
  /**
   * Remote files with large chunk tables: the entries read so far, by buffer offset and chunk,
   * each kept once the chunk it belongs to matched it.
   */
  readonly #chunkCrcEntries = new Map<number, Map<number, number>>();

  private constructor(
    private readonly store: BlobStore,
    readonly key: string,
    private readonly footer: FragmentFooter,
    /** Checked chunks kept across queries (remote files), see range-reads.ts. */
    private readonly cache?: RangeCache,
  ) {}

  get numRows(): number {
    return this.footer.numRows;
  }

  columnNames(): string[] {
    return this.footer.columns.map((c) => c.name);
  }

  /** Reads the tail and footer; `size` (from the manifest) saves a HEAD request. `ahead`: opened before it is needed (see RangeReadHint). */
  static async open(store: BlobStore, key: string, size?: number, cache?: RangeCache, ahead = false): Promise<FragmentFile> {
    const total = size ?? (await store.head(key))?.size;
    if (total === undefined) throw createError("NOT_FOUND", `Fragment file ${key} is missing from ${store.uri}.`, { file: key });
    if (total < ALIGNMENT + TAIL) corrupt(key, `only ${total} bytes`);
    const guess = Math.min(total, TAIL_GUESS);
    let tail = await store.getRange(key, total - guess, guess, { ahead });
    const dv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
    const m = magicBytes(MAGIC);
    for (let i = 0; i < 4; i++) if (tail[guess - 4 + i] !== m[i]) corrupt(key, "the file does not end with its magic bytes (truncated?)");
    const footerLen = dv.getUint32(guess - TAIL, true);
    const footerCrc = dv.getUint32(guess - TAIL + 4, true);
    if (footerLen + TAIL + ALIGNMENT > total) corrupt(key, `footer length ${footerLen} exceeds the file`);
    if (footerLen + TAIL > guess) tail = await store.getRange(key, total - TAIL - footerLen, footerLen + TAIL);
    const json = tail.subarray(tail.length - TAIL - footerLen, tail.length - TAIL);
    if (crc32(json) !== footerCrc) corrupt(key, "footer checksum mismatch");
    const footer = decodeJson<FragmentFooter>(json, key);
    checkFooter(footer, key, total - TAIL - footerLen);
    return new FragmentFile(store, key, footer, cache);
  }

  /** One column, checked against the type the manifest's schema gives it. */
  async readColumn(name: string, expected: DataType): Promise<Column> {
    const layout = this.footer.columns.find((c) => c.name === name);
    if (layout === undefined) throw createError("CORRUPT_FILE", `Fragment file ${this.key} has no column "${name}".`, { file: this.key, column: name });
    if (!typesEqual(layout.type, expected)) corrupt(this.key, `column "${name}" is stored as ${JSON.stringify(layout.type)}, the schema says ${typeToString(expected)}`);
    return this.decode(expected, layout);
  }

  /**
   * Rows `rows` (any order, repeats allowed) of a fixed-width column (numbers, bools, timestamps,
   * vectors), as a column of `rows.length` rows in that order. Only the byte ranges of those rows
   * are read, nearby rows coalesced into one request (gaps up to ROW_GAP_BYTES), so re-ranking 40
   * candidates reads ~40 vectors, not the fragment's whole vector column.
   *
   * Every byte read is verified: whole buffers against their CRC, partial reads (format 2) in
   * whole 4 KiB chunks against the chunk CRCs. Format 1 files have no chunk CRCs: their partial
   * reads are bounds-checked only. See docs/FORMAT.md, "Row reads".
   *
   * `pool`: where the chunks are read into (taken and given back before this returns). `out`:
   * where the rows go (rows × the row's bytes), which the column is then a view of.
   */
  async readRows(name: string, expected: DataType, rows: Int32Array, pool?: BufferPool, out?: Uint8Array): Promise<Column> {
    const layout = this.footer.columns.find((c) => c.name === name);
    if (layout === undefined) throw createError("CORRUPT_FILE", `Fragment file ${this.key} has no column "${name}".`, { file: this.key, column: name });
    if (!typesEqual(layout.type, expected)) corrupt(this.key, `column "${name}" is stored as ${JSON.stringify(layout.type)}, the schema says ${typeToString(expected)}`);
    if (!isFixedWidth(expected)) throw createError("INVALID_ARGUMENT", `readRows(): column "${name}" is ${typeToString(expected)}; only fixed-width columns are read by row.`, { column: name });
    const n = layout.length;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (!Number.isInteger(r) || r < 0 || r >= n) throw createError("INVALID_ARGUMENT", `readRows(): row ${r} is outside fragment file ${this.key} (${n} rows).`, { row: r });
    }
    const Ctor = numericConstructor(expected);
    const per = expected.kind === "vector" ? vectorStride(expected) : 1;
    const width = per * Ctor.BYTES_PER_ELEMENT;
    const valuesRef = need(layout.values, this.key);
    if (valuesRef[1] !== n * width) corrupt(this.key, `column buffer has ${valuesRef[1]} bytes, expected ${n * width}`);
    const [values, validity] = await Promise.all([
      this.readSpans(valuesRef, width, rows, layout.valueChunks, layout.chunkBytes, pool, out),
      layout.validity ? this.readSpans(layout.validity, 1, rows, layout.validityChunks) : null,
    ]);
    const data = new Ctor(values.buffer as ArrayBuffer, values.byteOffset, rows.length * per) as NumericArray | BigInt64Array;
    return { type: expected, length: rows.length, validity, data };
  }

  /**
   * Rows [first, first + count) of a fixed-width column without nulls, read into `buffer` (which
   * the caller reuses from one call to the next) through the store's `readInto`: the whole
   * checksummed chunks holding the rows, each checked against its CRC, and the column a view of `buffer`.
   * Undefined, reading nothing, where that does not apply — a store without `readInto`, a
   * cached (remote) file, a column with nulls or without chunk CRCs, a buffer too small or
   * misaligned — and the caller uses `readRows`.
   */
  async readRowsInto(name: string, expected: DataType, first: number, count: number, buffer: Uint8Array): Promise<Column | undefined> {
    const layout = this.footer.columns.find((c) => c.name === name);
    if (layout === undefined || !typesEqual(layout.type, expected) || !isFixedWidth(expected)) return undefined;
    if (this.store.readInto === undefined || this.cache !== undefined || layout.validity !== undefined || layout.valueChunks === undefined) return undefined;
    const n = layout.length;
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(count) || first < 0 || count < 1 || first + count > n) return undefined;
    const Ctor = numericConstructor(expected);
    const per = expected.kind === "vector" ? vectorStride(expected) : 1;
    const width = per * Ctor.BYTES_PER_ELEMENT;
    const [offset, length] = need(layout.values, this.key);
    if (length !== n * width) corrupt(this.key, `column buffer has ${length} bytes, expected ${n * width}`);
    const size = layout.chunkBytes ?? this.footer.chunkBytes ?? CHUNK_BYTES;
    const c0 = Math.floor((first * width) / size);
    const c1 = Math.ceil(((first + count) * width) / size);
    const spanStart = c0 * size;
    const spanLength = Math.min(length, c1 * size) - spanStart;
    const at = buffer.byteOffset + first * width - spanStart;
    if (buffer.length < spanLength || at % Ctor.BYTES_PER_ELEMENT !== 0) return undefined;
    const crcs = this.chunkCrcs(layout.valueChunks, Math.ceil(length / size));
    const bytes = await this.store.readInto(this.key, offset + spanStart, buffer.subarray(0, spanLength));
    const table = await crcs;
    for (let c = c0; c < c1; c++) {
      const chunk = bytes.subarray((c - c0) * size, Math.min(spanLength, (c - c0 + 1) * size));
      if (crc32(chunk) !== table[c]) corrupt(this.key, `checksum mismatch in chunk ${c} of the buffer at byte ${offset}`);
    }
    const data = new Ctor(buffer.buffer as ArrayBuffer, at, count * per) as NumericArray | BigInt64Array;
    return { type: expected, length: count, validity: null, data };
  }

  /**
   * Bytes rows × `width` of buffer `ref`, for `rows` in the given order. With chunk CRCs (format 2)
   * the chunks holding the rows (`chunkBytes`, else the footer's) are read and checked; format 1
   * reads the rows' bytes alone.
   * Either way every range goes out in one planned read (range-reads.ts): neighbours within
   * ROW_GAP_BYTES share a span, and a store with multi-range reads takes all spans in one request.
   */
  private async readSpans(
    ref: BufferRef, width: number, rows: Int32Array, chunksRef?: BufferRef, chunkBytes?: number, pool?: BufferPool, out: Uint8Array = new Uint8Array(rows.length * width),
  ): Promise<Uint8Array> {
    const [offset, length] = ref;
    if (rows.length === 0) return out;
    const size = chunksRef === undefined ? width : chunkBytes ?? this.footer.chunkBytes ?? CHUNK_BYTES;
    const remote = this.store.remote === true;
    const gapBytes = remote ? 0 : ROW_GAP_BYTES;
    // Pieces (chunks, or rows without chunk CRCs) holding the rows, by index in the buffer.
    const wanted = new Set<number>();
    for (const r of rows) for (let c = Math.floor((r * width) / size); c <= Math.floor(((r + 1) * width - 1) / size); c++) wanted.add(c);
    const pieces = Int32Array.from(wanted).sort();
    const ranges = Array.from(pieces, (c) => ({ offset: offset + c * size, length: Math.min(length, (c + 1) * size) - c * size }));
    // What the planned read would fetch: the pieces and the gaps it bridges between them.
    let spanBytes = 0;
    ranges.forEach((r, i) => {
      const gap = i === 0 ? Infinity : r.offset - ranges[i - 1]!.offset - ranges[i - 1]!.length;
      spanBytes += r.length + (gap <= gapBytes ? gap : 0);
    });
    const place = (piece: (c: number) => Uint8Array): Uint8Array => {
      rows.forEach((r, i) => {
        for (let at = r * width, to = i * width; at < (r + 1) * width;) {
          const c = Math.floor(at / size);
          const bytes = piece(c);
          const from = at - c * size;
          const n = Math.min(bytes.length - from, (r + 1) * width - at);
          out.set(bytes.subarray(from, from + n), to);
          at += n;
          to += n;
        }
      });
      return out;
    };
    if (spanBytes >= length * WHOLE_BUFFER_SHARE) {
      // Most of the buffer anyway: read it whole, with its checksum (in the file's request of this wave).
      const whole = await this.read(ref, true);
      return place((c) => whole.subarray(c * size, Math.min(length, (c + 1) * size)));
    }
    // Loaded on demand: only tables whose columns stay in storage read rows. Awaited before the
    // chunk table is asked for, so that the table and the chunks are asked in the same task.
    const { readRanges } = await rangeReads();
    const count = Math.ceil(length / size);
    // The chunk checksums (the table, read once per file and column; or, remote, the entries of
    // these chunks) travel with the chunks: in the same multi-range request where the store has
    // them (HTTP), else in the same wave.
    const crcs = chunksRef && (remote && !this.#chunkCrcs.has(chunksRef[0]) && this.unknownEntries(chunksRef, pieces).length * ENTRY_READ_BYTES < chunksRef[1]
      ? this.chunkCrcEntries(chunksRef, count, pieces, readRanges)
      : this.chunkCrcs(chunksRef, count));
    // Its failure is the read's (through verify), not an unhandled rejection when the chunks fail first.
    crcs?.catch(() => {});
    const verify = async (read: readonly number[], bytes: readonly Uint8Array[]): Promise<void> => {
      const table = await crcs;
      read.forEach((i, j) => {
        if (bytes[j]!.length !== ranges[i]!.length) corrupt(this.key, `short read in the buffer at byte ${offset}`);
        if (table && crc32(bytes[j]!) !== table[pieces[i]!]) corrupt(this.key, `checksum mismatch in chunk ${pieces[i]} of the buffer at byte ${offset}`);
      });
      // Entries read alone are kept only once their chunks matched them (a damaged answer is not kept).
      if (table && !(table instanceof Uint32Array)) this.keepEntries(chunksRef!, read.map((i) => pieces[i]!), table);
    };
    // Format 1 rows are not checked: only checked chunks are worth keeping across queries.
    const cache = crcs && this.cache;
    // Where the store reads in place, into a reused buffer (see BufferPool), given back once copied out.
    let taken: Uint8Array | undefined;
    try {
      const read = await readRanges(this.store, this.key, ranges, { gapBytes, verify, cache, into: pool && ((bytes) => (taken = pool.take(bytes))) });
      const at = new Map(Array.from(pieces, (c, i) => [c, read[i]!] as const));
      return place((c) => at.get(c)!);
    } finally {
      if (taken !== undefined) pool!.give(taken);
    }
  }

  /**
   * The checksums of chunks `pieces` of a buffer whose chunk table is `ref`: those kept from earlier
   * reads, the others read as 4-byte ranges of the table (not the table: a remote query would
   * otherwise fetch a checksum per 4 KiB of the whole column). The table's own checksum cannot be
   * checked on a part of it; each entry is checked by its chunk instead, as damage to either makes
   * them differ. Indexed by chunk, as the whole table is.
   */
  private async chunkCrcEntries(ref: BufferRef, count: number, pieces: Int32Array, readRanges: typeof import("./range-reads.js").readRanges): Promise<Record<number, number>> {
    const known = this.#chunkCrcEntries.get(ref[0]);
    const missing = this.unknownEntries(ref, pieces);
    if (ref[1] !== count * 4) corrupt(this.key, `a chunk checksum table has ${ref[1] / 4} entries, its buffer ${count} chunks`);
    const read = missing.length === 0 ? [] : await readRanges(this.store, this.key, missing.map((c) => ({ offset: ref[0] + c * 4, length: 4 })), { gapBytes: 0 });
    const entries: Record<number, number> = {};
    for (const c of pieces) {
      const kept = known?.get(c);
      if (kept !== undefined) entries[c] = kept;
    }
    missing.forEach((c, i) => {
      const b = read[i]!;
      if (b.length !== 4) corrupt(this.key, `short read in the chunk checksum table at byte ${ref[0]}`);
      entries[c] = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
    });
    return entries;
  }

  /** Chunks among `pieces` whose checksum was not kept from an earlier read. */
  private unknownEntries(ref: BufferRef, pieces: Int32Array): number[] {
    const known = this.#chunkCrcEntries.get(ref[0]);
    return known === undefined ? Array.from(pieces) : Array.from(pieces).filter((c) => !known.has(c));
  }

  private keepEntries(ref: BufferRef, chunks: readonly number[], entries: Record<number, number>): void {
    let known = this.#chunkCrcEntries.get(ref[0]);
    if (known === undefined) this.#chunkCrcEntries.set(ref[0], (known = new Map()));
    for (const c of chunks) known.set(c, entries[c]!);
  }

  private chunkCrcs(ref: BufferRef, count: number): Promise<Uint32Array> {
    let table = this.#chunkCrcs.get(ref[0]);
    if (table === undefined) {
      table = this.read(ref, true).then((bytes) => {
        if (bytes.length !== count * 4) corrupt(this.key, `a chunk checksum table has ${bytes.length / 4} entries, its buffer ${count} chunks`);
        return new Uint32Array(bytes.buffer, bytes.byteOffset, count);
      });
      this.#chunkCrcs.set(ref[0], table);
      table.catch(() => this.#chunkCrcs.delete(ref[0]));
    }
    return table;
  }

  /** Buffer `ref`, checked. `together`: through the store's `getRanges`, batched with the file's other asks of this task. */
  private async read(ref: BufferRef, together = false): Promise<Uint8Array> {
    const [offset, length, crc] = ref;
    const bytes = together && this.store.getRanges && length > 0 ? (await this.store.getRanges(this.key, [{ offset, length }]))[0]! : await this.store.getRange(this.key, offset, length);
    if (bytes.length !== length || crc32(bytes) !== crc) corrupt(this.key, `checksum mismatch in the buffer at byte ${offset}`);
    // Typed-array views need their element alignment; stores normally return fresh buffers.
    return bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  }

  private async decode(type: DataType, layout: ColumnLayout): Promise<Column> {
    const n = layout.length;
    // A column's buffers are read at once (over HTTP: one round trip, not one per buffer).
    const [validity, offsets, values] = await Promise.all([
      layout.validity ? this.read(layout.validity) : null,
      type.kind === "utf8" ? this.u32(layout.offsets, n + 1) : undefined,
      type.kind === "list" ? undefined : this.read(need(layout.values, this.key)),
    ]);
    if (validity !== null && validity.length !== n) corrupt(this.key, "validity length mismatch");
    if (type.kind === "utf8") return { type, length: n, validity, data: decodeStrings(offsets!, values!, this.key) };
    if (type.kind === "list") {
      const offsets = await this.u32(layout.offsets, n + 1);
      const child = await this.decode(type.item, need(layout.child, this.key));
      checkOffsets(offsets, child.length, this.key);
      const data: (unknown[] | null)[] = new Array(n);
      for (let i = 0; i < n; i++) {
        if (validity !== null && validity[i] === 0) { data[i] = null; continue; }
        const items: unknown[] = [];
        for (let j = offsets[i]!; j < offsets[i + 1]!; j++) items.push(readValue(child, j));
        data[i] = items;
      }
      return { type, length: n, validity, data };
    }
    const bytes = values!;
    const Ctor = numericConstructor(type);
    const per = type.kind === "vector" ? vectorStride(type) : 1;
    if (bytes.length !== n * per * Ctor.BYTES_PER_ELEMENT) corrupt(this.key, `column buffer has ${bytes.length} bytes, expected ${n * per * Ctor.BYTES_PER_ELEMENT}`);
    const data = new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, n * per) as NumericArray | BigInt64Array;
    return { type, length: n, validity, data };
  }

  private async u32(ref: BufferRef | undefined, count: number): Promise<Uint32Array> {
    const bytes = await this.read(need(ref, this.key));
    if (bytes.length !== count * 4) corrupt(this.key, "offsets buffer has the wrong length");
    return new Uint32Array(bytes.buffer, bytes.byteOffset, count);
  }
}

/** Bytes per row of a fixed-width type (a vector's whole row). */
export function rowBytes(type: DataType): number {
  return numericConstructor(type).BYTES_PER_ELEMENT * (type.kind === "vector" ? vectorStride(type) : 1);
}

/**
 * Whether range-reading `rows` of a fixed-width column of `numRows` rows beats loading the column:
 * row reads fetch whole checked chunks (`chunkBytesFor`), so they pay while the rows touch at most
 * `share` (default 1/8) of the column's chunks.
 */
export function fewChunks(type: DataType, numRows: number, rows: ArrayLike<number>, share = 1 / 8): boolean {
  if (!isFixedWidth(type)) return false;
  const perChunk = Math.max(1, Math.floor(chunkBytesFor(type) / rowBytes(type)));
  const chunks = new Set<number>();
  for (let i = 0; i < rows.length; i++) chunks.add(Math.floor(rows[i]! / perChunk));
  return chunks.size <= share * Math.ceil(numRows / perChunk);
}

/** Types whose rows have one width, so single rows can be range-read (see `readRows`). */
export function isFixedWidth(type: DataType): boolean {
  return type.kind === "vector" || type.kind === "bool" || type.kind === "int" || type.kind === "float" || type.kind === "timestamp";
}

function need<T>(value: T | undefined, key: string): T {
  if (value === undefined) corrupt(key, "a column lacks a buffer its type needs");
  return value;
}

function checkOffsets(offsets: Uint32Array, end: number, key: string): void {
  if (offsets[0] !== 0 || offsets[offsets.length - 1] !== end) corrupt(key, "offsets do not span their values");
  for (let i = 1; i < offsets.length; i++) if (offsets[i]! < offsets[i - 1]!) corrupt(key, "offsets go backwards");
}

function decodeStrings(offsets: Uint32Array, values: Uint8Array, key: string): string[] {
  checkOffsets(offsets, values.length, key);
  const n = offsets.length - 1;
  const out = new Array<string>(n);
  let ascii = true;
  for (let i = 0; i < values.length; i++) if (values[i]! >= 0x80) { ascii = false; break; }
  const dec = new TextDecoder("utf-8", { fatal: true });
  try {
    if (ascii) {
      // One decode for the whole buffer; byte offsets equal character offsets in ASCII.
      const all = dec.decode(values);
      for (let i = 0; i < n; i++) out[i] = all.slice(offsets[i], offsets[i + 1]);
    } else {
      for (let i = 0; i < n; i++) out[i] = dec.decode(values.subarray(offsets[i], offsets[i + 1]));
    }
  } catch {
    corrupt(key, "a string is not valid UTF-8");
  }
  return out;
}

function checkFooter(footer: FragmentFooter, key: string, footerStart: number): void {
  if (typeof footer !== "object" || footer === null || !Number.isInteger(footer.numRows) || footer.numRows < 0 || !Array.isArray(footer.columns)) {
    corrupt(key, "footer has the wrong shape");
  }
  if (footer.format !== undefined && footer.format > FRAGMENT_FORMAT_VERSION) {
    throw createError("UNSUPPORTED", `Fragment file ${key} is format ${footer.format}; this version of Quiver reads formats up to ${FRAGMENT_FORMAT_VERSION}. Upgrade quiverdb to read it.`, { file: key, format: footer.format });
  }
  const checkSize = (size: unknown): void => {
    if (size !== undefined && !(Number.isInteger(size) && (size as number) > 0)) corrupt(key, "a chunk size is not a positive integer");
  };
  checkSize(footer.chunkBytes);
  const checkRef = (ref: unknown): void => {
    if (ref === undefined) return;
    if (!Array.isArray(ref) || ref.length !== 3 || !ref.every((x) => Number.isInteger(x) && x >= 0)) corrupt(key, "a buffer reference is malformed");
    if (ref[0] < ALIGNMENT || ref[0] + ref[1] > footerStart) corrupt(key, "a buffer lies outside the file's data area");
  };
  const checkLayout = (l: ColumnLayout, depth: number): void => {
    if (depth > 32 || typeof l !== "object" || l === null || !Number.isInteger(l.length) || l.length < 0) corrupt(key, "a column layout is malformed");
    checkRef(l.validity); checkRef(l.values); checkRef(l.offsets); checkRef(l.valueChunks); checkRef(l.validityChunks); checkSize(l.chunkBytes);
    if (l.child !== undefined) checkLayout(l.child, depth + 1);
  };
  for (const c of footer.columns) {
    if (typeof c?.name !== "string" || typeof c.type !== "object" || c.type === null) corrupt(key, "a column entry is malformed");
    if (c.length !== footer.numRows) corrupt(key, `column "${c.name}" has ${c.length} rows, the fragment ${footer.numRows}`);
    checkLayout(c, 0);
  }
}
