/**
 * Plain-TypeScript versions of every kernel: straightforward loops in f64, no tricks. They are
 * the oracle for the WebAssembly parity tests and the "plain JS loop" baseline in benchmarks.
 *
 * Shapes match the kernels: `x` is n × dim row-major, `ids` lists row numbers (gather), and
 * every scan returns one f32 distance per scanned row.
 */
import type { DistanceRange, Metric, SearchResult } from "../../src/kernels/types.js";

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

// ── index kernels: k-means, product quantization, scalar quantization ─────────────────────────
// Shapes as in assembly/kmeans.ts, pq.ts and sq.ts. `metric` is "l2" (squared distance) or "dot"
// (1 − x·c).

/** Nearest centroid (lowest index on ties) and its distance for each row of x (n × dim). */
export function kmeansAssign(x: Vec, dim: number, c: Vec, k: number, metric: "l2" | "dot"): { assign: Int32Array; dist: Float32Array } {
  const n = Math.floor(x.length / dim);
  const assign = new Int32Array(n);
  const dist = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let best = Infinity;
    let bestJ = 0;
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let i = 0; i < dim; i++) {
        const a = x[r * dim + i]!;
        const b = c[j * dim + i]!;
        s += metric === "l2" ? (a - b) * (a - b) : a * b;
      }
      const d = metric === "l2" ? s : 1 - s;
      if (d < best) {
        best = d;
        bestJ = j;
      }
    }
    assign[r] = bestJ;
    dist[r] = best;
  }
  return { assign, dist };
}

/** Per-centroid sums (k × dim) and counts of the rows assigned to it. */
export function kmeansUpdate(x: Vec, dim: number, assign: ArrayLike<number>, k: number): { sums: Float32Array; counts: Int32Array } {
  const sums = new Float32Array(k * dim);
  const counts = new Int32Array(k);
  for (let r = 0; r < assign.length; r++) {
    const a = assign[r]!;
    counts[a]!++;
    for (let i = 0; i < dim; i++) sums[a * dim + i]! += x[r * dim + i]!;
  }
  return { sums, counts };
}

/** PQ codes (n × M) with 256 centroids per sub-space: codebook is M × 256 × dsub. */
export function pqEncode(x: Vec, dim: number, M: number, codebook: Vec): Uint8Array {
  const n = Math.floor(x.length / dim);
  const dsub = dim / M;
  const codes = new Uint8Array(n * M);
  const sub = new Float64Array(dsub);
  const books = Array.from({ length: M }, (_, m) => Float64Array.from({ length: 256 * dsub }, (_, i) => codebook[m * 256 * dsub + i]!));
  for (let r = 0; r < n; r++) {
    for (let m = 0; m < M; m++) {
      for (let i = 0; i < dsub; i++) sub[i] = x[r * dim + m * dsub + i]!;
      codes[r * M + m] = kmeansAssign(sub, dsub, books[m]!, 256, "l2").assign[0]!;
    }
  }
  return codes;
}

export function pqDecode(codes: ArrayLike<number>, M: number, dsub: number, codebook: Vec): Float32Array {
  const n = Math.floor(codes.length / M);
  const out = new Float32Array(n * M * dsub);
  for (let r = 0; r < n; r++) {
    for (let m = 0; m < M; m++) {
      const j = codes[r * M + m]!;
      for (let i = 0; i < dsub; i++) out[(r * M + m) * dsub + i] = codebook[(m * 256 + j) * dsub + i]!;
    }
  }
  return out;
}

/** M × 256 table: ‖q_m − c_mj‖² ("l2") or w·q_m·c_mj ("dot"). */
export function pqLut(metric: "l2" | "dot", q: Vec, M: number, dsub: number, codebook: Vec, w = 1): Float32Array {
  const lut = new Float32Array(M * 256);
  for (let m = 0; m < M; m++) {
    for (let j = 0; j < 256; j++) {
      let s = 0;
      for (let i = 0; i < dsub; i++) {
        const a = q[m * dsub + i]!;
        const b = codebook[(m * 256 + j) * dsub + i]!;
        s += metric === "l2" ? (a - b) * (a - b) : a * b;
      }
      lut[m * 256 + j] = metric === "l2" ? s : w * s;
    }
  }
  return lut;
}

/** bias + norms[r] + Σ_m lut[m·256 + codes[r·M + m]] for each row (or rows `ids`). */
export function pqAdc(lut: Vec, codes: ArrayLike<number>, M: number, bias: number, norms?: Vec, ids?: ArrayLike<number>): Float32Array {
  const rows = ids ?? Array.from({ length: Math.floor(codes.length / M) }, (_, r) => r);
  const out = new Float32Array(rows.length);
  for (let j = 0; j < rows.length; j++) {
    const r = rows[j]!;
    let s = bias + (norms ? norms[r]! : 0);
    for (let m = 0; m < M; m++) s += lut[m * 256 + codes[r * M + m]!]!;
    out[j] = s;
  }
  return out;
}

/** Per-dimension minimum and maximum over the rows of x. */
export function sqBounds(x: Vec, dim: number): { lo: Float32Array; hi: Float32Array } {
  const lo = new Float32Array(dim).fill(Infinity);
  const hi = new Float32Array(dim).fill(-Infinity);
  for (let r = 0; r < x.length / dim; r++) {
    for (let i = 0; i < dim; i++) {
      lo[i] = Math.min(lo[i]!, x[r * dim + i]!);
      hi[i] = Math.max(hi[i]!, x[r * dim + i]!);
    }
  }
  return { lo, hi };
}

