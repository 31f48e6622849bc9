/**
 * The byte layout every index file shares (little-endian). Version 2, which this build writes:
 *
 *   offset  bytes
 *   0       4     magic "QVIX"
 *   4       2     format version (2)
 *   6       2     reserved, 0
 *   8       4     metaLength: bytes of UTF-8 JSON after the preamble
 *   12      4     headLength: bytes from offset 0 needed to open the index — preamble, meta and
 *                 every resident section; a multiple of 16
 *   16      4     headerCrc: CRC-32 of bytes 0..16, then bytes 20..32, then the meta JSON
 *   20      12    reserved, 0
 *   32      …     meta JSON: { kind, metric, dim, size, params,
 *                              sections: { name: [offset, length, crc32] }, bodies: [crc32, …] }
 *   data    …     sections, each starting on a 16-byte boundary; `data` = 32 + metaLength rounded
 *                 up to 16, and section offsets count from `data`
 *
 * Sections inside the head are resident (centroids, codebooks, row ids, graph, …). IVF partition
 * bodies follow the head, each one contiguous, so a reader holding the head can range-read
 * partition p alone (see ivf.ts for the partition table and body layout).
 *
 * Checksums: the header CRC covers the preamble and the meta, and so every section's and body's
 * CRC listed there; a section is checked when it is first read, a body when it is installed (from
 * the whole file or from its own range read), so a range read verifies exactly what it read.
 * Anything that does not match, or a meta field out of range, is CORRUPT_FILE.
 *
 * Version 3 is version 2's layout, written only for files a version-2 reader would misread: IVF_PQ
 * with 4-bit codes (params.numBits 4, blocked partitions). Builds before them then answer
 * UNSUPPORTED ("upgrade quiverdb") instead of calling the file damaged; every other file stays 2.
 * Version 4 is version 3's, where an IVF index may store its row ids as a `rowIdRuns` section
 * ([position, id] f64 pairs, one per run of consecutive ids) instead of `rowIds` (one f64 per row):
 * written when the ids make at most one run per 16 rows (rows indexed in table order do), so a 1M-row
 * head is 8 MB smaller.
 *
 * Version 1 (written by quiverdb before checksums) had a 16-byte preamble, no CRCs and
 * `[offset, length]` section entries; it is still read, with structural checks only.
 */
import { createError } from "../errors.js";
import { crc32 } from "../storage/crc32.js";

export const MAGIC = 0x58495651; // "QVIX" read as a little-endian u32
/** The newest version this build reads (it writes 2, or 3 or 4 where an older reader would misread). */
export const FORMAT_VERSION = 4;
/** Bytes to read first: they hold the head's length (and, in version 2, the header checksum). */
export const PREAMBLE_BYTES = 32;
const V1_PREAMBLE_BYTES = 16;

export interface IndexMeta {
  kind: string;
  metric: string;
  dim: number;
  size: number;
  params: Record<string, number | string | boolean>;
  /** name → [offset from the data start, byte length, crc32 (version 2)] */
  sections: Record<string, [number, number] | [number, number, number]>;
  /** CRC-32 of each body, in the order they were added (version 2). */
  bodies?: number[];
}

/** CORRUPT_FILE for an index file; `what` names the file when the caller knows it. */
export function corruptIndex(why: string, details: Record<string, unknown> = {}, cause?: unknown): never {
  throw createError("CORRUPT_FILE", `The index file is damaged: ${why}. Rebuild the index (createIndex with replace) or check out an older version.`, details, cause);
}

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/** Assembles an index file: resident sections first, then bodies that stay out of the head. */
export class IndexWriter {
  readonly #head: { name: string; bytes: Uint8Array }[] = [];
  readonly #bodies: Uint8Array[] = [];
  readonly #bodyCrcs: number[] = [];
  #headBytes = 0;
  #bodyBytes = 0;

  /** Adds a resident section (copied as bytes). */
  section(name: string, data: ArrayBufferView): void {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.#head.push({ name, bytes });
    this.#headBytes += align16(bytes.byteLength);
  }

  /** Adds a body after the head; returns its offset from the data start. */
  body(bytes: Uint8Array): number {
    this.#bodies.push(bytes);
    return this.bodyOf(bytes.byteLength, crc32(bytes));
  }

  /**
   * Adds a body known by its length and CRC-32 alone; returns its offset from the data start. Its
   * bytes are the caller's to write after the head (`head`), each body padded to 16 bytes.
   */
  bodyOf(length: number, crc: number): number {
    const at = this.#bodyBytes;
    this.#bodyCrcs.push(crc);
    this.#bodyBytes += align16(length);
    return at;
  }

  /** Offset (from the data start) where the bodies begin. */
  get bodiesStart(): number {
    return this.#headBytes;
  }

  /** Bytes of the bodies, padding included: the file is `head(…)` followed by them. */
  get bodyBytes(): number {
    return this.#bodyBytes;
  }

