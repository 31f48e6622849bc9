// Product quantization with 8-bit codes: each vector is cut into M sub-vectors of dsub = dim / M
// floats, and each sub-vector is replaced by the index of its nearest of 256 sub-space centroids.
//
// Shapes:
//   codebook  M × 256 × dsub f32   centroid j of sub-space m at codebook + ((m·256 + j)·dsub)·4
//   codes     n × M u8             row r's code for sub-space m at codes + r·M + m
//   lut       M × 256 f32          lut[m·256 + j] = a distance term between q's m-th sub-vector
//                                  and centroid (m, j); one table per query, 1 KiB per sub-space
//   scratch   M × 256 × (dsub + 1) f32   pq_encode's prepared centroids (kmeans.ts prepareCentroids)
//   norms     n f32, or 0          a per-row term the scan adds (IVF-PQ l2 stores ‖x̂_r‖² there)
//   ids       m i32                row numbers into codes (gather variant)
//   out       n (or m) f32
//   positions, allowed             a query's filter over the rows (pq_adc, see mask.ts)
//
// Asymmetric distance (ADC): d(q, x̂_r) = bias + norms[r] + Σ_m lut[m·256 + codes[r·M + m]].
// There is no SIMD gather in WebAssembly, so the scan is scalar lookups in both builds; four
// independent accumulators keep the adds from waiting on each other, and each accumulator's
// table sits at a constant offset (0, 1, 2, 3 KiB) from a pointer that advances 4 KiB per step.
// An unfiltered scan (no bitmap) skips mask.ts's 32-row groups and scores two rows at a time,
// their lookups interleaved: eight independent sums in flight instead of four.

import { nearest, prepareCentroids, scratchBytes, METRIC_L2 } from "./kmeans";
import { dotF32, l2F32 } from "./f32";
import { groupSize, maskGroup } from "./mask";

const KSUB: i32 = 256;
const TABLE: usize = 1024; // bytes of one sub-space's 256 f32 entries

/** codes[r·M + m] = nearest centroid of sub-space m to x_r's m-th sub-vector (x: n × dim f32). */
export function pq_encode(x: usize, n: i32, dim: i32, M: i32, codebook: usize, scratch: usize, codes: usize): void {
  encodeCodes(x, n, dim, M, KSUB, codebook, scratch, codes);
}

/** pq_encode with `ksub` centroids per sub-space (256 here, 16 for pq4.ts); scratch M × ksub × (dsub + 1) f32. */
export function encodeCodes(x: usize, n: i32, dim: i32, M: i32, ksub: i32, codebook: usize, scratch: usize, codes: usize): void {
  let dsub = dim / M;
  let bookStep = <usize>(ksub * dsub) << 2;
  let scratchStep = scratchBytes(ksub, dsub);
  for (let m = 0; m < M; m++) {
    prepareCentroids(codebook + <usize>m * bookStep, ksub, dsub, METRIC_L2, scratch + <usize>m * scratchStep);
  }
  let rowStep = <usize>dim << 2;
  let subStep = <usize>dsub << 2;
  for (let r = 0; r < n; r++, x += rowStep) {
    let out = codes + <usize>r * <usize>M;
    for (let m = 0; m < M; m++) {
      let j = nearest(x + <usize>m * subStep, dsub, codebook + <usize>m * bookStep, ksub, scratch + <usize>m * scratchStep, 2);
      store<u8>(out + <usize>m, <u8>j);
    }
  }
}

/** out (n × dim f32) = the centroids the codes name, sub-space by sub-space. */
export function pq_decode(codes: usize, n: i32, M: i32, dsub: i32, codebook: usize, out: usize): void {
  let subBytes = <usize>dsub << 2;
  let bookStep = subBytes << 8;
  for (let r = 0; r < n; r++) {
    let row = codes + <usize>r * <usize>M;
    for (let m = 0; m < M; m++) {
      let src = codebook + <usize>m * bookStep + (<usize>load<u8>(row + <usize>m)) * subBytes;
      memory.copy(out, src, subBytes);
      out += subBytes;
    }
  }
}

/** lut[m·256 + j] = ‖q_m − c_mj‖²: summed over m it is ‖q − x̂‖² (PQ over raw vectors). */
export function pq_lut_l2(q: usize, M: i32, dsub: i32, codebook: usize, lut: usize): void {
  tables(q, M, dsub, KSUB, codebook, 0, lut);
}

/**
 * lut[m·256 + j] = w · q_m·c_mj. With w = −1 the sum is −q·r̂ (dot, cosine); with w = −2 it is the
 * cross term of ‖q − c − r̂‖² = ‖q‖² − 2q·c − 2q·r̂ + ‖c + r̂‖² (l2 over residuals).
 */
export function pq_lut_dot(q: usize, M: i32, dsub: i32, codebook: usize, w: f32, lut: usize): void {
  tables(q, M, dsub, KSUB, codebook, w, lut);
}

/** lut[m·ksub + j] = ‖q_m − c_mj‖² (w = 0) or w · q_m·c_mj (w ≠ 0), for ksub centroids per sub-space. */
export function tables(q: usize, M: i32, dsub: i32, ksub: i32, codebook: usize, w: f32, lut: usize): void {
  let subBytes = <usize>dsub << 2;
  for (let m = 0; m < M; m++, q += subBytes) {
    for (let j = 0; j < ksub; j++, codebook += subBytes, lut += 4) store<f32>(lut, w == 0 ? l2F32(q, codebook, dsub) : w * dotF32(q, codebook, dsub));
  }
}

