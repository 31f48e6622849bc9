/**
 * Plain-TypeScript versions of every kernel: straightforward loops in f64, no tricks. They are
 * the oracle for the WebAssembly parity tests and the "plain JS loop" baseline in benchmarks.
 *
 * Shapes match the kernels: `x` is n × dim row-major, `ids` lists row numbers (gather), and
 * every scan returns one f32 distance per scanned row.
 */
import type { DistanceRange, Metric, SearchResult } from "./types.js";

type Vec = ArrayLike<number>;

function rowsOf(x: Vec, dim: number, ids?: ArrayLike<number>): ArrayLike<number> {
  if (ids) return ids;
  const n = dim === 0 ? 0 : Math.floor(x.length / dim);
  return Array.from({ length: n }, (_, r) => r);
}

export function l2(q: Vec, x: Vec, dim: number, ids?: ArrayLike<number>): Float32Array {
  const rows = rowsOf(x, dim, ids);
  const out = new Float32Array(rows.length);
  for (let j = 0; j < rows.length; j++) {
    const base = rows[j]! * dim;
    let s = 0;
    for (let i = 0; i < dim; i++) {
      const d = q[i]! - x[base + i]!;
      s += d * d;
    }
    out[j] = s;
  }
  return out;
}

/** 1 − q·x */
export function dot(q: Vec, x: Vec, dim: number, ids?: ArrayLike<number>): Float32Array {
  const rows = rowsOf(x, dim, ids);
  const out = new Float32Array(rows.length);
  for (let j = 0; j < rows.length; j++) {
    const base = rows[j]! * dim;
    let s = 0;
    for (let i = 0; i < dim; i++) s += q[i]! * x[base + i]!;
    out[j] = 1 - s;
  }
  return out;
}

/** 1 − q·x / (‖q‖‖x‖), or 1 when either norm is 0. */
export function cosine(q: Vec, x: Vec, dim: number, ids?: ArrayLike<number>): Float32Array {
  const rows = rowsOf(x, dim, ids);
  const out = new Float32Array(rows.length);
  let qq = 0;
  for (let i = 0; i < dim; i++) qq += q[i]! * q[i]!;
  const qNorm = Math.sqrt(qq);
  for (let j = 0; j < rows.length; j++) {
    const base = rows[j]! * dim;
    let s = 0;
    let xx = 0;
    for (let i = 0; i < dim; i++) {
      s += q[i]! * x[base + i]!;
      xx += x[base + i]! * x[base + i]!;
    }
    const denom = qNorm * Math.sqrt(xx);
    out[j] = denom === 0 ? 1 : 1 - s / denom;
  }
  return out;
}

/** popcount(q xor x) over `bytes` packed bytes per row. */
export function hamming(q: Vec, x: Vec, bytes: number, ids?: ArrayLike<number>): Float32Array {
  const rows = rowsOf(x, bytes, ids);
  const out = new Float32Array(rows.length);
  for (let j = 0; j < rows.length; j++) {
    const base = rows[j]! * bytes;
    let s = 0;
    for (let i = 0; i < bytes; i++) {
      let v = (q[i]! ^ x[base + i]!) & 0xff;
      while (v !== 0) {
        s += v & 1;
        v >>>= 1;
      }
    }
    out[j] = s;
  }
  return out;
}

/** ‖x_r‖ for each row. */
export function norms(x: Vec, dim: number): Float32Array {
  const n = dim === 0 ? 0 : Math.floor(x.length / dim);
  const out = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let i = 0; i < dim; i++) s += x[r * dim + i]! * x[r * dim + i]!;
    out[r] = Math.sqrt(s);
  }
  return out;
}

export function distances(metric: Metric, q: Vec, x: Vec, dim: number, ids?: ArrayLike<number>): Float32Array {
  switch (metric) {
    case "l2": return l2(q, x, dim, ids);
    case "dot": return dot(q, x, dim, ids);
    case "cosine": return cosine(q, x, dim, ids);
    case "hamming": return hamming(q, x, dim, ids);
  }
}

/** Half-precision bit patterns → f32, by the IEEE 754 definition. */
export function f16ToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const h = src[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) out[i] = sign * mant * 2 ** -24;
    else if (exp === 0x1f) out[i] = mant ? NaN : sign * Infinity;
    else out[i] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/**
 * The k smallest of `dist` with lo ≤ d < hi (hi = +Infinity: no upper bound), NaN skipped,
 * ascending by distance then index. Keeps a sorted list of the best k by insertion.
 */
export function topk(dist: ArrayLike<number>, k: number, lo = -Infinity, hi = Infinity): { index: Int32Array; distance: Float32Array } {
  const index: number[] = [];
  const best: number[] = [];
  if (k > 0) {
    for (let i = 0; i < dist.length; i++) {
      const d = dist[i]!;
      if (!(d >= lo && (d < hi || hi === Infinity))) continue;
      if (best.length === k && !(d < best[k - 1]!)) continue;
      let at = best.length;
      while (at > 0 && best[at - 1]! > d) at--;
      best.splice(at, 0, d);
      index.splice(at, 0, i);
      if (best.length > k) {
        best.pop();
        index.pop();
      }
    }
  }
  return { index: Int32Array.from(index), distance: Float32Array.from(best) };
}

/** Reference for `Kernels.search`: scan every target, then one top-k over all distances. */
export function search(
  metric: Metric,
  query: Vec,
  targets: { data: Vec; ids?: ArrayLike<number> }[],
  dim: number,
  k: number,
  range: DistanceRange = {},
): SearchResult {
  const all: number[] = [];
  const origin: [number, number][] = [];
  targets.forEach((t, ti) => {
    const d = distances(metric, query, t.data, dim, t.ids);
    const rows = rowsOf(t.data, dim, t.ids);
    for (let j = 0; j < d.length; j++) {
      all.push(d[j]!);
      origin.push([ti, rows[j]!]);
    }
  });
  const top = topk(all, k, range.lo ?? -Infinity, range.hi ?? Infinity);
  return {
    target: Int32Array.from(top.index, (i) => origin[i]![0]),
    row: Int32Array.from(top.index, (i) => origin[i]![1]),
    distance: top.distance,
  };
}
