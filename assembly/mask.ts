// Query filters inside the IVF partition scans (pq_adc, sq_ip, rq_scan, f32_scan): which rows of a
// partition a query may return.
//
// Shapes:
//   positions  n i32         index position of each partition row (the partition's body)
//   allowed    bitmap u8     over index positions: position p is bit p & 7 of byte p >> 3; or 0,
//                            every row allowed (positions is then not read)
//   out        n f32         a masked row's slot gets NaN: topk never selects NaN, so buffer
//                            positions stay those of the unmasked scan
//
// A scan walks its rows in groups of 32. The group's allowed bits are gathered into one word
// (bit j = row r0 + j; no SIMD gather in WebAssembly, so one byte load per row); a group with any
// masked row is first filled with NaN (four lanes per store in the SIMD build), and then each run
// of consecutive allowed rows is scored by the codec's dense loop, lowest first. So an allowed
// row's distance is exactly the unmasked scan's, and a group with no allowed row costs its 32 bit
// tests and 8 stores: its codes are never read.
//
//   bits   0b0111_0000_1100   runs: rows 2–3, then rows 8–10

const GROUP: i32 = 32;

// maskGroup runs once per 32 rows, so it stays one call (one body for the four scans).

/**
 * Starts the group of rows [r0, r0 + count), count ≤ 32: returns its allowed bits (bit j = row
 * r0 + j) and, when any row is masked, first fills all `count` slots of `out` with NaN (the
 * allowed ones are overwritten by the scan).
 */
export function maskGroup(positions: usize, allowed: usize, r0: i32, count: i32, out: usize): u32 {
  if (allowed == 0) return count == GROUP ? 0xffffffff : (<u32>1 << <u32>count) - 1;
  let bits: u32 = 0;
  let p = positions + (<usize>r0 << 2);
  for (let j = 0; j < count; j++, p += 4) {
    let pos = load<u32>(p);
    bits |= ((<u32>load<u8>(allowed + <usize>(pos >> 3)) >> (pos & 7)) & 1) << <u32>j;
  }
  if (<i32>popcnt<u32>(bits) == count) return bits;
  let o = out + (<usize>r0 << 2);
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let nan = f32x4.splat(NaN);
    for (; i + 4 <= count; i += 4) v128.store(o + (<usize>i << 2), nan);
  }
  for (; i < count; i++) store<f32>(o + (<usize>i << 2), NaN);
  return bits;
}

/** The lowest run of set bits of `bits` (≠ 0): its first bit in bits 0–7, its length in bits 8 and up. */
// @ts-ignore: decorator
@inline export function lowestRun(bits: u32): i32 {
  let first = ctz<u32>(bits);
  return <i32>(first | (ctz<u32>(~(bits >> first)) << 8));
}

/** `bits` without its lowest run: adding the run's lowest bit carries through the run (and off the top). */
// @ts-ignore: decorator
@inline export function dropLowestRun(bits: u32): u32 {
  return bits & (bits + (bits & (~bits + 1)));
}

/** Rows in the group starting at r0 of an n-row scan. */
// @ts-ignore: decorator
@inline export function groupSize(r0: i32, n: i32): i32 {
  return min<i32>(GROUP, n - r0);
}
