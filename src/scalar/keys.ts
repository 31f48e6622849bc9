/**
 * Keys of a scalar index. Ints, floats, timestamps and dates are stored as f64 numbers (timestamps and
 * dates as their epoch count), bools as 0 / 1, strings as UTF-8. Numbers order numerically, strings by
 * UTF-16 code units (the order JavaScript's `<` and the filter evaluator use). NaN is stored but never
 * matched by a comparison, as in the filter evaluator (`NaN = NaN` and `NaN > 1` are false).
 */
export type ScalarKey = number | string;
export type KeyType = "number" | "string";

export function compareKeys(a: ScalarKey, b: ScalarKey): number {
  if (typeof a === "number" && typeof b === "number") {
    if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
    if (Number.isNaN(b)) return -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A range over keys; an absent bound is open. */
export interface KeyRange {
  lower?: ScalarKey;
  lowerInclusive?: boolean;
  upper?: ScalarKey;
  upperInclusive?: boolean;
}

export function inRange(key: ScalarKey, r: KeyRange): boolean {
  if (typeof key === "number" && Number.isNaN(key)) return false;
  if (r.lower !== undefined) {
    const c = compareKeys(key, r.lower);
    if (c < 0 || (c === 0 && r.lowerInclusive === false)) return false;
  }
  if (r.upper !== undefined) {
    const c = compareKeys(key, r.upper);
    if (c > 0 || (c === 0 && r.upperInclusive === false)) return false;
  }
  return true;
}

/**
 * Keys of one page, encoded:
 *   number: n × f64
 *   string: n × u32 byte lengths, then the UTF-8 bytes back to back
 */
export function encodeKeys(type: KeyType, keys: readonly ScalarKey[]): Uint8Array {
  if (type === "number") return new Uint8Array(Float64Array.from(keys as number[]).buffer);
  const utf8 = keys.map((k) => new TextEncoder().encode(k as string));
  const total = utf8.reduce((s, b) => s + b.byteLength, 0);
  const out = new Uint8Array(4 * keys.length + total);
  const view = new DataView(out.buffer);
  let at = 4 * keys.length;
  utf8.forEach((b, i) => {
    view.setUint32(4 * i, b.byteLength, true);
    out.set(b, at);
    at += b.byteLength;
  });
  return out;
}

/** Inverse of encodeKeys; undefined when the bytes do not hold `n` keys (the caller reports CORRUPT_FILE). */
export function decodeKeys(type: KeyType, bytes: Uint8Array, n: number): ScalarKey[] | undefined {
  if (type === "number") {
    if (bytes.byteLength !== 8 * n) return undefined;
    return Array.from(new Float64Array(bytes.slice().buffer));
  }
  if (bytes.byteLength < 4 * n) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const out: string[] = [];
  let at = 4 * n;
  for (let i = 0; i < n; i++) {
    const len = view.getUint32(4 * i, true);
    if (at + len > bytes.byteLength) return undefined;
    try {
      out.push(decoder.decode(bytes.subarray(at, at + len)));
    } catch {
      return undefined;
    }
    at += len;
  }
  return at === bytes.byteLength ? out : undefined;
}
