// Product quantization with 4-bit codes and the "fast scan": 16 centroids per sub-space, so a
// sub-space's distance table fits one v128 (16 u8 entries) and `i8x16.swizzle` looks up 16 rows'
// entries in one instruction. WebAssembly has no gather; the 8-bit ADC (pq.ts) is one scalar load
// per row and sub-space, this is one swizzle per 16 rows and sub-space.
//
// Shapes:
//   codebook  M × 16 × dsub f32    centroid j of sub-space m at codebook + ((m·16 + j)·dsub)·4
//   codes     n × M u8             pq4_encode's output, one code (0–15) per byte, row-major
//   blocked   ⌈n/32⌉ × M × 16 u8   the scan's layout (host packs it, src/ann/pq4.ts); block b holds
//                                  rows 32b … 32b + 31, sub-space m at blocked + (b·M + m)·16:
//
//     byte j (0–15) of sub-space m:   high nibble = code of row 32b + 16 + j
//                                     low nibble  = code of row 32b + j
//
//                                  a tail block is padded with code 0; M/2 bytes per row
//   lut       M × 16 f32           lut[m·16 + j] = a distance term of q's m-th sub-vector and centroid (m, j)
//   qlut      M × 16 u8            lut quantized: qlut = round((lut − min_m) / scale), one shared
//                                  scale for all sub-spaces, so sums of entries stay comparable
//   consts    2 f32                [scale, Σ_m min_m] written by pq4_lut
//   out       ⌈n/32⌉·32 f32        room for whole blocks: the slots past n are overwritten
//
// Distance of row r: offset + scale · S_r (+ norms[r]), S_r = Σ_m qlut[m·16 + code(r, m)], with
// offset = the caller's bias + Σ_m min_m. S_r ≤ 255·M < 2^16 for M ≤ 257, so u16 lanes cannot
// overflow (the host caps M at 256). Each entry's rounding is at most scale/2, so the distance is
// within M·scale/2 of the exact ADC sum over lut. Both builds compute S_r exactly, then the same
// f32 operations in the same order: the SIMD and scalar builds agree bit for bit.

import { encodeCodes, tables } from "./pq";
import { groupSize, maskGroup } from "./mask";

const KSUB: i32 = 16;
const BLOCK: i32 = 32;

/** codes[r·M + m] = nearest of sub-space m's 16 centroids to x_r's m-th sub-vector (x: n × dim f32; scratch M × 16 × (dsub + 1) f32). */
export function pq4_encode(x: usize, n: i32, dim: i32, M: i32, codebook: usize, scratch: usize, codes: usize): void {
  encodeCodes(x, n, dim, M, KSUB, codebook, scratch, codes);
}

/**
 * The query's tables, quantized: lut[m·16 + j] = ‖q_m − c_mj‖² (w = 0) or w · q_m·c_mj (w ≠ 0, as
 * pq_lut_dot) less min_m, the smallest entry of its table; qlut = round(lut / scale) with one
 * scale = max_m (max_m − min_m) / 255 (0 when every table is flat); consts = [scale, Σ_m min_m].
 */
export function pq4_lut(q: usize, M: i32, dsub: i32, codebook: usize, w: f32, lut: usize, qlut: usize, consts: usize): void {
  tables(q, M, dsub, KSUB, codebook, w, lut);
  let range: f32 = 0;
  let base: f32 = 0;
  let end = lut + (<usize>M << 6);
  for (let row = lut; row < end; row += 64) {
    let lo = load<f32>(row);
    for (let j: usize = 4; j < 64; j += 4) lo = min(lo, load<f32>(row + j));
    for (let j: usize = 0; j < 64; j += 4) {
      let v = load<f32>(row + j) - lo;
      store<f32>(row + j, v);
      range = max(range, v);
    }
    base += lo;
  }
  let inv: f32 = range > 0 ? <f32>255 / range : 0;
  for (let i: usize = 0, all = <usize>M << 4; i < all; i++) {
    store<u8>(qlut + i, <u8>min<f32>(255, floor(load<f32>(lut + (i << 2)) * inv + <f32>0.5)));
  }
  store<f32>(consts, range / 255);
  store<f32>(consts, base, 4);
}

/** Stores offset + scale · S_j for the 32 sums of one block at out (SIMD: four u16x8 accumulators). */
// @ts-ignore: decorator
@inline function storeBlock(a: v128, o: usize, off: v128, sc: v128): void {
  v128.store(o, f32x4.add(off, f32x4.mul(sc, f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(a)))));
  v128.store(o, f32x4.add(off, f32x4.mul(sc, f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(a)))), 16);
}

/**
 * Scores whole block b (32 rows, tail padding included) into out[0..32): offset + scale · S_r.
 * SIMD: per sub-space one 16-byte load of codes, the low and the high nibbles as swizzle indexes
 * into the sub-space's 16-entry table, the u8 entries widened into u16 lanes:
 *
 *   codes  [r16|r0  r17|r1  …  r31|r15]     (hi|lo nibbles)
 *   lo  →  swizzle(table) → [e_r0 … e_r15]   → acc0 (rows 0–7), acc1 (rows 8–15)
 *   hi  →  swizzle(table) → [e_r16 … e_r31]  → acc2 (rows 16–23), acc3 (rows 24–31)
 */
