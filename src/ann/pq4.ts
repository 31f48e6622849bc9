/**
 * The storage layout of 4-bit PQ codes for the fast scan (assembly/pq4.ts): rows in blocks of 32,
 * each block sub-space by sub-space, two rows' codes per byte.
 *
 *   row-major  n × M u8             one code (0–15) per byte, as the encoder writes them
 *   blocked    ⌈n/32⌉ × M × 16 u8   block b, sub-space m at (b·M + m)·16; byte j holds row 32b + j
 *                                   in its low nibble and row 32b + 16 + j in its high nibble;
 *                                   rows past n are code 0
 *
 * So a partition of n rows keeps ⌈n/32⌉·16·M bytes: M/2 bytes per row, plus the tail's padding.
 */
import { createError } from "../errors.js";

/** Rows per block of the blocked layout. */
export const PQ4_BLOCK = 32;

/** Sub-spaces the fast scan sums in u16 lanes without overflow: 255 · 256 < 2^16. */
export const PQ4_MAX_SUBVECTORS = 256;

/**
 * refineFactor a 4-bit IVF_PQ search uses when none is given and vectors can be fetched: 16
 * centroids per sub-space rank candidates coarsely (docs/INDEXES.md has the measurements).
 */
export const PQ4_DEFAULT_REFINE = 10;

/**
 * Default numSubVectors for 4-bit codes: the divisor of dim nearest dim / 2 (two floats per
 * sub-vector: dim / 4 bytes per row, as 8 bits at dim / 4 sub-vectors), and at most 256.
 */
export function defaultSubVectors4(dim: number): number {
  const target = Math.min(PQ4_MAX_SUBVECTORS, Math.max(1, Math.round(dim / 2)));
  let best = 1;
  for (let m = 1; m <= Math.min(dim, PQ4_MAX_SUBVECTORS); m++) {
    if (dim % m === 0 && Math.abs(m - target) < Math.abs(best - target)) best = m;
  }
  return best;
}

/** Bytes of n rows of M 4-bit codes in the blocked layout. */
export function blockedBytes(n: number, M: number): number {
  return Math.ceil(n / PQ4_BLOCK) * M * 16;
}

/** Row-major codes (n × M, 0–15 each) → the blocked layout. */
export function packBlocked(codes: Uint8Array, M: number): Uint8Array {
  if (codes.length % M !== 0) throw createError("DIMENSION_MISMATCH", `${codes.length} codes are not whole rows of ${M}.`);
  return packBlockedAt(codes, M, new Uint8Array(blockedBytes(codes.length / M, M)), 0);
}

/**
 * Writes row-major codes as rows `first`, `first` + 1, … of the blocked layout in `out`, whose
 * nibbles for those rows must be 0: the blocked bytes of `first` rows (their tail block's padding
 * is code 0) with zeros after them become the blocked bytes of all the rows — an append that
 * never unpacks the rows already there.
 */
export function packBlockedAt(codes: Uint8Array, M: number, out: Uint8Array, first: number): Uint8Array {
  const n = codes.length / M;
  if (out.length < blockedBytes(first + n, M)) throw createError("INVALID_ARGUMENT", `${first + n} rows of ${M} 4-bit codes need ${blockedBytes(first + n, M)} bytes, got ${out.length}.`);
  for (let i = 0; i < n; i++) {
    const r = first + i;
    const j = r % PQ4_BLOCK;
    const base = (r - j) * M * 16 / PQ4_BLOCK + (j & 15);
    const shift = j < 16 ? 0 : 4;
    for (let m = 0; m < M; m++) out[base + m * 16]! |= (codes[i * M + m]! & 15) << shift;
  }
  return out;
}

/** The blocked layout of n rows → row-major codes (n × M). */
export function unpackBlocked(blocked: Uint8Array, n: number, M: number): Uint8Array {
  if (blocked.length < blockedBytes(n, M)) throw createError("CORRUPT_FILE", `${n} rows of ${M} 4-bit codes need ${blockedBytes(n, M)} bytes, got ${blocked.length}.`);
  const out = new Uint8Array(n * M);
  for (let r = 0; r < n; r++) {
    const j = r % PQ4_BLOCK;
    const base = (r - j) * M * 16 / PQ4_BLOCK + (j & 15);
    const shift = j < 16 ? 0 : 4;
    for (let m = 0; m < M; m++) out[r * M + m] = (blocked[base + m * 16]! >> shift) & 15;
  }
  return out;
}
