// Scalar quantization to int8 with a range per dimension: code c ∈ [−128, 127] in dimension i
// stands for offset_i + scale_i·c, where offset_i = lo_i + 128·scale_i and scale_i = (hi_i − lo_i)/255.
//
// Shapes:
//   x        n × dim f32, row-major
//   codes    n × dim i8, row-major        row r starts at codes + r·dim
//   lo, hi   dim f32                      running bounds (sq_bounds), seeded by the host with ±∞
//   offset, scale, invScale   dim f32     invScale_i = 1/scale_i, or 0 for a constant dimension
//   ids      m i32                        row numbers into codes (gather variants)
//   out      n (or m) f32
//   positions, allowed             a query's filter over the rows (sq_ip, see mask.ts)
//
// Distances reduce to one integer dot product per row. With x̂ = offset + scale ∘ c:
//   dot:  1 − q·x̂ = (1 − q·offset) − Σ (q ∘ scale)_i · c_i
//   l2:   ‖q − x̂‖² = ‖qp‖² − 2 Σ (qp ∘ scale)_i · c_i + ‖scale ∘ c‖²,   qp = q − offset
// The host rounds a = q ∘ scale (or qp ∘ scale) to i16 once per query, qi = round(a / α) with
// α = max|a| / 16383, and stores ‖scale ∘ c_r‖² per row for l2 (sq_norms). Then
//   d(q, x̂_r) = bias + w · Σ qi_i · c_ri + norms[r],   w = −α (dot) or −2α (l2)
// and Σ qi_i · c_ri is exact in i32 (|qi·c| ≤ 16383·128, 8 such terms per lane per 16 dims, so
// dim ≤ 8192 cannot overflow). Rounding the query to 15 bits costs far less than the 8-bit codes.
//
//   qi      dim i16     the rounded query
//   norms   n f32 or 0  ‖scale ∘ c_r‖² (l2), or 0 for no per-row term (dot)
//
// Sixteen codes at a time are widened to two i16x8 and multiplied-and-paired into i32 lanes:
//   i8x16 [c0 .. c15] → i16x8 [c0 .. c7], [c8 .. c15];  dot_i16x8_s(qi, c) → i32x4 [qi0c0+qi1c1, …]

import { groupSize, maskGroup } from "./mask";

/** lo_i = min(lo_i, min_r x_ri), hi_i = max(hi_i, max_r x_ri). */
export function sq_bounds(x: usize, n: i32, dim: i32, lo: usize, hi: usize): void {
  for (let r = 0; r < n; r++) {
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      for (; i + 4 <= dim; i += 4) {
        let o = <usize>i << 2;
        let v = v128.load(x + o);
        v128.store(lo + o, f32x4.min(v128.load(lo + o), v));
        v128.store(hi + o, f32x4.max(v128.load(hi + o), v));
      }
    }
    for (; i < dim; i++) {
      let o = <usize>i << 2;
      let v = load<f32>(x + o);
      store<f32>(lo + o, min<f32>(load<f32>(lo + o), v));
      store<f32>(hi + o, max<f32>(load<f32>(hi + o), v));
    }
    x += <usize>dim << 2;
  }
}

/** codes = clamp(round_half_even((x − offset)·invScale), −128, 127). */
export function sq_encode(x: usize, n: i32, dim: i32, offset: usize, invScale: usize, codes: usize): void {
  for (let r = 0; r < n; r++) {
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      for (; i + 16 <= dim; i += 16) {
        let o = <usize>i << 2;
        let a = quantize4(x + o, offset + o, invScale + o);
        let b = quantize4(x + o + 16, offset + o + 16, invScale + o + 16);
        let c = quantize4(x + o + 32, offset + o + 32, invScale + o + 32);
        let d = quantize4(x + o + 48, offset + o + 48, invScale + o + 48);
        // Saturating narrows clamp to [−32768, 32767] and then to [−128, 127].
        v128.store(codes + <usize>i, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(a, b), i16x8.narrow_i32x4_s(c, d)));
      }
    }
    for (; i < dim; i++) {
      let o = <usize>i << 2;
      let v = (load<f32>(x + o) - load<f32>(offset + o)) * load<f32>(invScale + o);
      store<i8>(codes + <usize>i, <i8>(<i32>nearest<f32>(min<f32>(127, max<f32>(-128, v)))));
    }
    x += <usize>dim << 2;
    codes += <usize>dim;
  }
}

// @ts-ignore: decorator
@inline function quantize4(x: usize, offset: usize, invScale: usize): v128 {
  let v = f32x4.mul(f32x4.sub(v128.load(x), v128.load(offset)), v128.load(invScale));
  return i32x4.trunc_sat_f32x4_s(f32x4.nearest(v));
}

