// Top-k selection over a distance array, allocation-free.
//
//   dist     n f32          candidate distances; index i is the candidate's id
//   outIdx   k i32          result indices, ascending by (distance, index)
//   outDist  k f32          result distances
//   returns  count ≤ k
//
// Kept: lo ≤ d < hi, except that hi = +Infinity means "no upper bound" (so +Infinity distances
// still rank last instead of vanishing). NaN never passes.
//
// The output buffers double as a bounded max-heap ordered by (distance, index): the root is the
// worst kept candidate. Indices arrive in increasing order, so a candidate whose distance equals
// the root's is always worse (larger index) and is rejected by the single `d < worst` test —
// the test that decides almost every element once the heap is full.

// @ts-ignore: decorator
@inline function worse(da: f32, ia: i32, db: f32, ib: i32): bool {
  return da > db || (da == db && ia > ib);
}

/** Restores the heap below `pos` for heap size `size`, placing (d, id) at its final slot. */
function siftDown(outIdx: usize, outDist: usize, size: i32, pos: i32, d: f32, id: i32): void {
  while (true) {
    let child = 2 * pos + 1;
    if (child >= size) break;
    let cd = load<f32>(outDist + (<usize>child << 2));
    let ci = load<i32>(outIdx + (<usize>child << 2));
    let right = child + 1;
    if (right < size) {
      let rd = load<f32>(outDist + (<usize>right << 2));
      let ri = load<i32>(outIdx + (<usize>right << 2));
      if (worse(rd, ri, cd, ci)) { child = right; cd = rd; ci = ri; }
    }
    if (!worse(cd, ci, d, id)) break;
    store<f32>(outDist + (<usize>pos << 2), cd);
    store<i32>(outIdx + (<usize>pos << 2), ci);
    pos = child;
  }
  store<f32>(outDist + (<usize>pos << 2), d);
  store<i32>(outIdx + (<usize>pos << 2), id);
}

function siftUp(outIdx: usize, outDist: usize, pos: i32, d: f32, id: i32): void {
  while (pos > 0) {
    let parent = (pos - 1) >> 1;
    let pd = load<f32>(outDist + (<usize>parent << 2));
    let pi = load<i32>(outIdx + (<usize>parent << 2));
    if (!worse(d, id, pd, pi)) break;
    store<f32>(outDist + (<usize>pos << 2), pd);
    store<i32>(outIdx + (<usize>pos << 2), pi);
    pos = parent;
  }
  store<f32>(outDist + (<usize>pos << 2), d);
  store<i32>(outIdx + (<usize>pos << 2), id);
}

export function topk(dist: usize, n: i32, k: i32, lo: f32, hi: f32, outIdx: usize, outDist: usize): i32 {
  if (k <= 0) return 0;
  let unbounded = hi == Infinity;
  let count = 0;
  let i = 0;
  // Fill phase: the first k kept candidates go straight into the heap.
  for (; i < n && count < k; i++) {
    let d = load<f32>(dist + (<usize>i << 2));
    if (!(d >= lo) || !(d < hi || unbounded)) continue;
    siftUp(outIdx, outDist, count++, d, i);
  }
  // Replace phase: only candidates better than the root enter.
  let worst = load<f32>(outDist);
  if (count == k) {
    if (ASC_FEATURE_SIMD) {
      // Skip four at a time when no lane beats the root (NaN lanes compare false).
      for (; i + 4 <= n; i += 4) {
        let v = v128.load(dist + (<usize>i << 2));
        if (!v128.any_true(f32x4.lt(v, f32x4.splat(worst)))) continue;
        for (let j = i; j < i + 4; j++) {
          let d = load<f32>(dist + (<usize>j << 2));
          if (d < worst && d >= lo && (d < hi || unbounded)) {
            siftDown(outIdx, outDist, k, 0, d, j);
            worst = load<f32>(outDist);
          }
        }
      }
    }
    for (; i < n; i++) {
      let d = load<f32>(dist + (<usize>i << 2));
      if (d < worst && d >= lo && (d < hi || unbounded)) {
        siftDown(outIdx, outDist, k, 0, d, i);
        worst = load<f32>(outDist);
      }
    }
  }
  // Heapsort in place: move the root (worst) to the end, shrink, repeat → ascending order.
  for (let end = count - 1; end > 0; end--) {
    let o = <usize>end << 2;
    let d = load<f32>(outDist + o), id = load<i32>(outIdx + o);
    store<f32>(outDist + o, load<f32>(outDist));
    store<i32>(outIdx + o, load<i32>(outIdx));
    siftDown(outIdx, outDist, end, 0, d, id);
  }
  return count;
}
