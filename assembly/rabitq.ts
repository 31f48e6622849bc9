// RaBitQ scan (Gao & Long, SIGMOD 2024): one sign bit per rotated dimension, and a distance
// estimate with an error bound from popcounts of the code against a 4-bit query.
//
// Shapes:
//   planes  4 × bytes u8               bit plane j of the quantized query t ∈ [0, 15]^D:
//                                      bit i of plane j = bit j of t_i (bit i at byte i >> 3, bit i & 7)
//   codes   n × (bytes + 8) u8         row r: [bits: bytes][f32 nr = ‖o − c‖][f32 a = ⟨ō, o'⟩]
//   out     n f32                      estimated distance of each row
//   spread  n f32, or 0                error bound of each row: the distance lies in out ± spread
//                                      (within the bound's confidence; 0: not written)
//   bytes   a multiple of 8
//   positions, allowed   the query's filter (mask.ts): masked rows are not scored
//
// Per row, with S = Σ_i b_i·t_i = Σ_j 2^j · popcount(b ∧ plane_j) and P = popcount(b):
//   est    = cg·nr² + c0 + (nr / a)·(cS·S + cP·P + c1)
//   err    = ce · nr·√(1 − a²) / a
//   out    = est,  spread = err
// The host folds the query's norm, its quantization step and the metric into the constants
// (src/ann/rabitq.ts), so one kernel serves l2, cosine and dot.

import { groupSize, maskGroup } from "./mask";

// @ts-ignore: decorator
@inline function wordCounts(x: u64, p: usize, bytes: usize): u64 {
  // S in the low 32 bits, P in the high 32 bits.
  let s = popcnt<u64>(x & load<u64>(p)) + (popcnt<u64>(x & load<u64>(p + bytes)) << 1)
    + (popcnt<u64>(x & load<u64>(p + 2 * bytes)) << 2) + (popcnt<u64>(x & load<u64>(p + 3 * bytes)) << 3);
  return s | (popcnt<u64>(x) << 32);
}

/**
 * Estimates (and error bounds) of the rows `allowed` lets through (mask.ts; allowed = 0: every
 * row); a masked row's estimate is NaN and its spread slot is left as it was. Returns the rows scored.
 */
export function rq_scan(planes: usize, codes: usize, n: i32, bytes: i32, cg: f32, c0: f32, cS: f32, cP: f32, c1: f32, ce: f32, positions: usize, allowed: usize, out: usize, spread: usize): i32 {
  let b = <usize>bytes;
  let scored = 0;
  for (let r0 = 0; r0 < n; r0 += 32) {
    let bits = maskGroup(positions, allowed, r0, groupSize(r0, n), out);
    scored += <i32>popcnt<u32>(bits);
    while (bits != 0) {
      let r = r0 + <i32>ctz<u32>(bits);
      bits &= bits - 1;
      let row = codes + <usize>r * (b + 8);
      let s: i32 = 0, pc: i32 = 0;
      let i: usize = 0;
      if (ASC_FEATURE_SIMD) {
        //   per byte lane: w = c0 + 2·c1 + 4·c2 + 8·c3 ≤ 120 (fits u8), c = popcnt(code ∧ plane)
        //   i8x16 → i16x8 → i32x4 pairwise widenings, as in hamming.ts
        let accS = i32x4.splat(0), accP = i32x4.splat(0);
        for (; i + 16 <= b; i += 16) {
          let x = v128.load(row + i), q = planes + i;
          let w = i8x16.add(
            i8x16.add(i8x16.popcnt(v128.and(x, v128.load(q))), i8x16.shl(i8x16.popcnt(v128.and(x, v128.load(q + b))), 1)),
            i8x16.add(i8x16.shl(i8x16.popcnt(v128.and(x, v128.load(q + 2 * b))), 2), i8x16.shl(i8x16.popcnt(v128.and(x, v128.load(q + 3 * b))), 3)),
          );
          accS = i32x4.add(accS, i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(w)));
          accP = i32x4.add(accP, i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(x))));
        }
        s = i32x4.extract_lane(accS, 0) + i32x4.extract_lane(accS, 1) + i32x4.extract_lane(accS, 2) + i32x4.extract_lane(accS, 3);
        pc = i32x4.extract_lane(accP, 0) + i32x4.extract_lane(accP, 1) + i32x4.extract_lane(accP, 2) + i32x4.extract_lane(accP, 3);
      }
      // Scalar build: 8 bytes per step; SIMD build: an 8-byte tail.
      for (; i < b; i += 8) {
        let c = wordCounts(load<u64>(row + i), planes + i, b);
        s += <i32>(c & 0xffffffff);
        pc += <i32>(c >> 32);
      }
      let nr = load<f32>(row + b), a = load<f32>(row + b, 4);
      let f = nr / a;
      let est = cg * nr * nr + c0 + f * (cS * <f32>s + cP * <f32>pc + c1);
      let err = ce * f * Mathf.sqrt(Mathf.max(0, 1 - a * a));
      let o = <usize>r << 2;
      store<f32>(out + o, est);
      if (spread != 0) store<f32>(spread + o, err);
    }
  }
  return scored;
}
