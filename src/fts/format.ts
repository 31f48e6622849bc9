/**
 * The FTS index file, format version 1 (docs/FTS.md draws it in full):
 *
 *   "QFTS" · u8 version · u8 0 · u16 0 · u32 bodyLength · body · u32 CRC-32 of everything before it
 *
 *   body    options (JSON string) · numDocs · rowsSorted (u8) · rows · numFields · field*
 *   field   name · docCount · numTerms · term*            (terms in ascending UTF-8 byte order)
 *   term    sharedPrefix · suffixLength · suffix bytes · df · df doc gaps · df (tf − 1)
 *           · [positions: per posting, tf position gaps]
 *
 * Every integer is a varint. Rows are gaps from the previous row when ascending, else plain values.
 * Doc gaps and position gaps are (value − previous − 1), the first one the value itself. Document
 * lengths are not stored: each is the sum of its postings' tf, and that is also how the total is
 * checked. Decoding validates every count, order and bound, so any damage ends in CORRUPT_FILE.
 */
import { ByteReader, ByteWriter, corrupt, crc32 } from "./bytes.js";
import { FieldIndex } from "./field.js";
import { U32List, type Segment } from "./postings.js";

export const FTS_MAGIC = [0x51, 0x46, 0x54, 0x53] as const; // "QFTS"
export const FTS_FORMAT_VERSION = 1;
const HEADER = 12;

const encoder = new TextEncoder();

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export interface EncodedIndex {
  options: unknown;
  rows: ArrayLike<number>;
  fields: FieldIndex[];
}

export function encodeIndex({ options, rows, fields }: EncodedIndex): Uint8Array {
  const w = new ByteWriter(1 << 16);
  for (const b of FTS_MAGIC) w.byte(b);
  w.byte(FTS_FORMAT_VERSION);
  w.byte(0);
  w.byte(0);
  w.byte(0);
  w.u32(0); // body length, patched below
  w.string(JSON.stringify(options));
  const n = rows.length;
  w.varint(n);
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) sorted = rows[i]! >= rows[i - 1]!;
  w.byte(sorted ? 1 : 0);
  for (let i = 0; i < n; i++) w.varint(sorted && i > 0 ? rows[i]! - rows[i - 1]! : rows[i]!);
  w.varint(fields.length);
  for (const f of fields) {
    const seg = f.compact();
    w.string(f.name);
    w.varint(f.docCount);
    const live = f.termText.map((_, t) => t).filter((t) => f.df.data[t]! > 0);
    const bytes = f.termText.map((t) => encoder.encode(t));
    live.sort((a, b) => compareBytes(bytes[a]!, bytes[b]!));
    w.varint(live.length);
    let prev = new Uint8Array(0);
    for (const t of live) {
      const cur = bytes[t]!;
      let shared = 0;
      while (shared < prev.length && shared < cur.length && prev[shared] === cur[shared]) shared++;
      w.varint(shared);
      w.varint(cur.length - shared);
      w.bytes(cur.subarray(shared));
      prev = cur;
      const lo = seg!.termStart[t]!;
      const hi = seg!.termStart[t + 1]!;
      w.varint(hi - lo);
      for (let p = lo; p < hi; p++) w.varint(p === lo ? seg!.docs[p]! : seg!.docs[p]! - seg!.docs[p - 1]! - 1);
      for (let p = lo; p < hi; p++) w.varint(seg!.tfs[p]! - 1);
      if (f.withPositions) {
        for (let p = lo; p < hi; p++) {
          const a = seg!.posStart![p]!;
          const b = seg!.posStart![p + 1]!;
          for (let q = a; q < b; q++) w.varint(q === a ? seg!.positions![q]! : seg!.positions![q]! - seg!.positions![q - 1]! - 1);
        }
      }
    }
  }
  const bodyLength = w.length - HEADER;
  w.u32(0); // checksum, patched below
  const out = w.finish();
  const view = new DataView(out.buffer);
  view.setUint32(8, bodyLength, true);
  view.setUint32(out.length - 4, crc32(out, 0, out.length - 4), true);
  return out;
}

export interface DecodedIndex {
  options: unknown;
  rows: Float64Array;
  fields: FieldIndex[];
}

const MAX_POSITION = 0xffffffff;

