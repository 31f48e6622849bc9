// Best-first search of HNSW's bottom layer, the hot loop of src/ann/hnsw.ts, in one call per query:
// expanding a node reads its neighbour list, skips visited nodes and computes each distance
// in place — no host round trip per node.
//
// Shapes:
//   links    n × stride i32, node-major: node v at links + v·stride·4 = [count, n_0 … n_{stride−2}];
//            or, with offsets ≠ 0 (an upper layer), node v's list on `layer` at
//            links + (offsets[v] + (layer − 1)·stride)·4 (src/kernels/graph.ts UpperLayers).
//            With ef = 1 the search is HNSW's greedy descent through one layer: it moves to each
//            neighbour nearer than the best so far, in list order, until none is
//   visited  n u16; node v is visited in this search when visited[v] == epoch (the host bumps
//            epoch per search and clears the array when it wraps)
//   allowed  bitmap over nodes (bit v & 7 of byte v >> 3), or 0 for all: only allowed nodes enter
//            the results, but every node can be walked through
//   rows     the store's rows: kind 0 = f32 (dim f32 each), 1 = int8 SQ (dim bytes), 2 = PQ (M bytes)
//   q, aux, w, bias   the prepared query, as the store's scan kernels take it:
//                    f32: q = query; sq: q = rounded i16 query, aux = row norms or 0, w, bias;
//                    pq: aux = lookup table (M × 256 f32), bias
//   cand     scratch for the candidate min-heap: up to n (f32 dist, i32 id) pairs
//   res      scratch for the result max-heap: ef + 1 pairs
//   batch    scratch for one node's unvisited neighbours: stride − 1 (i32 id, f32 distance) pairs
//   outIds, outDist   ef i32 / ef f32: the results, nearest first
//   returns  the number of results (≤ ef)
//
// Heaps are arrays of 8-byte (distance, id) pairs; the root is at offset 0.

import { dotF32, dot_f32_gather, l2F32, l2_f32_gather } from "./f32";
import { sqIpRow } from "./sq";
import { adcRow } from "./pq";

// @ts-ignore: decorator
@inline function distanceTo(kind: i32, metric: i32, rows: usize, v: i32, dim: i32, M: i32, q: usize, aux: usize, w: f32, bias: f32): f32 {
  if (kind == 0) {
    let x = rows + <usize>v * (<usize>dim << 2);
    return metric == 0 ? l2F32(q, x, dim) : 1 - dotF32(q, x, dim);
  }
  if (kind == 1) {
    let d = bias + w * <f32>sqIpRow(q, rows + <usize>v * <usize>dim, dim);
    return aux == 0 ? d : d + load<f32>(aux + (<usize>v << 2));
  }
  return bias + adcRow(aux, rows + <usize>v * <usize>M, M);
}

// @ts-ignore: decorator
@inline function isAllowed(allowed: usize, v: i32): bool {
  return allowed == 0 || ((load<u8>(allowed + (<usize>v >> 3)) >> (<u8>v & 7)) & 1) != 0;
}

// ── heaps of (f32 key, i32 id) pairs ─────────────────────────────────────────────────────────

/** Min-heap push; returns the new size. */
// @ts-ignore: decorator
@inline function pushMin(h: usize, size: i32, key: f32, id: i32): i32 {
  let i = size;
  while (i > 0) {
    let parent = (i - 1) >> 1;
    let pk = load<f32>(h + (<usize>parent << 3));
    if (pk <= key) break;
    store<u64>(h + (<usize>i << 3), load<u64>(h + (<usize>parent << 3)));
    i = parent;
  }
  store<f32>(h + (<usize>i << 3), key);
  store<i32>(h + (<usize>i << 3), id, 4);
  return size + 1;
}

/** Min-heap pop of the root; returns the new size. */
// @ts-ignore: decorator
@inline function popMin(h: usize, size: i32): i32 {
  let n = size - 1;
  if (n == 0) return 0;
  let last = load<u64>(h + (<usize>n << 3));
  let key = load<f32>(h + (<usize>n << 3));
  let i = 0;
  while (true) {
    let child = 2 * i + 1;
    if (child >= n) break;
    let ck = load<f32>(h + (<usize>child << 3));
    if (child + 1 < n) {
      let rk = load<f32>(h + (<usize>(child + 1) << 3));
      if (rk < ck) { child++; ck = rk; }
    }
    if (ck >= key) break;
    store<u64>(h + (<usize>i << 3), load<u64>(h + (<usize>child << 3)));
    i = child;
  }
  store<u64>(h + (<usize>i << 3), last);
  return n;
}

// @ts-ignore: decorator
@inline function pushMax(h: usize, size: i32, key: f32, id: i32): i32 {
  let i = size;
  while (i > 0) {
    let parent = (i - 1) >> 1;
    let pk = load<f32>(h + (<usize>parent << 3));
    if (pk >= key) break;
    store<u64>(h + (<usize>i << 3), load<u64>(h + (<usize>parent << 3)));
    i = parent;
  }
  store<f32>(h + (<usize>i << 3), key);
  store<i32>(h + (<usize>i << 3), id, 4);
  return size + 1;
}