// @ts-ignore: decorator
@inline function scoreBlock(qlut: usize, block: usize, M: i32, offset: f32, scale: f32, out: usize): void {
  if (ASC_FEATURE_SIMD) {
    let a0 = i16x8.splat(0), a1 = i16x8.splat(0), a2 = i16x8.splat(0), a3 = i16x8.splat(0);
    let low = i8x16.splat(0x0f);
    let c = block;
    let t = qlut;
    for (let m = 0; m < M; m++, c += 16, t += 16) {
      let codes = v128.load(c);
      let table = v128.load(t);
      let lo = i8x16.swizzle(table, v128.and(codes, low));
      let hi = i8x16.swizzle(table, i8x16.shr_u(codes, 4));
      a0 = i16x8.add(a0, i16x8.extend_low_i8x16_u(lo));
      a1 = i16x8.add(a1, i16x8.extend_high_i8x16_u(lo));
      a2 = i16x8.add(a2, i16x8.extend_low_i8x16_u(hi));
      a3 = i16x8.add(a3, i16x8.extend_high_i8x16_u(hi));
    }
    let off = f32x4.splat(offset);
    let sc = f32x4.splat(scale);
    storeBlock(a0, out, off, sc);
    storeBlock(a1, out + 32, off, sc);
    storeBlock(a2, out + 64, off, sc);
    storeBlock(a3, out + 96, off, sc);
  } else {
    // Four code bytes per load: rows j … j + 3 (low nibbles) and j + 16 … j + 19 (high nibbles).
    for (let j = 0; j < 16; j += 4) {
      let s0: u32 = 0, s1: u32 = 0, s2: u32 = 0, s3: u32 = 0, h0: u32 = 0, h1: u32 = 0, h2: u32 = 0, h3: u32 = 0;
      let c = block + <usize>j;
      let t = qlut;
      for (let m = 0; m < M; m++, c += 16, t += 16) {
        let w = load<u32>(c);
        s0 += <u32>load<u8>(t + <usize>(w & 15));
        h0 += <u32>load<u8>(t + <usize>((w >> 4) & 15));
        s1 += <u32>load<u8>(t + <usize>((w >> 8) & 15));
        h1 += <u32>load<u8>(t + <usize>((w >> 12) & 15));
        s2 += <u32>load<u8>(t + <usize>((w >> 16) & 15));
        h2 += <u32>load<u8>(t + <usize>((w >> 20) & 15));
        s3 += <u32>load<u8>(t + <usize>((w >> 24) & 15));
        h3 += <u32>load<u8>(t + <usize>(w >> 28));
      }
      let o = out + (<usize>j << 2);
      store<f32>(o, offset + scale * <f32>s0);
      store<f32>(o, offset + scale * <f32>s1, 4);
      store<f32>(o, offset + scale * <f32>s2, 8);
      store<f32>(o, offset + scale * <f32>s3, 12);
      store<f32>(o, offset + scale * <f32>h0, 64);
      store<f32>(o, offset + scale * <f32>h1, 68);
      store<f32>(o, offset + scale * <f32>h2, 72);
      store<f32>(o, offset + scale * <f32>h3, 76);
    }
  }
}

/**
 * out[r] = offset + scale · S_r + norms[r] (norms = 0: no norms term) for the rows `allowed` lets
 * through (mask.ts; allowed = 0: every row), NaN for the others; a 32-row group with no allowed
 * row is not read. `out` must have room for ⌈n/32⌉·32 f32. Returns the rows scored.
 */
export function pq4_scan(qlut: usize, blocked: usize, n: i32, M: i32, offset: f32, scale: f32, norms: usize, positions: usize, allowed: usize, out: usize): i32 {
  let scored = 0;
  let blockBytes = <usize>M << 4;
  let block = blocked;
  for (let r0 = 0; r0 < n; r0 += BLOCK, block += blockBytes) {
    let count = groupSize(r0, n);
    let o = out + (<usize>r0 << 2);
    let bits = maskGroup(positions, allowed, r0, count, out);
    if (bits == 0) continue;
    scored += <i32>popcnt<u32>(bits);
    scoreBlock(qlut, block, M, offset, scale, o);
    if (norms != 0) {
      let nr = norms + (<usize>r0 << 2);
      for (let j: usize = 0, end = <usize>count << 2; j < end; j += 4) store<f32>(o + j, load<f32>(o + j) + load<f32>(nr + j));
    }
    // Masked rows of a partly allowed group: back to the NaN maskGroup put there.
    let masked = ~bits & (count == BLOCK ? 0xffffffff : (<u32>1 << <u32>count) - 1);
    while (masked != 0) {
      store<f32>(o + (<usize>ctz<u32>(masked) << 2), NaN);
      masked &= masked - 1;
    }
  }
  return scored;
}
