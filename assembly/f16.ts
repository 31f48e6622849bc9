// IEEE 754 half → single conversion, exact for every half value (f32 is a superset of f16).
//
//   src  n u16 (half bits)       dst  n f32        (may not overlap)
//
// Bit trick: shifting the 15 magnitude bits left by 13 lines the half exponent and mantissa up
// with f32's fields; the exponent bias then differs by 127 − 15 = 112, fixed by multiplying with
// 2^112. Subnormal halves become subnormal f32 and the multiply normalizes them exactly (wasm has
// no flush-to-zero). Only Inf/NaN (half exponent 31) need their exponent forced to 255.
//   half:  s eeeee mmmmmmmmmm
//   f32:   s 000eeeee mmmmmmmmmm0000000000000 × 2^112

// @ts-ignore: decorator
@inline const MAGIC: f32 = reinterpret<f32>(<u32>(127 + 112) << 23); // 2^112

// @ts-ignore: decorator
@inline function halfToF32(h: u32): f32 {
  let mag = (h & 0x7fff) << 13;
  let sign = (h & 0x8000) << 16;
  if ((h & 0x7c00) == 0x7c00) return reinterpret<f32>(sign | 0x7f800000 | mag);
  return reinterpret<f32>(reinterpret<u32>(reinterpret<f32>(mag) * MAGIC) | sign);
}

export function f16_to_f32(src: usize, n: i32, dst: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let magic = f32x4.splat(MAGIC);
    let magMask = i32x4.splat(0x7fff), signMask = i32x4.splat(0x8000), expMask = i32x4.splat(0x7c00);
    let infBits = i32x4.splat(0x7f800000);
    for (; i + 4 <= n; i += 4) {
      // 4 halves → 4 u32 lanes: [h0 h1 h2 h3]
      let h = v128.load16x4_u(src + (<usize>i << 1));
      let mag = i32x4.shl(v128.and(h, magMask), 13);
      let sign = i32x4.shl(v128.and(h, signMask), 16);
      let finite = f32x4.mul(mag, magic);
      let special = v128.or(mag, infBits);
      let isSpecial = i32x4.eq(v128.and(h, expMask), expMask);
      store<v128>(dst + (<usize>i << 2), v128.or(v128.bitselect(special, finite, isSpecial), sign));
    }
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), halfToF32(<u32>load<u16>(src + (<usize>i << 1))));
}
