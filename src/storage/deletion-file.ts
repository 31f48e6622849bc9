/**
 * Deletion files (`_deletions/<fragment>-<id>.qvd`): which rows of one fragment are deleted, as a
 * bitmap (bit i of byte i >> 3, least significant first), inside a checked envelope. A fragment's
 * data file never changes; each delete writes a new deletion file holding all deletions so far.
 */
import { corrupt, openEnvelope, sealEnvelope } from "./envelope.js";

const MAGIC = "QVDL";
export const DELETION_FORMAT_VERSION = 2;

/** `deleted` has one byte per row (1 = deleted), as fragments hold it in memory. */
export function encodeDeletions(deleted: Uint8Array): Uint8Array {
  const payload = new Uint8Array(4 + Math.ceil(deleted.length / 8));
  new DataView(payload.buffer).setUint32(0, deleted.length, true);
  for (let i = 0; i < deleted.length; i++) if (deleted[i] === 1) payload[4 + (i >> 3)]! |= 1 << (i & 7);
  return sealEnvelope(MAGIC, DELETION_FORMAT_VERSION, payload);
}

export function decodeDeletions(bytes: Uint8Array, numRows: number, what: string): Uint8Array {
  const { payload } = openEnvelope(MAGIC, DELETION_FORMAT_VERSION, bytes, what);
  if (payload.length < 4) corrupt(what, "no row count");
  const n = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0, true);
  if (n !== numRows || payload.length !== 4 + Math.ceil(n / 8)) corrupt(what, `it covers ${n} rows, the fragment has ${numRows}`);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (payload[4 + (i >> 3)]! >> (i & 7)) & 1;
  return out;
}
