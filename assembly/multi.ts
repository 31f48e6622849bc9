// Several f32 queries against one block in a single pass, for batch search.
//
//   qs     nq × dim f32, row-major     the queries (small: they stay in L1 while rows stream by)
//   x      n × dim f32, row-major
//   norms  n f32                       ‖x_r‖ (cosine only)
//   out    nq rows of outStride f32    out[qi·outStride + r] = d(q_qi, x_r), r < n
//                                      (outStride ≥ n lets several blocks share one output row)
//
// Why: a single-query scan reads the whole block from memory once per query. Here each row is
// read from memory once and reused from cache by every query, so the block's memory traffic is
// divided by nq. The host keeps nq small (≤ 16) so the queries fit in L1.

import { dotF32, l2F32, cosineFromParts } from "./f32";

export function l2_f32_multi(qs: usize, nq: i32, x: usize, n: i32, dim: i32, out: usize, outStride: i32): void {
  let stride = <usize>dim << 2;
  let outStep = <usize>outStride << 2;
  for (let r = 0; r < n; r++, x += stride) {
    let q = qs, o = out + (<usize>r << 2);
    for (let qi = 0; qi < nq; qi++, q += stride, o += outStep) store<f32>(o, l2F32(q, x, dim));
  }
}

export function dot_f32_multi(qs: usize, nq: i32, x: usize, n: i32, dim: i32, out: usize, outStride: i32): void {
  let stride = <usize>dim << 2;
  let outStep = <usize>outStride << 2;
  for (let r = 0; r < n; r++, x += stride) {
    let q = qs, o = out + (<usize>r << 2);
    for (let qi = 0; qi < nq; qi++, q += stride, o += outStep) store<f32>(o, 1 - dotF32(q, x, dim));
  }
}

/** Cosine against cached norms: qNorms = nq f32 (‖q_qi‖, e.g. from norms_f32 over qs). */
export function cosine_f32_normed_multi(qs: usize, qNorms: usize, nq: i32, x: usize, norms: usize, n: i32, dim: i32, out: usize, outStride: i32): void {
  let stride = <usize>dim << 2;
  let outStep = <usize>outStride << 2;
  for (let r = 0; r < n; r++, x += stride) {
    let q = qs, o = out + (<usize>r << 2), xNorm = load<f32>(norms + (<usize>r << 2));
    for (let qi = 0; qi < nq; qi++, q += stride, o += outStep) {
      store<f32>(o, cosineFromParts(dotF32(q, x, dim), load<f32>(qNorms + (<usize>qi << 2)), xNorm));
    }
  }
}