  /** The whole file: the head and the bodies given to `body`. */
  finish(meta: Omit<IndexMeta, "sections">, version = 2): Uint8Array {
    const head = this.#build(meta, version, this.#bodyBytes);
    let body = head.headLength;
    for (const b of this.#bodies) {
      head.out.set(b, body);
      body += align16(b.byteLength);
    }
    return head.out;
  }

  /** The head alone (headLength bytes): the file up to its bodies, which follow it in the order they were added. */
  head(meta: Omit<IndexMeta, "sections">, version = 2): Uint8Array {
    return this.#build(meta, version, 0).out;
  }

  #build(meta: Omit<IndexMeta, "sections">, version: number, room: number): { out: Uint8Array; headLength: number } {
    const sections: Record<string, [number, number, number]> = {};
    let at = 0;
    for (const s of this.#head) {
      sections[s.name] = [at, s.bytes.byteLength, crc32(s.bytes)];
      at += align16(s.bytes.byteLength);
    }
    const json = new TextEncoder().encode(JSON.stringify({ ...meta, sections, bodies: this.#bodyCrcs }));
    const data = align16(PREAMBLE_BYTES + json.byteLength);
    const headLength = data + this.#headBytes;
    const out = new Uint8Array(headLength + room);
    const view = new DataView(out.buffer);
    view.setUint32(0, MAGIC, true);
    view.setUint16(4, version, true);
    view.setUint32(8, json.byteLength, true);
    view.setUint32(12, headLength, true);
    out.set(json, PREAMBLE_BYTES);
    view.setUint32(16, headerCrc(out.subarray(0, PREAMBLE_BYTES), json), true);
    for (const s of this.#head) out.set(s.bytes, data + sections[s.name]![0]);
    return { out, headLength };
  }
}

function headerCrc(preamble: Uint8Array, meta: Uint8Array): number {
  return crc32(meta, crc32(preamble.subarray(20, 32), crc32(preamble.subarray(0, 16))));
}

/**
 * The format version. One this build does not know is read with version 2's preamble (later
 * versions keep it): IndexHead then tells a damaged version field (the header checksum fails) from
 * a file written by a newer quiverdb (UNSUPPORTED).
 */
function versionOf(preamble: Uint8Array): number {
  if (preamble.byteLength < V1_PREAMBLE_BYTES) corruptIndex(`it is ${preamble.byteLength} bytes, shorter than its preamble`);
  const view = new DataView(preamble.buffer, preamble.byteOffset, V1_PREAMBLE_BYTES);
  if (view.getUint32(0, true) !== MAGIC) corruptIndex("it does not start with the magic bytes QVIX");
  const version = view.getUint16(4, true);
  if (version === 0) corruptIndex("its format version is 0");
  return version;
}

/** headLength from the first PREAMBLE_BYTES bytes of an index file. */
export function readHeadLength(preamble: Uint8Array): number {
  const version = versionOf(preamble);
  const view = new DataView(preamble.buffer, preamble.byteOffset, V1_PREAMBLE_BYTES);
  const metaLength = view.getUint32(8, true);
  const headLength = view.getUint32(12, true);
  const start = version === 1 ? V1_PREAMBLE_BYTES : PREAMBLE_BYTES;
  // The head holds the preamble and the meta, in whole 16-byte units. (The header CRC is checked
  // once the meta is read; these bounds keep a damaged length from asking for absurd reads.)
  if (headLength % 16 !== 0 || headLength < align16(start + metaLength) || metaLength === 0) {
    corruptIndex(`its head length ${headLength} does not fit a ${metaLength}-byte meta`, { headLength, metaLength });
  }
  return headLength;
}

/** A parsed head: meta plus typed copies of its sections. */
export class IndexHead {
  readonly meta: IndexMeta;
  readonly version: number;
  /** Absolute offset of the data start (section and body offsets count from here). */
  readonly dataStart: number;
  readonly headLength: number;
  readonly #bytes: Uint8Array;
  readonly #checked = new Set<string>();

  constructor(input: Uint8Array) {
    // A plain view: Node's Buffer (a Uint8Array subclass) shares memory on slice() instead of copying.
    const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    this.version = versionOf(bytes);
    const start = this.version === 1 ? V1_PREAMBLE_BYTES : PREAMBLE_BYTES;
    if (bytes.byteLength < start) corruptIndex(`it is ${bytes.byteLength} bytes, shorter than its preamble`);
    this.headLength = readHeadLength(bytes);
    if (bytes.byteLength < this.headLength) corruptIndex(`its head is ${this.headLength} bytes but only ${bytes.byteLength} were given`);
    const metaLength = new DataView(bytes.buffer, bytes.byteOffset, V1_PREAMBLE_BYTES).getUint32(8, true);
    const metaBytes = bytes.subarray(start, start + metaLength);
    if (this.version >= 2) {
      const stored = new DataView(bytes.buffer, bytes.byteOffset, PREAMBLE_BYTES).getUint32(16, true);
      if (headerCrc(bytes.subarray(0, PREAMBLE_BYTES), metaBytes) !== stored) corruptIndex("header checksum mismatch");
    }
    if (this.version > FORMAT_VERSION) {
      throw createError("UNSUPPORTED", `Index format version ${this.version} is not supported (this build reads versions 1 to ${FORMAT_VERSION}); upgrade quiverdb or rebuild the index.`, { version: this.version });
    }
    let meta: unknown;
    try {
      meta = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(metaBytes));
    } catch (cause) {
      corruptIndex("its metadata is not valid JSON", {}, cause);
    }
    this.dataStart = align16(start + metaLength);
    this.meta = checkMeta(meta, this.version, this.headLength - this.dataStart);
    this.#bytes = bytes;
  }

  has(name: string): boolean {
    return name in this.meta.sections;
  }

  /** A copy of a section's bytes (copies are aligned for any typed array), checked against its CRC. */
  bytes(name: string): Uint8Array {
    const entry = this.meta.sections[name];
    if (!entry) corruptIndex(`it lacks its "${name}" section`, { section: name });
    const [offset, length, crc] = entry;
    const start = this.dataStart + offset;
    const out = this.#bytes.slice(start, start + length);
    if (crc !== undefined && !this.#checked.has(name)) {
      if (crc32(out) !== crc) corruptIndex(`section "${name}" fails its checksum`, { section: name });
      this.#checked.add(name);
    }
    return out;
  }

  f32(name: string): Float32Array {
    const b = this.#typed(name, 4);
    return new Float32Array(b.buffer, 0, b.byteLength >> 2);
  }

  f64(name: string): Float64Array {
    const b = this.#typed(name, 8);
    return new Float64Array(b.buffer, 0, b.byteLength >> 3);
  }

  i32(name: string): Int32Array {
    const b = this.#typed(name, 4);
    return new Int32Array(b.buffer, 0, b.byteLength >> 2);
  }

  #typed(name: string, width: number): Uint8Array {
    const b = this.bytes(name);
    if (b.byteLength % width !== 0) corruptIndex(`section "${name}" is ${b.byteLength} bytes, not a whole number of ${width}-byte values`, { section: name });
    return b;
  }

  /** Bytes [offset, offset + length) counted from the data start, when they lie in what was given. */
  slice(offset: number, length: number): Uint8Array | undefined {
    const start = this.dataStart + offset;
    return start + length <= this.#bytes.byteLength ? this.#bytes.subarray(start, start + length) : undefined;
  }

  /** Checks body `index` (the order bodies were written in) against its CRC; version 1 has none. */
  verifyBody(index: number, bytes: Uint8Array): void {
    this.bodyCheck()(index, bytes);
  }

  /**
   * `verifyBody` apart from the head: what an index keeps to check the bodies it reads later. It
   * holds the checksum list only, so the head's bytes (row ids, centroids: 10 MB at 1M rows) are
   * not kept alive for the index's life by it.
   */
  bodyCheck(): (index: number, bytes: Uint8Array) => void {
    if (this.version === 1) return () => {};
    const bodies = this.meta.bodies;
    return (index, bytes) => {
      const crc = bodies?.[index];
      if (crc === undefined) corruptIndex(`body ${index} is not listed in its meta`, { body: index });
      if (crc32(bytes) !== crc) corruptIndex(`body ${index} fails its checksum`, { body: index });
    };
  }
}

const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

/** The meta's shape and bounds; every later read may rely on them. */
function checkMeta(m: unknown, version: number, sectionBytes: number): IndexMeta {
  const meta = m as IndexMeta;
  if (typeof meta !== "object" || meta === null) corruptIndex("its metadata is not an object");
  if (typeof meta.kind !== "string" || typeof meta.metric !== "string") corruptIndex("its kind or metric is missing");
  if (!Number.isSafeInteger(meta.dim) || meta.dim < 1 || meta.dim > 1 << 20) corruptIndex(`its dimension ${String(meta.dim)} is out of range`);
  if (!isCount(meta.size)) corruptIndex(`its size ${String(meta.size)} is out of range`);
  if (typeof meta.params !== "object" || meta.params === null) corruptIndex("its params are missing");
  if (typeof meta.sections !== "object" || meta.sections === null) corruptIndex("its section table is missing");
  for (const [name, entry] of Object.entries(meta.sections)) {
    const ok = Array.isArray(entry) && entry.length === (version === 1 ? 2 : 3) && entry.every(isCount) && entry[0] % 16 === 0 && entry[0] + entry[1] <= sectionBytes;
    if (!ok) corruptIndex(`section "${name}" has a malformed entry`, { section: name });
  }
  if (version >= 2 && (!Array.isArray(meta.bodies) || !meta.bodies.every((c) => isCount(c) && c <= 0xffffffff))) corruptIndex("its body checksum list is malformed");
  return meta;
}
