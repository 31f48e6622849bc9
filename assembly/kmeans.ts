// k-means building blocks: nearest-centroid assignment and the sums of the update step. The host
// drives the iterations (src/ann/kmeans.ts); each call here covers one block of rows.
//
// Shapes:
//   x       n rows of `dim` f32; row r starts at x + r·stride·4. stride ≥ dim: with stride > dim
//           the rows are one sub-space of wider vectors (product quantization trains sub-space
//           m by pointing x at column m·dsub with stride = the full dimension)
//   c       k × dim f32, row-major, dense (stride = dim)
//   scratch k·(dim + 1) f32; assign prepares the centroids there (prepareCentroids)
//   assign  n i32   index of the nearest centroid (ties: the lowest index)
//   dist    n f32   its distance: ‖x − c‖² (metric 0, l2) or 1 − x·c (metric 1, dot)
//   sums    k × dim f32, counts k i32   accumulated by kmeans_update (the host zeroes them)
//   mind    n f32   running minimum distance to the chosen centres (k-means++ seeding)
//
// l2 ranks centroids by ‖c‖² − 2·x·c (‖x‖² is the same for every centroid), so each pair costs one
// dot product. Four centroids share every load of x (`dot4`); for rows of at most 8 floats (PQ
// sub-spaces) the centroids are transposed in groups of four instead, so one step scores four.

import { dotF32, l2F32 } from "./f32";

export const METRIC_L2: i32 = 0;
export const METRIC_DOT: i32 = 1;

/** Score of the last `nearest` call (‖c‖² − 2x·c for l2, −x·c for dot). */
let nearestScore: f32 = 0;

/**
 * x·c_j for the four centroids starting at c (row stride cstride bytes), as one vector.
 *
 *   acc_j lanes: [Σ x_i·c_ji for i ≡ 0, 1, 2, 3 (mod 4)]
 *   transpose-add → [Σ acc_0, Σ acc_1, Σ acc_2, Σ acc_3]
 */
// @ts-ignore: decorator
@inline function dot4(x: usize, c: usize, cstride: usize, dim: i32): v128 {
  let c1 = c + cstride, c2 = c1 + cstride, c3 = c2 + cstride;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= dim; i += 4) {
    let o = <usize>i << 2;
    let xv = v128.load(x + o);
    a0 = f32x4.add(a0, f32x4.mul(xv, v128.load(c + o)));
    a1 = f32x4.add(a1, f32x4.mul(xv, v128.load(c1 + o)));
    a2 = f32x4.add(a2, f32x4.mul(xv, v128.load(c2 + o)));
    a3 = f32x4.add(a3, f32x4.mul(xv, v128.load(c3 + o)));
  }
  return dot4Tail(sum4(a0, a1, a2, a3), x, c, cstride, i, dim);
}

/** [Σ a0, Σ a1, Σ a2, Σ a3] by a transpose-add. */
function sum4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  // [a0_0+a0_2, a1_0+a1_2, a0_1+a0_3, a1_1+a1_3] and likewise for a2, a3
  let s01 = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 4, 1, 5), v128.shuffle<f32>(a0, a1, 2, 6, 3, 7));
  let s23 = f32x4.add(v128.shuffle<f32>(a2, a3, 0, 4, 1, 5), v128.shuffle<f32>(a2, a3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(s01, s23, 0, 1, 4, 5), v128.shuffle<f32>(s01, s23, 2, 3, 6, 7));
}

/** s plus the products of the columns [i, dim) that do not fill a vector (dim mod 4), added per centroid. */
function dot4Tail(s: v128, x: usize, c: usize, cstride: usize, i: i32, dim: i32): v128 {
  if (i >= dim) return s;
  let c1 = c + cstride, c2 = c1 + cstride, c3 = c2 + cstride;
  let t0: f32 = 0, t1: f32 = 0, t2: f32 = 0, t3: f32 = 0;
  for (; i < dim; i++) {
    let o = <usize>i << 2;
    let xi = load<f32>(x + o);
    t0 += xi * load<f32>(c + o);
    t1 += xi * load<f32>(c1 + o);
    t2 += xi * load<f32>(c2 + o);
    t3 += xi * load<f32>(c3 + o);
  }
  let t = f32x4.replace_lane(f32x4.splat(t0), 1, t1);
  t = f32x4.replace_lane(f32x4.replace_lane(t, 2, t2), 3, t3);
  return f32x4.add(s, t);
}