/** Parses and validates; `withPositions` comes from the decoded options. */
export function decodeIndex(bytes: Uint8Array, withPositions: (options: unknown) => boolean): DecodedIndex {
  if (!(bytes instanceof Uint8Array)) corrupt("expected a Uint8Array");
  if (bytes.length < HEADER + 4) corrupt(`only ${bytes.length} bytes`);
  for (let i = 0; i < 4; i++) if (bytes[i] !== FTS_MAGIC[i]) corrupt("not a Quiver full-text index (bad magic)");
  if (bytes[4] !== FTS_FORMAT_VERSION) corrupt(`format version ${bytes[4]} is not supported (this build reads ${FTS_FORMAT_VERSION})`);
  if (bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) corrupt("reserved header bytes are not zero");
  const head = new ByteReader(bytes, 8);
  const bodyLength = head.u32();
  if (bodyLength !== bytes.length - HEADER - 4) corrupt(`body length ${bodyLength} does not match the ${bytes.length}-byte file (truncated?)`);
  const stored = new ByteReader(bytes, bytes.length - 4).u32();
  if (stored !== crc32(bytes, 0, bytes.length - 4)) corrupt("checksum mismatch");

  const r = new ByteReader(bytes, HEADER, bytes.length - 4);
  let options: unknown;
  try {
    options = JSON.parse(r.string("options"));
  } catch (e) {
    if (e instanceof SyntaxError) corrupt("options are not valid JSON");
    throw e;
  }
  const positions = withPositions(options);
  const numDocs = r.count("document count");
  const sorted = r.byte();
  if (sorted > 1) corrupt("bad row-order flag");
  const rows = new Float64Array(numDocs);
  for (let i = 0; i < numDocs; i++) {
    const v = r.varint();
    rows[i] = sorted && i > 0 ? rows[i - 1]! + v : v;
    if (rows[i]! > Number.MAX_SAFE_INTEGER) corrupt("row number out of range");
  }
  const numFields = r.count("column count");
  const fields: FieldIndex[] = [];
  const names = new Set<string>();
  for (let fi = 0; fi < numFields; fi++) {
    const name = r.string("column name");
    if (names.has(name)) corrupt(`column "${name}" appears twice`);
    names.add(name);
    fields.push(decodeField(r, name, numDocs, positions));
  }
  if (r.remaining !== 0) corrupt(`${r.remaining} unexpected bytes after the last column`);
  return { options, rows, fields };
}

const decoder = new TextDecoder("utf-8", { fatal: true });

function decodeField(r: ByteReader, name: string, numDocs: number, withPositions: boolean): FieldIndex {
  const f = new FieldIndex(name, withPositions);
  const docCount = r.varintIn(0, numDocs, "documents with text");
  const numTerms = r.count("term count", 4);
  const termStart = new Uint32Array(numTerms + 1);
  const docs = new U32List(Math.min(r.remaining, 1 << 16));
  const tfs = new U32List(Math.min(r.remaining, 1 << 16));
  const posStart = withPositions ? new U32List(Math.min(r.remaining, 1 << 16)) : undefined;
  const positions = withPositions ? new U32List(Math.min(r.remaining, 1 << 16)) : undefined;
  posStart?.push(0);
  const docLen = new Float64Array(numDocs);
  let prev = new Uint8Array(0);
  for (let t = 0; t < numTerms; t++) {
    const shared = r.varintIn(0, prev.length, "shared prefix");
    const suffix = r.bytes(r.count("term length"));
    const cur = new Uint8Array(shared + suffix.length);
    cur.set(prev.subarray(0, shared));
    cur.set(suffix, shared);
    if (t > 0 && compareBytes(prev, cur) >= 0) corrupt(`terms out of order at term ${t} of column "${name}"`);
    let text: string;
    try {
      text = decoder.decode(cur);
    } catch {
      return corrupt(`term ${t} of column "${name}" is not valid UTF-8`);
    }
    prev = cur;
    const df = r.varintIn(1, Math.min(docCount, r.remaining), "document frequency");
    const base = docs.length;
    let d = -1;
    for (let i = 0; i < df; i++) {
      d += r.varint() + 1;
      if (d >= numDocs) corrupt(`document ${d} out of range in column "${name}"`);
      docs.push(d);
    }
    for (let i = 0; i < df; i++) {
      const tf = r.varintIn(0, MAX_POSITION - 1, "term frequency") + 1;
      tfs.push(tf);
      docLen[docs.data[base + i]!]! += tf;
    }
    if (positions && posStart) {
      for (let i = 0; i < df; i++) {
        const tf = tfs.data[base + i]!;
        if (tf > r.remaining) corrupt("unexpected end of positions");
        let p = -1;
        for (let q = 0; q < tf; q++) {
          p += r.varint() + 1;
          if (p > MAX_POSITION) corrupt("position out of range");
          positions.push(p);
        }
        posStart.push(positions.length);
      }
    }
    termStart[t + 1] = docs.length;
    f.terms.set(text, t);
    f.termText.push(text);
    f.df.push(df);
  }
  let withText = 0;
  let total = 0;
  for (let d = 0; d < numDocs; d++) {
    const len = docLen[d]!;
    if (len > MAX_POSITION) corrupt("document length out of range");
    f.docLen.push(len);
    if (len > 0) withText++;
    total += len;
  }
  if (withText > docCount) corrupt(`column "${name}" has ${withText} documents with terms but claims ${docCount} with text`);
  f.docCount = docCount;
  f.totalLen = total;
  const seg: Segment = {
    numTerms,
    termStart,
    docs: docs.view().slice(),
    tfs: tfs.view().slice(),
    posStart: posStart?.view().slice(),
    positions: positions?.view().slice(),
  };
  f.main = numTerms > 0 ? seg : undefined;
  return f;
}
