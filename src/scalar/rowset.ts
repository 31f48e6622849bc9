/**
 * Row sets as sorted, duplicate-free arrays of row addresses: what a scalar index lookup returns and
 * what the filter step combines (AND → intersect, OR → union, NOT → complement within live rows).
 * Linear merges; no allocation beyond the result.
 */
export type RowSet = Float64Array;

export function intersectRows(a: RowSet, b: RowSet): RowSet {
  const out = new Float64Array(Math.min(a.length, b.length));
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      out[n++] = x;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return out.slice(0, n);
}

export function unionRows(a: RowSet, b: RowSet): RowSet {
  const out = new Float64Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length || j < b.length) {
    const x = i < a.length ? a[i]! : Infinity;
    const y = j < b.length ? b[j]! : Infinity;
    if (x <= y) {
      out[n++] = x;
      i++;
      if (x === y) j++;
    } else {
      out[n++] = y;
      j++;
    }
  }
  return out.slice(0, n);
}

/** Rows of `live` (sorted) that are not in `a`. */
export function subtractRows(live: RowSet, a: RowSet): RowSet {
  const out = new Float64Array(live.length);
  let j = 0;
  let n = 0;
  for (let i = 0; i < live.length; i++) {
    const x = live[i]!;
    while (j < a.length && a[j]! < x) j++;
    if (j < a.length && a[j] === x) continue;
    out[n++] = x;
  }
  return out.slice(0, n);
}

/** Sorts and removes duplicates in place-copied form. */
export function toRowSet(rows: ArrayLike<number>): RowSet {
  const sorted = Float64Array.from(rows).sort();
  let n = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[n - 1]) sorted[n++] = sorted[i]!;
  return sorted.slice(0, n);
}