/** Widest rows that take the transposed path (one splat per coordinate, no horizontal sums). */
const SMALL_DIM: i32 = 8;

/** Bytes of scratch `prepareCentroids` needs for k centroids of dim floats: k·(dim + 1) f32. */
// @ts-ignore: decorator
@inline export function scratchBytes(k: i32, dim: i32): usize {
  return <usize>k * <usize>(dim + 1) << 2;
}

/**
 * Fills the scratch `nearest` reads (k·(dim + 1) f32):
 *
 *   cnorm   k f32                  ‖c_j‖² for l2, 0 for dot
 *   groups  ⌊k/4⌋ × dim × 4 f32    small dims only (SIMD build): centroids 4j … 4j+3 transposed and
 *                                  scaled by −w, so coordinate i of the group is one vector
 *                                  [−w·c_4j[i], −w·c_4j+1[i], −w·c_4j+2[i], −w·c_4j+3[i]]
 */
export function prepareCentroids(c: usize, k: i32, dim: i32, metric: i32, scratch: usize): void {
  let stride = <usize>dim << 2;
  for (let j = 0; j < k; j++) {
    store<f32>(scratch + (<usize>j << 2), metric == METRIC_L2 ? dotF32(c + <usize>j * stride, c + <usize>j * stride, dim) : 0);
  }
  if (ASC_FEATURE_SIMD && dim <= SMALL_DIM) {
    let w: f32 = metric == METRIC_L2 ? -2 : -1;
    let groups = scratch + (<usize>k << 2);
    for (let j = 0; j + 4 <= k; j += 4) {
      let g = groups + <usize>(j >> 2) * (stride << 2);
      for (let i = 0; i < dim; i++) {
        for (let l = 0; l < 4; l++) {
          store<f32>(g + (<usize>i << 4) + (<usize>l << 2), w * load<f32>(c + <usize>(j + l) * stride + (<usize>i << 2)));
        }
      }
    }
  }
}

/**
 * Index of the centroid with the smallest score ‖c_j‖² − 2x·c_j (l2) or −x·c_j (dot), i.e.
 * cnorm_j − w·x·c_j with w = 2 or 1, from a scratch filled by prepareCentroids for the same metric.
 * Leaves the score in nearestScore.
 */
