/**
 * The k best of a candidate list, ordered by score descending and then row ascending (so equal
 * scores come back in a stable, documented order). A bounded min-heap keeps the k best seen so far;
 * when k is at least the number of candidates everything is sorted once instead.
 */

/** Row filter for `where` prefiltering: a predicate or anything with `has` (a Set of rows). */
export type RowFilter = ((row: number) => boolean) | { has(row: number): boolean };

export interface FtsResults {
  /** The caller's row numbers, best first. */
  readonly rows: Float64Array;
  /** BM25 score of each row (higher is better). */
  readonly scores: Float32Array;
}

export function rowPredicate(filter: RowFilter | undefined): ((row: number) => boolean) | undefined {
  if (filter === undefined) return undefined;
  if (typeof filter === "function") return filter;
  return (row) => filter.has(row);
}

// `a` ranks below `b`.
const worse = (sa: number, ra: number, sb: number, rb: number): boolean => sa < sb || (sa === sb && ra > rb);

/**
 * `cands` lists document numbers; `score[d]` and `rowOf[d]` give their score and row. Only
 * candidates that pass `keep` (called with the row) are returned.
 */
export function selectTopK(
  cands: ArrayLike<number>,
  score: ArrayLike<number>,
  rowOf: ArrayLike<number>,
  k: number,
  keep: ((row: number) => boolean) | undefined,
): FtsResults {
  const n = cands.length;
  if (k >= n) {
    const s: number[] = [];
    const r: number[] = [];
    for (let i = 0; i < n; i++) {
      const d = cands[i]!;
      const row = rowOf[d]!;
      if (keep && !keep(row)) continue;
      s.push(score[d]!);
      r.push(row);
    }
    const order = Array.from(s.keys()).sort((a, b) => s[b]! - s[a]! || r[a]! - r[b]!);
    return { rows: Float64Array.from(order, (i) => r[i]!), scores: Float32Array.from(order, (i) => s[i]!) };
  }
  const hs = new Float64Array(k);
  const hr = new Float64Array(k);
  let size = 0;
  const siftDown = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) return;
      let m = l;
      if (l + 1 < size && worse(hs[l + 1]!, hr[l + 1]!, hs[l]!, hr[l]!)) m = l + 1;
      if (!worse(hs[m]!, hr[m]!, hs[i]!, hr[i]!)) return;
      const ts = hs[i]!, tr = hr[i]!;
      hs[i] = hs[m]!; hr[i] = hr[m]!;
      hs[m] = ts; hr[m] = tr;
      i = m;
    }
  };
  for (let i = 0; i < n; i++) {
    const d = cands[i]!;
    const s = score[d]!;
    const row = rowOf[d]!;
    if (size === k && !worse(hs[0]!, hr[0]!, s, row)) continue;
    if (keep && !keep(row)) continue;
    if (size < k) {
      // sift up
      let j = size++;
      while (j > 0) {
        const parent = (j - 1) >> 1;
        if (!worse(s, row, hs[parent]!, hr[parent]!)) break;
        hs[j] = hs[parent]!; hr[j] = hr[parent]!;
        j = parent;
      }
      hs[j] = s; hr[j] = row;
    } else {
      hs[0] = s; hr[0] = row;
      siftDown(0);
    }
  }
  const order = Array.from({ length: size }, (_, i) => i).sort((a, b) => hs[b]! - hs[a]! || hr[a]! - hr[b]!);
  return { rows: Float64Array.from(order, (i) => hr[i]!), scores: Float32Array.from(order, (i) => hs[i]!) };
}
