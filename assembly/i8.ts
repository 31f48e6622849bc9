// Distances between one int8 query and dense int8 rows (scalar-quantized vectors).
//
// Shapes:
//   q     dim i8                       the query, quantized the same way as the block
//   x     n × dim i8, row-major        row r starts at x + r·dim
//   norms n f32                        ‖x_r‖ = sqrt(Σ x_ri²), from norms_i8
//   ids   m i32                        row numbers into x (gather variants)
//   out   n (or m) f32
//
// Sums are exact i32: a product is at most 128·128 = 2^14 and a squared difference at most
// 255² < 2^16, so dim up to 2^15 cannot overflow. The f32 result is exact below 2^24.

/** Σ a_i·b_i, exact. */
// @ts-ignore: decorator
@inline export function dotI8(a: usize, b: usize, dim: i32): i32 {
  let s: i32 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // 16 bytes per step, widened to two i16x8 halves; dot_i16x8_s multiplies lane pairs and adds
    // neighbours into i32 lanes:
    //   a16: [a0 a1 | a2 a3 | a4 a5 | a6 a7]   b16 likewise
    //   dot: [a0b0+a1b1, a2b2+a3b3, a4b4+a5b5, a6b6+a7b7]
    let acc0 = i32x4.splat(0), acc1 = i32x4.splat(0), acc2 = i32x4.splat(0), acc3 = i32x4.splat(0);
    for (; i + 32 <= dim; i += 32) {
      let pa = a + <usize>i, pb = b + <usize>i;
      acc0 = i32x4.add(acc0, i32x4.dot_i16x8_s(v128.load8x8_s(pa), v128.load8x8_s(pb)));
      acc1 = i32x4.add(acc1, i32x4.dot_i16x8_s(v128.load8x8_s(pa, 8), v128.load8x8_s(pb, 8)));
      acc2 = i32x4.add(acc2, i32x4.dot_i16x8_s(v128.load8x8_s(pa, 16), v128.load8x8_s(pb, 16)));
      acc3 = i32x4.add(acc3, i32x4.dot_i16x8_s(v128.load8x8_s(pa, 24), v128.load8x8_s(pb, 24)));
    }
    for (; i + 8 <= dim; i += 8) {
      let pa = a + <usize>i, pb = b + <usize>i;
      acc0 = i32x4.add(acc0, i32x4.dot_i16x8_s(v128.load8x8_s(pa), v128.load8x8_s(pb)));
    }
    s = hsumI32(i32x4.add(i32x4.add(acc0, acc1), i32x4.add(acc2, acc3)));
  } else {
    let s0: i32 = 0, s1: i32 = 0;
    for (; i + 4 <= dim; i += 4) {
      let pa = a + <usize>i, pb = b + <usize>i;
      s0 += <i32>load<i8>(pa) * <i32>load<i8>(pb) + <i32>load<i8>(pa, 1) * <i32>load<i8>(pb, 1);
      s1 += <i32>load<i8>(pa, 2) * <i32>load<i8>(pb, 2) + <i32>load<i8>(pa, 3) * <i32>load<i8>(pb, 3);
    }
    s = s0 + s1;
  }
  for (; i < dim; i++) s += <i32>load<i8>(a + <usize>i) * <i32>load<i8>(b + <usize>i);
  return s;
}

