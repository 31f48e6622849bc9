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
//
// Distances are asymmetric: the query stays f32 and is prepared once by the host:
//   l2:   qp = q − offset            ‖q − x̂‖² = Σ (qp_i − scale_i·c_i)²
//   dot:  qs = q ∘ scale, bias = q·offset     1 − q·x̂ = 1 − bias − Σ qs_i·c_i
//
// Sixteen codes at a time are widened i8 → i16 → i32 → f32:
//   i8x16 [c0 .. c15] → i16x8 [c0 .. c7], [c8 .. c15] → i32x4 [c0 .. c3] … [c12 .. c15] → f32x4

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

/** Four f32x4 from 16 codes at p (lanes 0–3, 4–7, 8–11, 12–15). */
// @ts-ignore: decorator
@inline function widen0(v: v128): v128 { return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v))); }
// @ts-ignore: decorator
@inline function widen1(v: v128): v128 { return f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(i16x8.extend_low_i8x16_s(v))); }
// @ts-ignore: decorator
@inline function widen2(v: v128): v128 { return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(i16x8.extend_high_i8x16_s(v))); }
// @ts-ignore: decorator
@inline function widen3(v: v128): v128 { return f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(i16x8.extend_high_i8x16_s(v))); }

/** Σ (qp_i − scale_i·c_i)² over one row of codes. */
// @ts-ignore: decorator
@inline export function sqL2Row(qp: usize, scale: usize, c: usize, dim: i32): f32 {
  let s: f32 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0), acc2 = f32x4.splat(0), acc3 = f32x4.splat(0);
    for (; i + 16 <= dim; i += 16) {
      let v = v128.load(c + <usize>i);
      let o = <usize>i << 2;
      let d0 = f32x4.sub(v128.load(qp + o), f32x4.mul(v128.load(scale + o), widen0(v)));
      let d1 = f32x4.sub(v128.load(qp + o, 16), f32x4.mul(v128.load(scale + o, 16), widen1(v)));
      let d2 = f32x4.sub(v128.load(qp + o, 32), f32x4.mul(v128.load(scale + o, 32), widen2(v)));
      let d3 = f32x4.sub(v128.load(qp + o, 48), f32x4.mul(v128.load(scale + o, 48), widen3(v)));
      acc0 = f32x4.add(acc0, f32x4.mul(d0, d0));
      acc1 = f32x4.add(acc1, f32x4.mul(d1, d1));
      acc2 = f32x4.add(acc2, f32x4.mul(d2, d2));
      acc3 = f32x4.add(acc3, f32x4.mul(d3, d3));
    }
    let h = f32x4.add(f32x4.add(acc0, acc1), f32x4.add(acc2, acc3));
    h = f32x4.add(h, v128.shuffle<f32>(h, h, 2, 3, 0, 1));
    s = f32x4.extract_lane(h, 0) + f32x4.extract_lane(h, 1);
  } else {
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
    for (; i + 4 <= dim; i += 4) {
      let o = <usize>i << 2, p = c + <usize>i;
      let d0 = load<f32>(qp + o) - load<f32>(scale + o) * <f32>load<i8>(p);
      let d1 = load<f32>(qp + o, 4) - load<f32>(scale + o, 4) * <f32>load<i8>(p, 1);
      let d2 = load<f32>(qp + o, 8) - load<f32>(scale + o, 8) * <f32>load<i8>(p, 2);
      let d3 = load<f32>(qp + o, 12) - load<f32>(scale + o, 12) * <f32>load<i8>(p, 3);
      s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3;
    }
    s = (s0 + s1) + (s2 + s3);
  }
  for (; i < dim; i++) {
    let o = <usize>i << 2;
    let d = load<f32>(qp + o) - load<f32>(scale + o) * <f32>load<i8>(c + <usize>i);
    s += d * d;
  }
  return s;
}

/** Σ qs_i·c_i over one row of codes. */
// @ts-ignore: decorator
@inline export function sqDotRow(qs: usize, c: usize, dim: i32): f32 {
  let s: f32 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0), acc2 = f32x4.splat(0), acc3 = f32x4.splat(0);
    for (; i + 16 <= dim; i += 16) {
      let v = v128.load(c + <usize>i);
      let o = <usize>i << 2;
      acc0 = f32x4.add(acc0, f32x4.mul(v128.load(qs + o), widen0(v)));
      acc1 = f32x4.add(acc1, f32x4.mul(v128.load(qs + o, 16), widen1(v)));
      acc2 = f32x4.add(acc2, f32x4.mul(v128.load(qs + o, 32), widen2(v)));
      acc3 = f32x4.add(acc3, f32x4.mul(v128.load(qs + o, 48), widen3(v)));
    }
    let h = f32x4.add(f32x4.add(acc0, acc1), f32x4.add(acc2, acc3));
    h = f32x4.add(h, v128.shuffle<f32>(h, h, 2, 3, 0, 1));
    s = f32x4.extract_lane(h, 0) + f32x4.extract_lane(h, 1);
  } else {
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
    for (; i + 4 <= dim; i += 4) {
      let o = <usize>i << 2, p = c + <usize>i;
      s0 += load<f32>(qs + o) * <f32>load<i8>(p);
      s1 += load<f32>(qs + o, 4) * <f32>load<i8>(p, 1);
      s2 += load<f32>(qs + o, 8) * <f32>load<i8>(p, 2);
      s3 += load<f32>(qs + o, 12) * <f32>load<i8>(p, 3);
    }
    s = (s0 + s1) + (s2 + s3);
  }
  for (; i < dim; i++) s += load<f32>(qs + (<usize>i << 2)) * <f32>load<i8>(c + <usize>i);
  return s;
}

// ── scans ─────────────────────────────────────────────────────────────────────────────────────

export function sq_l2(qp: usize, scale: usize, codes: usize, n: i32, dim: i32, out: usize): void {
  for (let r = 0; r < n; r++, codes += <usize>dim) store<f32>(out + (<usize>r << 2), sqL2Row(qp, scale, codes, dim));
}

export function sq_l2_gather(qp: usize, scale: usize, codes: usize, ids: usize, m: i32, dim: i32, out: usize): void {
  for (let j = 0; j < m; j++) {
    let o = <usize>j << 2;
    store<f32>(out + o, sqL2Row(qp, scale, codes + <usize>load<i32>(ids + o) * <usize>dim, dim));
  }
}

/** out[r] = 1 − bias − Σ qs_i·c_ri */
export function sq_dot(qs: usize, bias: f32, codes: usize, n: i32, dim: i32, out: usize): void {
  for (let r = 0; r < n; r++, codes += <usize>dim) store<f32>(out + (<usize>r << 2), 1 - bias - sqDotRow(qs, codes, dim));
}

export function sq_dot_gather(qs: usize, bias: f32, codes: usize, ids: usize, m: i32, dim: i32, out: usize): void {
  for (let j = 0; j < m; j++) {
    let o = <usize>j << 2;
    store<f32>(out + o, 1 - bias - sqDotRow(qs, codes + <usize>load<i32>(ids + o) * <usize>dim, dim));
  }
}
