/**
 * The byte primitives of the FTS file format: LEB128 varints for non-negative safe integers
 * (up to 2^53 − 1, at most 8 bytes), length-prefixed UTF-8 strings, little-endian u32, and CRC-32.
 * The reader checks every read against the end of its buffer and throws CORRUPT_FILE, so damaged
 * input can fail but never read out of bounds, loop forever, or ask for a huge allocation.
 */
import { createError } from "../errors.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export class ByteWriter {
  private buf: Uint8Array;
  private len = 0;

  constructor(capacity = 1024) {
    this.buf = new Uint8Array(Math.max(16, capacity));
  }

  get length(): number {
    return this.len;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  u32(v: number): void {
    this.reserve(4);
    new DataView(this.buf.buffer, this.buf.byteOffset).setUint32(this.len, v >>> 0, true);
    this.len += 4;
  }

  /** A non-negative safe integer as LEB128. */
  varint(v: number): void {
    this.reserve(8);
    const b = this.buf;
    let n = this.len;
    while (v >= 0x80) {
      b[n++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[n++] = v;
    this.len = n;
  }

  string(s: string): void {
    const e = encoder.encode(s);
    this.varint(e.length);
    this.bytes(e);
  }

  /** The written bytes (a copy sized to fit). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

export function corrupt(what: string, details: Record<string, unknown> = {}): never {
  throw createError("CORRUPT_FILE", `Full-text index is damaged: ${what}. Rebuild the index (createIndex with replace).`, details);
}

export class ByteReader {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  byte(): number {
    if (this.pos >= this.end) corrupt("unexpected end of data", { offset: this.pos });
    return this.buf[this.pos++]!;
  }

  u32(): number {
    if (this.pos + 4 > this.end) corrupt("unexpected end of data", { offset: this.pos });
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  varint(): number {
    const b = this.buf;
    let p = this.pos;
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (p >= this.end) corrupt("unexpected end of data in a varint", { offset: p });
      const x = b[p++]!;
      v += (x & 0x7f) * scale;
      if (x < 0x80) {
        if (v > Number.MAX_SAFE_INTEGER) break;
        this.pos = p;
        return v;
      }
      scale *= 0x80;
    }
    return corrupt("varint too long", { offset: this.pos });
  }

  /** A varint that must lie in lo..hi. */
  varintIn(lo: number, hi: number, what: string): number {
    const at = this.pos;
    const v = this.varint();
    if (v < lo || v > hi) corrupt(`${what} ${v} is outside ${lo}..${hi}`, { offset: at });
    return v;
  }

  /**
   * A count of items that each take at least `minBytes` bytes: bounded by what is left, so a damaged
   * count cannot make the caller allocate gigabytes.
   */
  count(what: string, minBytes = 1): number {
    return this.varintIn(0, Math.floor(this.remaining / minBytes), what);
  }

  bytes(n: number): Uint8Array {
    if (n > this.remaining) corrupt("unexpected end of data", { offset: this.pos });
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(what: string): string {
    const n = this.count(`${what} length`);
    const at = this.pos;
    try {
      return decoder.decode(this.bytes(n));
    } catch {
      return corrupt(`${what} is not valid UTF-8`, { offset: at });
    }
  }
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, the zlib polynomial). */
export function crc32(data: Uint8Array, start = 0, end = data.length): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const t = crcTable;
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