/** out (n × dim f32) = offset + scale ∘ codes. */
export function sq_decode(codes: usize, n: i32, dim: i32, offset: usize, scale: usize, out: usize): void {
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < dim; i++) {
      let o = <usize>i << 2;
      store<f32>(out + o, load<f32>(offset + o) + load<f32>(scale + o) * <f32>load<i8>(codes + <usize>i));
    }
    codes += <usize>dim;
    out += <usize>dim << 2;
  }
}

// ── row helpers ───────────────────────────────────────────────────────────────────────────────

/** Σ qi_i·c_i over one row of codes, exact. */
// @ts-ignore: decorator
@inline export function sqIpRow(qi: usize, c: usize, dim: i32): i32 {
  let s: i32 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let acc0 = i32x4.splat(0), acc1 = i32x4.splat(0);
    for (; i + 16 <= dim; i += 16) {
      let v = v128.load(c + <usize>i);
      let q = qi + (<usize>i << 1);
      acc0 = i32x4.add(acc0, i32x4.dot_i16x8_s(v128.load(q), i16x8.extend_low_i8x16_s(v)));
      acc1 = i32x4.add(acc1, i32x4.dot_i16x8_s(v128.load(q, 16), i16x8.extend_high_i8x16_s(v)));
    }
    if (i + 8 <= dim) {
      acc0 = i32x4.add(acc0, i32x4.dot_i16x8_s(v128.load(qi + (<usize>i << 1)), v128.load8x8_s(c + <usize>i)));
      i += 8;
    }
    let h = i32x4.add(acc0, acc1);
    h = i32x4.add(h, v128.shuffle<i32>(h, h, 2, 3, 0, 1));
    s = i32x4.extract_lane(h, 0) + i32x4.extract_lane(h, 1);
  } else {
    let s0: i32 = 0, s1: i32 = 0;
    for (; i + 4 <= dim; i += 4) {
      let q = qi + (<usize>i << 1), p = c + <usize>i;
      s0 += <i32>load<i16>(q) * <i32>load<i8>(p) + <i32>load<i16>(q, 2) * <i32>load<i8>(p, 1);
      s1 += <i32>load<i16>(q, 4) * <i32>load<i8>(p, 2) + <i32>load<i16>(q, 6) * <i32>load<i8>(p, 3);
    }
    s = s0 + s1;
  }
  for (; i < dim; i++) s += <i32>load<i16>(qi + (<usize>i << 1)) * <i32>load<i8>(c + <usize>i);
  return s;
}

// ── scans ─────────────────────────────────────────────────────────────────────────────────────

/**
 * out[r] = bias + w · Σ qi_i·c_ri + norms[r] (norms = 0: no per-row term) for the rows `allowed`
 * lets through (mask.ts; allowed = 0: every row), NaN for the others. Returns the rows scored.
 */
export function sq_ip(qi: usize, codes: usize, n: i32, dim: i32, w: f32, bias: f32, norms: usize, positions: usize, allowed: usize, out: usize): i32 {
  let scored = 0;
  for (let r0 = 0; r0 < n; r0 += 32) {
    let bits = maskGroup(positions, allowed, r0, groupSize(r0, n), out);
    scored += <i32>popcnt<u32>(bits);
    while (bits != 0) {
      let r = r0 + <i32>ctz<u32>(bits);
      bits &= bits - 1;
      let o = <usize>r << 2;
      let d = bias + w * <f32>sqIpRow(qi, codes + <usize>r * <usize>dim, dim);
      store<f32>(out + o, norms == 0 ? d : d + load<f32>(norms + o));
    }
  }
  return scored;
}

export function sq_ip_gather(qi: usize, codes: usize, ids: usize, m: i32, dim: i32, w: f32, bias: f32, norms: usize, out: usize): void {
  for (let j = 0; j < m; j++) {
    let o = <usize>j << 2;
    let id = <usize>load<i32>(ids + o);
    let d = bias + w * <f32>sqIpRow(qi, codes + id * <usize>dim, dim);
    store<f32>(out + o, norms == 0 ? d : d + load<f32>(norms + (id << 2)));
  }
}

/** out[r] = ‖scale ∘ c_r‖², the per-row term of the l2 distance. */
export function sq_norms(codes: usize, n: i32, dim: i32, scale: usize, out: usize): void {
  for (let r = 0; r < n; r++, codes += <usize>dim) {
    let s: f32 = 0;
    for (let i = 0; i < dim; i++) {
      let v = load<f32>(scale + (<usize>i << 2)) * <f32>load<i8>(codes + <usize>i);
      s += v * v;
    }
    store<f32>(out + (<usize>r << 2), s);
  }
}
