// Distances between one f32 query and dense f32 rows.
//
// Shapes (all pointers are byte addresses in linear memory):
//   q     dim f32                      the query
//   x     n × dim f32, row-major       the block; row r starts at x + r·dim·4
//   norms n f32                        ‖x_r‖, from norms_f32, cached by the host per block
//   ids   m i32                        row numbers into x (gather variants)
//   out   n (or m) f32                 distances, smaller is closer
//   positions, allowed                 a query's filter over the rows (f32_scan, see mask.ts)
//
// Rows are not 16-byte aligned when dim % 4 != 0; v128.load does not need alignment, so the same
// loop serves every dim and only the last dim % 4 lanes take the scalar tail.

import { dropLowestRun, groupSize, lowestRun, maskGroup } from "./mask";

// ── row helpers ───────────────────────────────────────────────────────────────────────────────

/** Σ a_i·b_i over dim lanes. */
// @ts-ignore: decorator
@inline export function dotF32(a: usize, b: usize, dim: i32): f32 {
  let s: f32 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // Four independent accumulators: f32x4.add has a latency of 3–4 cycles, so one accumulator
    // would stall every step. Each step consumes 16 floats = 64 bytes = one cache line.
    //   a: [a0 a1 a2 a3][a4 .. a7][a8 .. a11][a12 .. a15]
    //        acc0         acc1      acc2       acc3
    let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0), acc2 = f32x4.splat(0), acc3 = f32x4.splat(0);
    for (; i + 16 <= dim; i += 16) {
      let pa = a + (<usize>i << 2), pb = b + (<usize>i << 2);
      acc0 = f32x4.add(acc0, f32x4.mul(v128.load(pa), v128.load(pb)));
      acc1 = f32x4.add(acc1, f32x4.mul(v128.load(pa, 16), v128.load(pb, 16)));
      acc2 = f32x4.add(acc2, f32x4.mul(v128.load(pa, 32), v128.load(pb, 32)));
      acc3 = f32x4.add(acc3, f32x4.mul(v128.load(pa, 48), v128.load(pb, 48)));
    }
    for (; i + 4 <= dim; i += 4) {
      let pa = a + (<usize>i << 2), pb = b + (<usize>i << 2);
      acc0 = f32x4.add(acc0, f32x4.mul(v128.load(pa), v128.load(pb)));
    }
    s = hsum(f32x4.add(f32x4.add(acc0, acc1), f32x4.add(acc2, acc3)));
  } else {
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
    for (; i + 4 <= dim; i += 4) {
      let pa = a + (<usize>i << 2), pb = b + (<usize>i << 2);
      s0 += load<f32>(pa) * load<f32>(pb);
      s1 += load<f32>(pa, 4) * load<f32>(pb, 4);
      s2 += load<f32>(pa, 8) * load<f32>(pb, 8);
      s3 += load<f32>(pa, 12) * load<f32>(pb, 12);
    }
    s = (s0 + s1) + (s2 + s3);
  }
  for (; i < dim; i++) s += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  return s;
}

/** Σ (a_i − b_i)² over dim lanes. */
// @ts-ignore: decorator
@inline export function l2F32(a: usize, b: usize, dim: i32): f32 {
  let s: f32 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0), acc2 = f32x4.splat(0), acc3 = f32x4.splat(0);
    for (; i + 16 <= dim; i += 16) {
      let pa = a + (<usize>i << 2), pb = b + (<usize>i << 2);
      let d0 = f32x4.sub(v128.load(pa), v128.load(pb));
      let d1 = f32x4.sub(v128.load(pa, 16), v128.load(pb, 16));
      let d2 = f32x4.sub(v128.load(pa, 32), v128.load(pb, 32));
      let d3 = f32x4.sub(v128.load(pa, 48), v128.load(pb, 48));
      acc0 = f32x4.add(acc0, f32x4.mul(d0, d0));
      acc1 = f32x4.add(acc1, f32x4.mul(d1, d1));
      acc2 = f32x4.add(acc2, f32x4.mul(d2, d2));
      acc3 = f32x4.add(acc3, f32x4.mul(d3, d3));
    }
    for (; i + 4 <= dim; i += 4) {
      let pa = a + (<usize>i << 2), pb = b + (<usize>i << 2);
      let d0 = f32x4.sub(v128.load(pa), v128.load(pb));
      acc0 = f32x4.add(acc0, f32x4.mul(d0, d0));
    }
    s = hsum(f32x4.add(f32x4.add(acc0, acc1), f32x4.add(acc2, acc3)));
  } else {
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
    for (; i + 4 <= dim; i += 4) {
      let pa = a + (<usize>i << 2), pb = b + (<usize>i << 2);
      let d0 = load<f32>(pa) - load<f32>(pb);
      let d1 = load<f32>(pa, 4) - load<f32>(pb, 4);
      let d2 = load<f32>(pa, 8) - load<f32>(pb, 8);
      let d3 = load<f32>(pa, 12) - load<f32>(pb, 12);
      s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3;
    }
    s = (s0 + s1) + (s2 + s3);
  }
  for (; i < dim; i++) {
    let d = load<f32>(a + (<usize>i << 2)) - load<f32>(b + (<usize>i << 2));
    s += d * d;
  }
  return s;
}