export function nearest(x: usize, dim: i32, c: usize, k: i32, scratch: usize, w: f32): i32 {
  let stride = <usize>dim << 2;
  let best: f32 = Infinity;
  let bestJ = 0;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    // Each lane keeps the best of the centroids j ≡ lane (mod 4); strict < keeps the first.
    let bestV = f32x4.splat(Infinity);
    let bestI = i32x4.splat(0);
    let idx = i32x4(0, 1, 2, 3);
    if (dim <= SMALL_DIM) {
      // score_4j..4j+3 = cnorm + Σ_i x_i · group_i: four centroids per step, no horizontal sums.
      let g = scratch + (<usize>k << 2);
      let groupStep = stride << 2;
      if (dim == 4) {
        let x0 = f32x4.splat(load<f32>(x)), x1 = f32x4.splat(load<f32>(x, 4));
        let x2 = f32x4.splat(load<f32>(x, 8)), x3 = f32x4.splat(load<f32>(x, 12));
        // Two groups per step into two running minima: the compare-and-select chain through
        // one minimum would otherwise bound the loop at one group per ~5 cycles.
        let bestV2 = f32x4.splat(Infinity);
        let bestI2 = i32x4.splat(0);
        let idx2 = i32x4(4, 5, 6, 7);
        for (; j + 8 <= k; j += 8, g += groupStep << 1) {
          let s = f32x4.add(v128.load(scratch + (<usize>j << 2)), f32x4.mul(x0, v128.load(g)));
          let t = f32x4.add(v128.load(scratch + (<usize>j << 2), 16), f32x4.mul(x0, v128.load(g, 64)));
          s = f32x4.add(s, f32x4.mul(x1, v128.load(g, 16)));
          t = f32x4.add(t, f32x4.mul(x1, v128.load(g, 80)));
          s = f32x4.add(s, f32x4.mul(x2, v128.load(g, 32)));
          t = f32x4.add(t, f32x4.mul(x2, v128.load(g, 96)));
          s = f32x4.add(s, f32x4.mul(x3, v128.load(g, 48)));
          t = f32x4.add(t, f32x4.mul(x3, v128.load(g, 112)));
          let lt = f32x4.lt(s, bestV);
          bestV = v128.bitselect(s, bestV, lt);
          bestI = v128.bitselect(idx, bestI, lt);
          let lt2 = f32x4.lt(t, bestV2);
          bestV2 = v128.bitselect(t, bestV2, lt2);
          bestI2 = v128.bitselect(idx2, bestI2, lt2);
          idx = i32x4.add(idx, i32x4.splat(8));
          idx2 = i32x4.add(idx2, i32x4.splat(8));
        }
        // Merge lane by lane: the smaller score, the lower index on ties.
        let take = v128.or(f32x4.lt(bestV2, bestV), v128.and(f32x4.eq(bestV2, bestV), i32x4.lt_s(bestI2, bestI)));
        bestV = v128.bitselect(bestV2, bestV, take);
        bestI = v128.bitselect(bestI2, bestI, take);
        for (; j + 4 <= k; j += 4, g += groupStep) {
          let s = f32x4.add(v128.load(scratch + (<usize>j << 2)), f32x4.mul(x0, v128.load(g)));
          s = f32x4.add(s, f32x4.mul(x1, v128.load(g, 16)));
          s = f32x4.add(s, f32x4.mul(x2, v128.load(g, 32)));
          s = f32x4.add(s, f32x4.mul(x3, v128.load(g, 48)));
          let lt = f32x4.lt(s, bestV);
          bestV = v128.bitselect(s, bestV, lt);
          bestI = v128.bitselect(idx, bestI, lt);
          idx = i32x4.add(idx, i32x4.splat(4));
        }
      } else {
        for (; j + 4 <= k; j += 4, g += groupStep) {
          let s = v128.load(scratch + (<usize>j << 2));
          for (let i = 0; i < dim; i++) s = f32x4.add(s, f32x4.mul(f32x4.splat(load<f32>(x + (<usize>i << 2))), v128.load(g + (<usize>i << 4))));
          let lt = f32x4.lt(s, bestV);
          bestV = v128.bitselect(s, bestV, lt);
          bestI = v128.bitselect(idx, bestI, lt);
          idx = i32x4.add(idx, i32x4.splat(4));
        }
      }
    } else {
      let wv = f32x4.splat(w);
      for (; j + 4 <= k; j += 4) {
        let d = dot4(x, c + <usize>j * stride, stride, dim);
        let score = f32x4.sub(v128.load(scratch + (<usize>j << 2)), f32x4.mul(wv, d));
        let lt = f32x4.lt(score, bestV);
        bestV = v128.bitselect(score, bestV, lt);
        bestI = v128.bitselect(idx, bestI, lt);
        idx = i32x4.add(idx, i32x4.splat(4));
      }
    }
    if (j > 0) {
      bestJ = foldLanes(bestV, bestI);
      best = foldedScore;
    }
  }
  for (; j < k; j++) {
    let score = load<f32>(scratch + (<usize>j << 2)) - w * dotF32(x, c + <usize>j * stride, dim);
    if (score < best) { best = score; bestJ = j; }
  }
  nearestScore = best;
  return bestJ;
}

/** The lane of the smallest score, ties to the lowest index (its index; the score in foldedScore). */
function foldLanes(bestV: v128, bestI: v128): i32 {
  let best = f32x4.extract_lane(bestV, 0);
  let bestJ = i32x4.extract_lane(bestI, 0);
  let v1 = f32x4.extract_lane(bestV, 1), i1 = i32x4.extract_lane(bestI, 1);
  let v2 = f32x4.extract_lane(bestV, 2), i2 = i32x4.extract_lane(bestI, 2);
  let v3 = f32x4.extract_lane(bestV, 3), i3 = i32x4.extract_lane(bestI, 3);
  if (v1 < best || (v1 == best && i1 < bestJ)) { best = v1; bestJ = i1; }
  if (v2 < best || (v2 == best && i2 < bestJ)) { best = v2; bestJ = i2; }
  if (v3 < best || (v3 == best && i3 < bestJ)) { best = v3; bestJ = i3; }
  foldedScore = best;
  return bestJ;
}