// Not inlined: its two callers (the result list's trim and the final drain) share one body.
function popMax(h: usize, size: i32): i32 {
  let n = size - 1;
  if (n == 0) return 0;
  let last = load<u64>(h + (<usize>n << 3));
  let key = load<f32>(h + (<usize>n << 3));
  let i = 0;
  while (true) {
    let child = 2 * i + 1;
    if (child >= n) break;
    let ck = load<f32>(h + (<usize>child << 3));
    if (child + 1 < n) {
      let rk = load<f32>(h + (<usize>(child + 1) << 3));
      if (rk > ck) { child++; ck = rk; }
    }
    if (ck <= key) break;
    store<u64>(h + (<usize>i << 3), load<u64>(h + (<usize>child << 3)));
    i = child;
  }
  store<u64>(h + (<usize>i << 3), last);
  return n;
}

// ── the search ────────────────────────────────────────────────────────────────────────────────

export function hnsw_search(
  links: usize, stride: i32, offsets: usize, layer: i32, visited: usize, epoch: i32, allowed: usize,
  kind: i32, metric: i32, rows: usize, dim: i32, M: i32, q: usize, aux: usize, w: f32, bias: f32,
  ep: i32, epDist: f32, ef: i32, cand: usize, res: usize, batch: usize, outIds: usize, outDist: usize,
): i32 {
  let mark = <u16>epoch;
  let linkStep = <usize>stride << 2;
  store<u16>(visited + (<usize>ep << 1), mark);
  let nc = pushMin(cand, 0, epDist, ep);
  let nr = 0;
  if (isAllowed(allowed, ep)) nr = pushMax(res, 0, epDist, ep);
  let bound: f32 = nr > 0 ? load<f32>(res) : Infinity;

  while (nc > 0) {
    // The nearest unexpanded candidate is farther than the worst result: nothing left to gain.
    if (load<f32>(cand) > bound && nr >= ef) break;
    let c = load<i32>(cand, 4);
    nc = popMin(cand, nc);
    let list = offsets == 0
      ? links + <usize>c * linkStep
      : links + ((<usize>load<i32>(offsets + (<usize>c << 2)) + <usize>(layer - 1) * <usize>stride) << 2);
    let count = load<i32>(list);
    // First the unvisited neighbours and their distances, then the heap updates: the distance
    // loop has no branches on heap state, so the rows' cache misses overlap.
    let fresh = 0;
    for (let j = 1; j <= count; j++) {
      let nb = load<i32>(list + (<usize>j << 2));
      let vp = visited + (<usize>nb << 1);
      if (load<u16>(vp) == mark) continue;
      store<u16>(vp, mark);
      store<i32>(batch + (<usize>fresh << 3), nb);
      fresh++;
    }
    for (let j = 0; j < fresh; j++) {
      let at = batch + (<usize>j << 3);
      store<f32>(at, distanceTo(kind, metric, rows, load<i32>(at), dim, M, q, aux, w, bias), 4);
    }
    for (let j = 0; j < fresh; j++) {
      let at = batch + (<usize>j << 3);
      let nb = load<i32>(at);
      let d = load<f32>(at, 4);
      if (nr < ef || d < bound) {
        nc = pushMin(cand, nc, d, nb);
        if (isAllowed(allowed, nb)) {
          nr = pushMax(res, nr, d, nb);
          if (nr > ef) nr = popMax(res, nr);
          bound = load<f32>(res);
        }
      }
    }
  }
  // Drain the results farthest first into the output, back to front → nearest first.
  let count = nr;
  for (let i = count - 1; i >= 0; i--) {
    store<i32>(outIds + (<usize>i << 2), load<i32>(res, 4));
    store<f32>(outDist + (<usize>i << 2), load<f32>(res));
    nr = popMax(res, nr);
  }
  return count;
}

// ── neighbour selection (building) ───────────────────────────────────────────────────────────

/**
 * hnswlib's heuristic over f32 rows: walk the candidates ids/dists (count pairs, ascending by
 * distance to the base) and keep one only if it is nearer to the base than to every neighbour kept
 * so far, up to `max`; with count ≤ max all are kept. Writes the kept ids to out; returns how many.
 * The same rule and the same gather kernels as HnswIndex.#selectNeighbours, run inside a build
 * worker. tmp: max f32 of scratch.
 */
export function hnsw_select(rows: usize, dim: i32, metric: i32, ids: usize, dists: usize, count: i32, max: i32, out: usize, tmp: usize): i32 {
  if (count <= max) {
    for (let i = 0; i < count; i++) store<i32>(out + (<usize>i << 2), load<i32>(ids + (<usize>i << 2)));
    return count;
  }
  let rowBytes = <usize>dim << 2;
  let kept = 0;
  for (let i = 0; i < count && kept < max; i++) {
    let e = load<i32>(ids + (<usize>i << 2));
    let de = load<f32>(dists + (<usize>i << 2));
    let good = true;
    if (kept > 0) {
      let x = rows + <usize>e * rowBytes;
      if (metric == 0) l2_f32_gather(x, rows, out, kept, dim, tmp);
      else dot_f32_gather(x, rows, out, kept, dim, tmp);
      for (let j = 0; j < kept; j++) {
        if (load<f32>(tmp + (<usize>j << 2)) < de) {
          good = false;
          break;
        }
      }
    }
    if (good) {
      store<i32>(out + (<usize>kept << 2), e);
      kept++;
    }
  }
  return kept;
}