/** Horizontal sum of the four lanes: [a b c d] → (a+c) + (b+d). */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  let h = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(h, 0) + f32x4.extract_lane(h, 1);
}

/** 1 − dot/(‖q‖·‖x‖), defined as 1 when either norm is 0 (no direction to compare). */
// @ts-ignore: decorator
@inline export function cosineFromParts(dot: f32, qNorm: f32, xNorm: f32): f32 {
  let denom = qNorm * xNorm;
  return denom == 0 ? 1 : 1 - dot / denom;
}

// ── dense scans: out[r] = d(q, x_r), r < n ───────────────────────────────────────────────────

export function l2_f32(q: usize, x: usize, n: i32, dim: i32, out: usize): void {
  let stride = <usize>dim << 2;
  for (let r = 0; r < n; r++, x += stride) store<f32>(out + (<usize>r << 2), l2F32(q, x, dim));
}

/** out[r] = 1 − q·x_r */
export function dot_f32(q: usize, x: usize, n: i32, dim: i32, out: usize): void {
  let stride = <usize>dim << 2;
  for (let r = 0; r < n; r++, x += stride) store<f32>(out + (<usize>r << 2), 1 - dotF32(q, x, dim));
}

/**
 * l2_f32 (metric 0) or dot_f32 (metric 1) over the rows `allowed` lets through (mask.ts; allowed =
 * 0: every row), NaN for the others: an IVF_FLAT partition scan. Each run of allowed rows is one
 * call of the dense scan, so the distances are the dense scan's. Returns the rows scored.
 */
export function f32_scan(q: usize, x: usize, n: i32, dim: i32, metric: i32, positions: usize, allowed: usize, out: usize): i32 {
  let stride = <usize>dim << 2;
  let scored = 0;
  for (let r0 = 0; r0 < n; r0 += 32) {
    let bits = maskGroup(positions, allowed, r0, groupSize(r0, n), out);
    scored += <i32>popcnt<u32>(bits);
    for (; bits != 0; bits = dropLowestRun(bits)) {
      let run = lowestRun(bits);
      let r = r0 + (run & 0xff);
      run >>= 8;
      if (metric == 0) l2_f32(q, x + <usize>r * stride, run, dim, out + (<usize>r << 2));
      else dot_f32(q, x + <usize>r * stride, run, dim, out + (<usize>r << 2));
    }
  }
  return scored;
}

/** Cosine with the row norms computed on the fly (two dots per row). Prefer cosine_f32_normed. */
export function cosine_f32(q: usize, x: usize, n: i32, dim: i32, out: usize): void {
  let stride = <usize>dim << 2;
  let qNorm = sqrt<f32>(dotF32(q, q, dim));
  for (let r = 0; r < n; r++, x += stride) {
    let xNorm = sqrt<f32>(dotF32(x, x, dim));
    store<f32>(out + (<usize>r << 2), cosineFromParts(dotF32(q, x, dim), qNorm, xNorm));
  }
}

/** Cosine with cached row norms (norms[r] = ‖x_r‖): one dot per row. */
export function cosine_f32_normed(q: usize, x: usize, norms: usize, n: i32, dim: i32, out: usize): void {
  let stride = <usize>dim << 2;
  let qNorm = sqrt<f32>(dotF32(q, q, dim));
  for (let r = 0; r < n; r++, x += stride) {
    let o = <usize>r << 2;
    store<f32>(out + o, cosineFromParts(dotF32(q, x, dim), qNorm, load<f32>(norms + o)));
  }
}

/** out[r] = ‖x_r‖ (the per-block cache behind cosine_f32_normed). */
export function norms_f32(x: usize, n: i32, dim: i32, out: usize): void {
  let stride = <usize>dim << 2;
  for (let r = 0; r < n; r++, x += stride) store<f32>(out + (<usize>r << 2), sqrt<f32>(dotF32(x, x, dim)));
}

// ── gather scans: out[j] = d(q, x_ids[j]), j < m ─────────────────────────────────────────────

export function l2_f32_gather(q: usize, x: usize, ids: usize, m: i32, dim: i32, out: usize): void {
  let stride = <usize>dim << 2;
  for (let j = 0; j < m; j++) {
    let o = <usize>j << 2;
    store<f32>(out + o, l2F32(q, x + <usize>load<i32>(ids + o) * stride, dim));
  }
}

export function dot_f32_gather(q: usize, x: usize, ids: usize, m: i32, dim: i32, out: usize): void {
  let stride = <usize>dim << 2;
  for (let j = 0; j < m; j++) {
    let o = <usize>j << 2;
    store<f32>(out + o, 1 - dotF32(q, x + <usize>load<i32>(ids + o) * stride, dim));
  }
}

export function cosine_f32_normed_gather(q: usize, x: usize, norms: usize, ids: usize, m: i32, dim: i32, out: usize): void {
  let stride = <usize>dim << 2;
  let qNorm = sqrt<f32>(dotF32(q, q, dim));
  for (let j = 0; j < m; j++) {
    let o = <usize>j << 2;
    let id = <usize>load<i32>(ids + o);
    store<f32>(out + o, cosineFromParts(dotF32(q, x + id * stride, dim), qNorm, load<f32>(norms + (id << 2))));
  }
}
