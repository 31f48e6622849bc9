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
// masked row is first filled with NaN (four lanes per store in the SIMD build), and then only
// the set bits are scored, lowest first (ctz). A group with no allowed row costs its 32 bit
// tests and 8 stores; its codes are never read.

const GROUP: i32 = 32;

// groupBits and startGroup run once per 32 rows, so they stay calls (one body for the four scans).

/** The allowed bits of rows [r0, r0 + count), count ≤ 32: bit j = row r0 + j. */
export function groupBits(positions: usize, allowed: usize, r0: i32, count: i32): u32 {
  if (allowed == 0) return count == GROUP ? 0xffffffff : (<u32>1 << <u32>count) - 1;
  let bits: u32 = 0;
  let p = positions + (<usize>r0 << 2);
  for (let j = 0; j < count; j++, p += 4) {
    let pos = load<u32>(p);
    bits |= ((<u32>load<u8>(allowed + <usize>(pos >> 3)) >> (pos & 7)) & 1) << <u32>j;
  }
  return bits;
}

/**
 * Starts group r0 of a scan: NaN into the slots of its masked rows (all `count` slots when any row
 * is masked; the allowed ones are overwritten by the scan). Returns how many rows it allows.
 */
export function startGroup(out: usize, r0: i32, count: i32, bits: u32): i32 {
  let allowed = <i32>popcnt<u32>(bits);
  if (allowed == count) return allowed;
  let o = out + (<usize>r0 << 2);
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let nan = f32x4.splat(NaN);
    for (; i + 4 <= count; i += 4) v128.store(o + (<usize>i << 2), nan);
  }
  for (; i < count; i++) store<f32>(o + (<usize>i << 2), NaN);
  return allowed;
}

/** Rows in the group starting at r0 of an n-row scan. */
// @ts-ignore: decorator
@inline export function groupSize(r0: i32, n: i32): i32 {
  return min<i32>(GROUP, n - r0);
}