/** clamp(round half to even((x − offset)·invScale), −128, 127), computed in f32 like the kernel. */
export function sqEncode(x: Vec, dim: number, offset: Vec, invScale: Vec): Int8Array {
  const out = new Int8Array(x.length);
  for (let j = 0; j < x.length; j++) {
    const i = j % dim;
    const v = Math.fround(Math.fround(x[j]! - offset[i]!) * invScale[i]!);
    out[j] = roundHalfEven(Math.min(127, Math.max(-128, v)));
  }
  return out;
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const diff = v - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export function sqDecode(codes: ArrayLike<number>, dim: number, offset: Vec, scale: Vec): Float32Array {
  const out = new Float32Array(codes.length);
  for (let j = 0; j < codes.length; j++) out[j] = offset[j % dim]! + scale[j % dim]! * codes[j]!;
  return out;
}

/** Exact distances from q to the decoded rows: l2 = ‖q − x̂‖², dot = 1 − q·x̂. */
export function sqDistances(metric: "l2" | "dot", q: Vec, codes: ArrayLike<number>, dim: number, offset: Vec, scale: Vec, ids?: ArrayLike<number>): Float32Array {
  const decoded = sqDecode(codes, dim, offset, scale);
  return metric === "l2" ? l2(q, decoded, dim, ids) : dot(q, decoded, dim, ids);
}

/** bias + w·Σ qi_i·c_ri + norms[r] for each row (or rows `ids`): the integer SQ scan. */
export function sqIp(qi: ArrayLike<number>, codes: ArrayLike<number>, dim: number, w: number, bias: number, norms?: Vec, ids?: ArrayLike<number>): Float32Array {
  const rows = ids ?? Array.from({ length: Math.floor(codes.length / dim) }, (_, r) => r);
  const out = new Float32Array(rows.length);
  for (let j = 0; j < rows.length; j++) {
    const r = rows[j]!;
    let s = 0;
    for (let i = 0; i < dim; i++) s += qi[i]! * codes[r * dim + i]!;
    out[j] = bias + w * s + (norms ? norms[r]! : 0);
  }
  return out;
}

/** ‖scale ∘ c_r‖² per row. */
export function sqNorms(codes: ArrayLike<number>, dim: number, scale: Vec): Float32Array {
  const out = new Float32Array(Math.floor(codes.length / dim));
  for (let r = 0; r < out.length; r++) {
    let s = 0;
    for (let i = 0; i < dim; i++) s += (scale[i]! * codes[r * dim + i]!) ** 2;
    out[r] = s;
  }
  return out;
}

/**
 * Best-first search of one graph layer (assembly/hnsw.ts) over plain vectors: links = n × stride
 * ([count, neighbours…] per node), distance(v) = the query's distance to node v, `allowed` = which
 * nodes may enter the results. Returns up to ef results, nearest first.
 */
export function graphSearch(
  links: ArrayLike<number>, stride: number, distance: (v: number) => number, ep: number, ef: number, allowed?: (v: number) => boolean,
): { ids: Int32Array; distances: Float32Array } {
  const visited = new Set<number>([ep]);
  const epDist = distance(ep);
  const candidates: [number, number][] = [[epDist, ep]];
  const results: [number, number][] = allowed && !allowed(ep) ? [] : [[epDist, ep]];
  const worst = (): number => (results.length > 0 ? Math.max(...results.map((r) => r[0])) : Infinity);
  while (candidates.length > 0) {
    candidates.sort((a, b) => a[0] - b[0]);
    const [d, c] = candidates[0]!;
    if (d > worst() && results.length >= ef) break;
    candidates.shift();
    const count = links[c * stride]!;
    for (let j = 1; j <= count; j++) {
      const nb = links[c * stride + j]!;
      if (visited.has(nb)) continue;
      visited.add(nb);
      const dn = distance(nb);
      if (results.length < ef || dn < worst()) {
        candidates.push([dn, nb]);
        if (!allowed || allowed(nb)) {
          results.push([dn, nb]);
          if (results.length > ef) {
            results.sort((a, b) => a[0] - b[0]);
            results.pop();
          }
        }
      }
    }
  }
  results.sort((a, b) => a[0] - b[0]);
  return { ids: Int32Array.from(results, (r) => r[1]), distances: Float32Array.from(results, (r) => r[0]) };
}

/**
 * HNSW's greedy descent, as hnswlib writes it: from `entry` at layer `top` down to layer `to` + 1,
 * walk the current node's list and move to each neighbour strictly nearer than the best so far,
 * until a list brings none; nodes ≥ limit are passed over. `list(v, layer)`: v's neighbours there.
 */
export function graphDescend(
  list: (v: number, layer: number) => ArrayLike<number>, distance: (v: number) => number, entry: number, top: number, to: number, limit: number,
): { ep: number; distance: number } {
  let ep = entry;
  let best = distance(ep);
  for (let layer = top; layer > to; layer--) {
    for (let changed = true; changed; ) {
      changed = false;
      for (const nb of Array.from(list(ep, layer))) {
        if (nb >= limit) continue;
        const d = distance(nb);
        if (d < best) {
          best = d;
          ep = nb;
          changed = true;
        }
      }
    }
  }
  return { ep, distance: best };
}