let foldedScore: f32 = 0;

/** `nearest` of row y, from the last `nearestPair` call (its score in nearestScoreY). */
let nearestY: i32 = 0;
let nearestScoreY: f32 = 0;

/**
 * `nearest` for rows x and y at once (SIMD build, dim > SMALL_DIM): the same centroids and scores
 * as two `nearest` calls, each load of a centroid serving both rows — which halves the centroid
 * traffic, the bound once the centroids outgrow the core's cache (1,000 × 384 f32 is 1.5 MB).
 * Returns x's; y's is left in nearestY and nearestScoreY.
 */
function nearestPair(x: usize, y: usize, dim: i32, c: usize, k: i32, scratch: usize, w: f32): i32 {
  let stride = <usize>dim << 2;
  let bestX: f32 = Infinity, bestY: f32 = Infinity;
  let bestJX = 0, bestJY = 0;
  let j = 0;
  let bestV = f32x4.splat(Infinity), bestW = f32x4.splat(Infinity);
  let bestI = i32x4.splat(0), bestIW = i32x4.splat(0);
  let idx = i32x4(0, 1, 2, 3);
  let wv = f32x4.splat(w);
  for (; j + 4 <= k; j += 4) {
    // dot4 of both rows, each row's sums in dot4's order (the same floats).
    let c0 = c + <usize>j * stride, c1 = c0 + stride, c2 = c1 + stride, c3 = c2 + stride;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
    let i = 0;
    for (; i + 4 <= dim; i += 4) {
      let o = <usize>i << 2;
      let xv = v128.load(x + o);
      let yv = v128.load(y + o);
      let v = v128.load(c0 + o);
      a0 = f32x4.add(a0, f32x4.mul(xv, v));
      b0 = f32x4.add(b0, f32x4.mul(yv, v));
      v = v128.load(c1 + o);
      a1 = f32x4.add(a1, f32x4.mul(xv, v));
      b1 = f32x4.add(b1, f32x4.mul(yv, v));
      v = v128.load(c2 + o);
      a2 = f32x4.add(a2, f32x4.mul(xv, v));
      b2 = f32x4.add(b2, f32x4.mul(yv, v));
      v = v128.load(c3 + o);
      a3 = f32x4.add(a3, f32x4.mul(xv, v));
      b3 = f32x4.add(b3, f32x4.mul(yv, v));
    }
    let cn = v128.load(scratch + (<usize>j << 2));
    let sx = f32x4.sub(cn, f32x4.mul(wv, dot4Tail(sum4(a0, a1, a2, a3), x, c0, stride, i, dim)));
    let sy = f32x4.sub(cn, f32x4.mul(wv, dot4Tail(sum4(b0, b1, b2, b3), y, c0, stride, i, dim)));
    let lt = f32x4.lt(sx, bestV);
    bestV = v128.bitselect(sx, bestV, lt);
    bestI = v128.bitselect(idx, bestI, lt);
    let ltY = f32x4.lt(sy, bestW);
    bestW = v128.bitselect(sy, bestW, ltY);
    bestIW = v128.bitselect(idx, bestIW, ltY);
    idx = i32x4.add(idx, i32x4.splat(4));
  }
  if (j > 0) {
    bestJX = foldLanes(bestV, bestI);
    bestX = foldedScore;
    bestJY = foldLanes(bestW, bestIW);
    bestY = foldedScore;
  }
  for (; j < k; j++) {
    let cj = c + <usize>j * stride;
    let cn = load<f32>(scratch + (<usize>j << 2));
    let sx = cn - w * dotF32(x, cj, dim);
    if (sx < bestX) { bestX = sx; bestJX = j; }
    let sy = cn - w * dotF32(y, cj, dim);
    if (sy < bestY) { bestY = sy; bestJY = j; }
  }
  nearestScore = bestX;
  nearestY = bestJY;
  nearestScoreY = bestY;
  return bestJX;
}

