/**
 * The byte layout every index file shares (little-endian, version 1):
 *
 *   offset  bytes
 *   0       4     magic "QVIX"
 *   4       2     format version (1)
 *   6       2     reserved, 0
 *   8       4     metaLength: bytes of UTF-8 JSON after the preamble
 *   12      4     headLength: bytes from offset 0 needed to open the index — preamble, meta and
 *                 every resident section; a multiple of 16
 *   16      …     meta JSON: { kind, metric, dim, size, params, sections: { name: [offset, length] } }
 *   data    …     sections, each starting on a 16-byte boundary; `data` = 16 + metaLength rounded
 *                 up to 16, and section offsets count from `data`
 *
 * Sections inside the head are resident (centroids, codebooks, row ids, graph, …). IVF partition
 * bodies follow the head, each one contiguous, so a reader holding the head can range-read
 * partition p alone (see ivf.ts for the partition table and body layout).
 */
import { createError } from "../errors.js";

export const MAGIC = 0x58495651; // "QVIX" read as a little-endian u32
export const FORMAT_VERSION = 1;
/** Bytes to read first: they hold the head's length. */
export const PREAMBLE_BYTES = 16;

export interface IndexMeta {
  kind: string;
  metric: string;
  dim: number;
  size: number;
  params: Record<string, number | string | boolean>;
  /** name → [offset from the data start, byte length] */
  sections: Record<string, [number, number]>;
}

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/** Assembles an index file: resident sections first, then bodies that stay out of the head. */
export class IndexWriter {
  readonly #head: { name: string; bytes: Uint8Array }[] = [];
  readonly #bodies: Uint8Array[] = [];
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
    const at = this.#bodyBytes;
    this.#bodies.push(bytes);
    this.#bodyBytes += align16(bytes.byteLength);
    return at;
  }

  /** Offset (from the data start) where the bodies begin. */
  get bodiesStart(): number {
    return this.#headBytes;
  }

  finish(meta: Omit<IndexMeta, "sections">): Uint8Array {
    const sections: Record<string, [number, number]> = {};
    let at = 0;
    for (const s of this.#head) {
      sections[s.name] = [at, s.bytes.byteLength];
      at += align16(s.bytes.byteLength);
    }
    const json = new TextEncoder().encode(JSON.stringify({ ...meta, sections }));
    const data = align16(PREAMBLE_BYTES + json.byteLength);
    const headLength = data + this.#headBytes;
    const out = new Uint8Array(headLength + this.#bodyBytes);
    const view = new DataView(out.buffer);
    view.setUint32(0, MAGIC, true);
    view.setUint16(4, FORMAT_VERSION, true);
    view.setUint32(8, json.byteLength, true);
    view.setUint32(12, headLength, true);
    out.set(json, PREAMBLE_BYTES);
    for (const s of this.#head) out.set(s.bytes, data + sections[s.name]![0]);
    let body = headLength;
    for (const b of this.#bodies) {
      out.set(b, body);
      body += align16(b.byteLength);
    }
    return out;
  }
}

/** headLength from the first PREAMBLE_BYTES bytes of an index file. */
export function readHeadLength(preamble: Uint8Array): number {
  if (preamble.byteLength < PREAMBLE_BYTES) throw createError("CORRUPT_FILE", `An index file starts with ${PREAMBLE_BYTES} bytes of preamble; got ${preamble.byteLength}.`);
  const view = new DataView(preamble.buffer, preamble.byteOffset, PREAMBLE_BYTES);
  if (view.getUint32(0, true) !== MAGIC) throw createError("CORRUPT_FILE", "Not a Quiver index file (bad magic bytes).");
  const version = view.getUint16(4, true);
  if (version !== FORMAT_VERSION) throw createError("CORRUPT_FILE", `Index format version ${version} is not supported (this build reads version ${FORMAT_VERSION}).`, { version });
  return view.getUint32(12, true);
}

/** A parsed head: meta plus typed copies of its sections. */
export class IndexHead {
  readonly meta: IndexMeta;
  /** Absolute offset of the data start (section and body offsets count from here). */
  readonly dataStart: number;
  readonly headLength: number;
  readonly #bytes: Uint8Array;

  constructor(input: Uint8Array) {
    // A plain view: Node's Buffer (a Uint8Array subclass) shares memory on slice() instead of copying.
    const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    this.headLength = readHeadLength(bytes);
    if (bytes.byteLength < this.headLength) throw createError("CORRUPT_FILE", `The index head is ${this.headLength} bytes but only ${bytes.byteLength} were given.`);
    const metaLength = new DataView(bytes.buffer, bytes.byteOffset, PREAMBLE_BYTES).getUint32(8, true);
    try {
      this.meta = JSON.parse(new TextDecoder().decode(bytes.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + metaLength))) as IndexMeta;
    } catch (cause) {
      throw createError("CORRUPT_FILE", "The index metadata is not valid JSON.", {}, cause);
    }
    this.dataStart = align16(PREAMBLE_BYTES + metaLength);
    this.#bytes = bytes;
  }

  has(name: string): boolean {
    return name in this.meta.sections;
  }

  /** A copy of a section's bytes (copies are aligned for any typed array). */
  bytes(name: string): Uint8Array {
    const entry = this.meta.sections[name];
    if (!entry) throw createError("CORRUPT_FILE", `The index file lacks its "${name}" section.`, { section: name });
    const [offset, length] = entry;
    const start = this.dataStart + offset;
    if (start + length > this.headLength) throw createError("CORRUPT_FILE", `Section "${name}" runs past the head.`, { section: name });
    return this.#bytes.slice(start, start + length);
  }

  f32(name: string): Float32Array {
    const b = this.bytes(name);
    return new Float32Array(b.buffer, 0, b.byteLength >> 2);
  }

  f64(name: string): Float64Array {
    const b = this.bytes(name);
    return new Float64Array(b.buffer, 0, b.byteLength >> 3);
  }

  i32(name: string): Int32Array {
    const b = this.bytes(name);
    return new Int32Array(b.buffer, 0, b.byteLength >> 2);
  }

  /** Bytes [offset, offset + length) counted from the data start, when they lie in what was given. */
  slice(offset: number, length: number): Uint8Array | undefined {
    const start = this.dataStart + offset;
    return start + length <= this.#bytes.byteLength ? this.#bytes.subarray(start, start + length) : undefined;
  }
}