/** Σ (a_i − b_i)², exact. */
// @ts-ignore: decorator
@inline export function l2I8(a: usize, b: usize, dim: i32): i32 {
  let s: i32 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // a−b lies in [−255, 255], which fits i16, so the subtraction happens after widening.
    let acc0 = i32x4.splat(0), acc1 = i32x4.splat(0), acc2 = i32x4.splat(0), acc3 = i32x4.splat(0);
    for (; i + 32 <= dim; i += 32) {
      let pa = a + <usize>i, pb = b + <usize>i;
      let d0 = i16x8.sub(v128.load8x8_s(pa), v128.load8x8_s(pb));
      let d1 = i16x8.sub(v128.load8x8_s(pa, 8), v128.load8x8_s(pb, 8));
      let d2 = i16x8.sub(v128.load8x8_s(pa, 16), v128.load8x8_s(pb, 16));
      let d3 = i16x8.sub(v128.load8x8_s(pa, 24), v128.load8x8_s(pb, 24));
      acc0 = i32x4.add(acc0, i32x4.dot_i16x8_s(d0, d0));
      acc1 = i32x4.add(acc1, i32x4.dot_i16x8_s(d1, d1));
      acc2 = i32x4.add(acc2, i32x4.dot_i16x8_s(d2, d2));
      acc3 = i32x4.add(acc3, i32x4.dot_i16x8_s(d3, d3));
    }
    for (; i + 8 <= dim; i += 8) {
      let pa = a + <usize>i, pb = b + <usize>i;
      let d0 = i16x8.sub(v128.load8x8_s(pa), v128.load8x8_s(pb));
      acc0 = i32x4.add(acc0, i32x4.dot_i16x8_s(d0, d0));
    }
    s = hsumI32(i32x4.add(i32x4.add(acc0, acc1), i32x4.add(acc2, acc3)));
  } else {
    let s0: i32 = 0, s1: i32 = 0;
    for (; i + 4 <= dim; i += 4) {
      let pa = a + <usize>i, pb = b + <usize>i;
      let d0 = <i32>load<i8>(pa) - <i32>load<i8>(pb);
      let d1 = <i32>load<i8>(pa, 1) - <i32>load<i8>(pb, 1);
      let d2 = <i32>load<i8>(pa, 2) - <i32>load<i8>(pb, 2);
      let d3 = <i32>load<i8>(pa, 3) - <i32>load<i8>(pb, 3);
      s0 += d0 * d0 + d1 * d1;
      s1 += d2 * d2 + d3 * d3;
    }
    s = s0 + s1;
  }
  for (; i < dim; i++) {
    let d = <i32>load<i8>(a + <usize>i) - <i32>load<i8>(b + <usize>i);
    s += d * d;
  }
  return s;
}

// @ts-ignore: decorator
@inline function hsumI32(v: v128): i32 {
  let h = i32x4.add(v, v128.shuffle<i32>(v, v, 2, 3, 0, 1));
  return i32x4.extract_lane(h, 0) + i32x4.extract_lane(h, 1);
}

// @ts-ignore: decorator
@inline function cosineI8(dot: i32, qNorm: f32, xNorm: f32): f32 {
  let denom = qNorm * xNorm;
  return denom == 0 ? 1 : 1 - <f32>dot / denom;
}

// @ts-ignore: decorator
@inline function normI8(a: usize, dim: i32): f32 {
  return sqrt<f32>(<f32>dotI8(a, a, dim));
}

// ── dense scans ───────────────────────────────────────────────────────────────────────────────

export function l2_i8(q: usize, x: usize, n: i32, dim: i32, out: usize): void {
  for (let r = 0; r < n; r++, x += <usize>dim) store<f32>(out + (<usize>r << 2), <f32>l2I8(q, x, dim));
}

export function dot_i8(q: usize, x: usize, n: i32, dim: i32, out: usize): void {
  for (let r = 0; r < n; r++, x += <usize>dim) store<f32>(out + (<usize>r << 2), 1 - <f32>dotI8(q, x, dim));
}

export function cosine_i8_normed(q: usize, x: usize, norms: usize, n: i32, dim: i32, out: usize): void {
  let qNorm = normI8(q, dim);
  for (let r = 0; r < n; r++, x += <usize>dim) {
    let o = <usize>r << 2;
    store<f32>(out + o, cosineI8(dotI8(q, x, dim), qNorm, load<f32>(norms + o)));
  }
}

export function norms_i8(x: usize, n: i32, dim: i32, out: usize): void {
  for (let r = 0; r < n; r++, x += <usize>dim) store<f32>(out + (<usize>r << 2), normI8(x, dim));
}

// ── gather scans ──────────────────────────────────────────────────────────────────────────────

export function l2_i8_gather(q: usize, x: usize, ids: usize, m: i32, dim: i32, out: usize): void {
  for (let j = 0; j < m; j++) {
    let o = <usize>j << 2;
    store<f32>(out + o, <f32>l2I8(q, x + <usize>load<i32>(ids + o) * <usize>dim, dim));
  }
}

export function dot_i8_gather(q: usize, x: usize, ids: usize, m: i32, dim: i32, out: usize): void {
  for (let j = 0; j < m; j++) {
    let o = <usize>j << 2;
    store<f32>(out + o, 1 - <f32>dotI8(q, x + <usize>load<i32>(ids + o) * <usize>dim, dim));
  }
}

export function cosine_i8_normed_gather(q: usize, x: usize, norms: usize, ids: usize, m: i32, dim: i32, out: usize): void {
  let qNorm = normI8(q, dim);
  for (let j = 0; j < m; j++) {
    let o = <usize>j << 2;
    let id = <usize>load<i32>(ids + o);
    store<f32>(out + o, cosineI8(dotI8(q, x + id * <usize>dim, dim), qNorm, load<f32>(norms + (id << 2))));
  }
}
