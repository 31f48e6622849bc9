// Hamming distance between packed bit vectors: popcount(q xor x).
//
// Shapes:
//   q     bytes u8                     the query, bits packed 8 per byte
//   x     n × bytes u8, row-major      row r starts at x + r·bytes
//   ids   m i32                        row numbers into x (gather variant)
//   out   n (or m) f32                 bit counts (exact below 2^24)

// @ts-ignore: decorator
@inline function hammingU8(a: usize, b: usize, bytes: i32): i32 {
  let s: i32 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // popcnt gives a bit count per byte (≤ 8); two pairwise widenings fold 16 byte lanes into
    // 4 i32 lanes without any lane able to overflow:
    //   i8x16 [c0 .. c15] → i16x8 [c0+c1 ..] → i32x4 [c0+c1+c2+c3 ..]
    let acc0 = i32x4.splat(0), acc1 = i32x4.splat(0);
    for (; i + 32 <= bytes; i += 32) {
      let pa = a + <usize>i, pb = b + <usize>i;
      let c0 = i8x16.popcnt(v128.xor(v128.load(pa), v128.load(pb)));
      let c1 = i8x16.popcnt(v128.xor(v128.load(pa, 16), v128.load(pb, 16)));
      acc0 = i32x4.add(acc0, i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(c0)));
      acc1 = i32x4.add(acc1, i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(c1)));
    }
    for (; i + 16 <= bytes; i += 16) {
      let pa = a + <usize>i, pb = b + <usize>i;
      let c0 = i8x16.popcnt(v128.xor(v128.load(pa), v128.load(pb)));
      acc0 = i32x4.add(acc0, i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(c0)));
    }
    let v = i32x4.add(acc0, acc1);
    s = i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
  }
  // Scalar build: 8 bytes per popcnt; SIMD build: the < 16-byte tail.
  for (; i + 8 <= bytes; i += 8) {
    s += <i32>popcnt<u64>(load<u64>(a + <usize>i) ^ load<u64>(b + <usize>i));
  }
  for (; i < bytes; i++) s += popcnt<i32>(<i32>(load<u8>(a + <usize>i) ^ load<u8>(b + <usize>i)));
  return s;
}

export function hamming_u8(q: usize, x: usize, n: i32, bytes: i32, out: usize): void {
  for (let r = 0; r < n; r++, x += <usize>bytes) store<f32>(out + (<usize>r << 2), <f32>hammingU8(q, x, bytes));
}

export function hamming_u8_gather(q: usize, x: usize, ids: usize, m: i32, bytes: i32, out: usize): void {
  for (let j = 0; j < m; j++) {
    let o = <usize>j << 2;
    store<f32>(out + o, <f32>hammingU8(q, x + <usize>load<i32>(ids + o) * <usize>bytes, bytes));
  }
}