/** Σ_m lut[m·256 + row[m]] for one row of M codes. */
// @ts-ignore: decorator
@inline export function adcRow(lut: usize, row: usize, M: i32): f32 {
  let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
  let t = lut;
  let m = 0;
  for (; m + 4 <= M; m += 4, t += 4 * TABLE) {
    let p = row + <usize>m;
    s0 += load<f32>(t + (<usize>load<u8>(p) << 2));
    s1 += load<f32>(t + (<usize>load<u8>(p, 1) << 2), 1024);
    s2 += load<f32>(t + (<usize>load<u8>(p, 2) << 2), 2048);
    s3 += load<f32>(t + (<usize>load<u8>(p, 3) << 2), 3072);
  }
  for (; m < M; m++, t += TABLE) s0 += load<f32>(t + (<usize>load<u8>(row + <usize>m) << 2));
  return (s0 + s1) + (s2 + s3);
}

/**
 * adcRow for two rows at once, into out and out + 4: the rows' lookups interleave (twice the
 * independent work per step), each row's accumulators take its codes in adcRow's order, so each
 * sum is bit for bit adcRow's.
 */
// @ts-ignore: decorator
@inline function adcPair(lut: usize, a: usize, b: usize, M: i32, bias: f32, out: usize): void {
  let a0: f32 = 0, a1: f32 = 0, a2: f32 = 0, a3: f32 = 0;
  let b0: f32 = 0, b1: f32 = 0, b2: f32 = 0, b3: f32 = 0;
  let t = lut;
  let m = 0;
  for (; m + 4 <= M; m += 4, t += 4 * TABLE) {
    let pa = a + <usize>m;
    let pb = b + <usize>m;
    a0 += load<f32>(t + (<usize>load<u8>(pa) << 2));
    b0 += load<f32>(t + (<usize>load<u8>(pb) << 2));
    a1 += load<f32>(t + (<usize>load<u8>(pa, 1) << 2), 1024);
    b1 += load<f32>(t + (<usize>load<u8>(pb, 1) << 2), 1024);
    a2 += load<f32>(t + (<usize>load<u8>(pa, 2) << 2), 2048);
    b2 += load<f32>(t + (<usize>load<u8>(pb, 2) << 2), 2048);
    a3 += load<f32>(t + (<usize>load<u8>(pa, 3) << 2), 3072);
    b3 += load<f32>(t + (<usize>load<u8>(pb, 3) << 2), 3072);
  }
  for (; m < M; m++, t += TABLE) {
    a0 += load<f32>(t + (<usize>load<u8>(a + <usize>m) << 2));
    b0 += load<f32>(t + (<usize>load<u8>(b + <usize>m) << 2));
  }
  store<f32>(out, bias + ((a0 + a1) + (a2 + a3)));
  store<f32>(out, bias + ((b0 + b1) + (b2 + b3)), 4);
}

/**
 * out[r] = bias + norms[r] + Σ_m lut[m·256 + codes[r·M + m]] for the rows `allowed` lets through
 * (mask.ts; allowed = 0: every row), NaN for the others; norms = 0 leaves that term out. Returns
 * the rows scored.
 */
export function pq_adc(lut: usize, codes: usize, n: i32, M: i32, bias: f32, norms: usize, positions: usize, allowed: usize, out: usize): i32 {
  let scored = 0;
  let r0 = 0;
  if (allowed == 0) {
    // Unfiltered: every row, two at a time, without the groups' bit tests.
    let stride = <usize>M;
    let row = codes;
    let o = out;
    for (; r0 + 2 <= n; r0 += 2, row += stride << 1, o += 8) adcPair(lut, row, row + stride, M, bias, o);
    if (r0 < n) store<f32>(o, bias + adcRow(lut, row, M));
    if (norms != 0) for (let r = 0; r < n; r++) store<f32>(out + (<usize>r << 2), load<f32>(out + (<usize>r << 2)) + load<f32>(norms + (<usize>r << 2)));
    return n;
  }
  for (; r0 < n; r0 += 32) {
    let bits = maskGroup(positions, allowed, r0, groupSize(r0, n), out);
    scored += <i32>popcnt<u32>(bits);
    while (bits != 0) {
      let r = r0 + <i32>ctz<u32>(bits);
      bits &= bits - 1;
      let o = <usize>r << 2;
      let d = bias + adcRow(lut, codes + <usize>r * <usize>M, M);
      store<f32>(out + o, norms == 0 ? d : d + load<f32>(norms + o));
    }
  }
  return scored;
}

/** pq_adc for rows ids[0..m). */
export function pq_adc_gather(lut: usize, codes: usize, ids: usize, m: i32, M: i32, bias: f32, norms: usize, out: usize): void {
  for (let j = 0; j < m; j++) {
    let o = <usize>j << 2;
    let id = <usize>load<i32>(ids + o);
    let s = bias + adcRow(lut, codes + id * <usize>M, M);
    if (norms != 0) s += load<f32>(norms + (id << 2));
    store<f32>(out + o, s);
  }
}