/** Nearest centroid and its distance for each of n rows; scratch = k·(dim + 1) f32. */
export function kmeans_assign(x: usize, n: i32, dim: i32, stride: i32, c: usize, k: i32, metric: i32, scratch: usize, assign: usize, dist: usize): void {
  prepareCentroids(c, k, dim, metric, scratch);
  let rowStep = <usize>stride << 2;
  let w: f32 = metric == METRIC_L2 ? 2 : 1;
  let cstride = <usize>dim << 2;
  let r = 0;
  if (ASC_FEATURE_SIMD && dim > SMALL_DIM) {
    // Rows in pairs: one pass over the centroids serves two rows.
    for (; r + 2 <= n; r += 2, x += rowStep << 1) {
      let o = <usize>r << 2;
      let y = x + rowStep;
      let j = nearestPair(x, y, dim, c, k, scratch, w);
      store<i32>(assign + o, j);
      store<i32>(assign + o, nearestY, 4);
      store<f32>(dist + o, metric == METRIC_L2 ? l2F32(x, c + <usize>j * cstride, dim) : 1 + nearestScore);
      store<f32>(dist + o, metric == METRIC_L2 ? l2F32(y, c + <usize>nearestY * cstride, dim) : 1 + nearestScoreY, 4);
    }
  }
  for (; r < n; r++, x += rowStep) {
    let o = <usize>r << 2;
    let j = nearest(x, dim, c, k, scratch, w);
    store<i32>(assign + o, j);
    // The ranking score ‖c‖² − 2x·c loses precision to cancellation, so the reported l2 distance
    // is recomputed directly (one more pass over dim, against k passes for the search).
    let d: f32 = metric == METRIC_L2 ? l2F32(x, c + <usize>j * cstride, dim) : 1 + nearestScore;
    store<f32>(dist + o, d);
  }
}

/** sums[assign_r] += x_r and counts[assign_r] += 1 for each row. */
export function kmeans_update(x: usize, n: i32, dim: i32, stride: i32, assign: usize, sums: usize, counts: usize): void {
  let rowStep = <usize>stride << 2;
  let sumStep = <usize>dim << 2;
  for (let r = 0; r < n; r++, x += rowStep) {
    let a = <usize>load<i32>(assign + (<usize>r << 2));
    let s = sums + a * sumStep;
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      for (; i + 4 <= dim; i += 4) {
        let o = <usize>i << 2;
        v128.store(s + o, f32x4.add(v128.load(s + o), v128.load(x + o)));
      }
    }
    for (; i < dim; i++) {
      let o = <usize>i << 2;
      store<f32>(s + o, load<f32>(s + o) + load<f32>(x + o));
    }
    let co = counts + (a << 2);
    store<i32>(co, load<i32>(co) + 1);
  }
}

/**
 * k-means++ seeding step: mind[r] = min(mind[r], d(x_r, c)) for one new centre c (dim f32), and
 * returns Σ mind as f64, the total weight the host samples the next centre from.
 */
export function kmeanspp_update(x: usize, n: i32, dim: i32, stride: i32, c: usize, metric: i32, mind: usize): f64 {
  let rowStep = <usize>stride << 2;
  let total: f64 = 0;
  for (let r = 0; r < n; r++, x += rowStep) {
    let o = mind + (<usize>r << 2);
    let d: f32 = metric == METRIC_L2 ? l2F32(x, c, dim) : 1 - dotF32(x, c, dim);
    let m = min<f32>(load<f32>(o), d);
    store<f32>(o, m);
    total += <f64>m;
  }
  return total;
}

/** The first r with Σ_{i≤r} mind_i > target (n − 1 if rounding leaves none): weighted sampling. */
export function kmeanspp_pick(mind: usize, n: i32, target: f64): i32 {
  let acc: f64 = 0;
  for (let r = 0; r < n; r++) {
    acc += <f64>load<f32>(mind + (<usize>r << 2));
    if (acc > target) return r;
  }
  return n - 1;
}
