// Principal components by power iteration: one pass of the covariance matrix times a vector,
// without ever forming the dim × dim covariance.
//
//   x     n × dim f32, row-major      the rows
//   mean  dim f32                      their mean (the host computes it once)
//   v     dim f32                      the current direction
//   out   dim f32                      out = Σ_r ((x_r − mean)·v) (x_r − mean)   (not divided by n)
//
// (x_r − mean)·v = x_r·v − mean·v, and Σ s_r (x_r − mean) = Σ s_r x_r − (Σ s_r) mean, so each row is
// read once: a dot product, then an axpy into `out`. The host divides by n, deflates against the
// components found so far and normalizes (src/kernels/pca.ts).

import { dotF32 } from "./f32";

/** out[i] += a · x[i] over dim lanes. */
// @ts-ignore: decorator
@inline function axpyF32(a: f32, x: usize, out: usize, dim: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    //   out: [o0 o1 o2 o3] += a·[x0 x1 x2 x3], four lanes per step
    let va = f32x4.splat(a);
    for (; i + 4 <= dim; i += 4) {
      let po = out + (<usize>i << 2);
      v128.store(po, f32x4.add(v128.load(po), f32x4.mul(va, v128.load(x + (<usize>i << 2)))));
    }
  } else {
    for (; i + 4 <= dim; i += 4) {
      let po = out + (<usize>i << 2), px = x + (<usize>i << 2);
      store<f32>(po, load<f32>(po) + a * load<f32>(px));
      store<f32>(po, load<f32>(po, 4) + a * load<f32>(px, 4), 4);
      store<f32>(po, load<f32>(po, 8) + a * load<f32>(px, 8), 8);
      store<f32>(po, load<f32>(po, 12) + a * load<f32>(px, 12), 12);
    }
  }
  for (; i < dim; i++) {
    let po = out + (<usize>i << 2);
    store<f32>(po, load<f32>(po) + a * load<f32>(x + (<usize>i << 2)));
  }
}

export function pca_cov_matvec(x: usize, n: i32, dim: i32, mean: usize, v: usize, out: usize): void {
  let stride = <usize>dim << 2;
  memory.fill(out, 0, stride);
  let mv = dotF32(mean, v, dim);
  let total: f32 = 0;
  for (let r = 0; r < n; r++, x += stride) {
    let s = dotF32(x, v, dim) - mv;
    total += s;
    axpyF32(s, x, out, dim);
  }
  axpyF32(-total, mean, out, dim);
}

/** out[r·k + j] = (x_r − mean)·c_j for k components c = k × dim: the rows' coordinates. */
export function pca_project(x: usize, n: i32, dim: i32, mean: usize, c: usize, k: i32, out: usize): void {
  let stride = <usize>dim << 2;
  for (let r = 0; r < n; r++, x += stride) {
    for (let j = 0; j < k; j++) {
      let cj = c + <usize>j * stride;
      store<f32>(out + ((<usize>r * k + j) << 2), dotF32(x, cj, dim) - dotF32(mean, cj, dim));
    }
  }
}
