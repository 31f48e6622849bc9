/**
 * Postings of one text column, as typed arrays.
 *
 * Documents are numbered 0, 1, 2, … in the order they were added (the index maps them to the
 * caller's rows), so each term's postings are sorted by document without sorting anything.
 *
 * While documents are added, postings go to a `PendingPostings` stream: one entry per
 * (term, document) in arrival order. `freeze` counting-sorts the stream by term into a `Segment`:
 *
 *   termStart  numTerms + 1   postings of term t are [termStart[t], termStart[t + 1])
 *   docs       P              document of each posting, ascending within a term
 *   tfs        P              occurrences of the term in that document (≥ 1)
 *   posStart   P + 1          (positions only) posting p's positions are [posStart[p], posStart[p + 1])
 *   positions  Σ tfs          (positions only) ascending token positions within each posting
 *
 * A column holds at most two segments, `main` and a small `tail` of recent additions, so a search after
 * a small add does not rewrite the main arrays: the tail is merged into main once it reaches 1/8 of it.
 */

/** A growable Uint32Array. */
export class U32List {
  data: Uint32Array;
  length = 0;

  constructor(capacity = 64) {
    this.data = new Uint32Array(Math.max(4, capacity));
  }

  push(v: number): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length++] = v;
  }

  grow(min: number): void {
    let cap = this.data.length * 2;
    while (cap < min) cap *= 2;
    const next = new Uint32Array(cap);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }

  view(): Uint32Array {
    return this.data.subarray(0, this.length);
  }

  clear(): void {
    this.length = 0;
  }
}

export interface Segment {
  /** Terms this segment knows; a term id ≥ numTerms has no postings here. */
  readonly numTerms: number;
  readonly termStart: Uint32Array;
  readonly docs: Uint32Array;
  readonly tfs: Uint32Array;
  readonly posStart?: Uint32Array | undefined;
  readonly positions?: Uint32Array | undefined;
}

export class PendingPostings {
  readonly term = new U32List();
  readonly doc = new U32List();
  readonly tf = new U32List();
  readonly positions: U32List | undefined;

  constructor(withPositions: boolean) {
    this.positions = withPositions ? new U32List() : undefined;
  }

  get size(): number {
    return this.term.length;
  }

  clear(): void {
    this.term.clear();
    this.doc.clear();
    this.tf.clear();
    this.positions?.clear();
  }
}

/** Counting sort of the pending stream by term. */
export function freeze(p: PendingPostings, numTerms: number): Segment {
  const n = p.size;
  const term = p.term.data;
  const doc = p.doc.data;
  const tf = p.tf.data;
  const termStart = new Uint32Array(numTerms + 1);
  for (let i = 0; i < n; i++) termStart[term[i]! + 1]!++;
  for (let t = 0; t < numTerms; t++) termStart[t + 1]! += termStart[t]!;
  const cursor = termStart.slice(0, numTerms);
  const docs = new Uint32Array(n);
  const tfs = new Uint32Array(n);
  const srcPos = p.positions ? new Uint32Array(n) : undefined;
  let running = 0;
  for (let i = 0; i < n; i++) {
    const j = cursor[term[i]!]!++;
    docs[j] = doc[i]!;
    tfs[j] = tf[i]!;
    if (srcPos) {
      srcPos[j] = running;
      running += tf[i]!;
    }
  }
  if (!srcPos || !p.positions) return { numTerms, termStart, docs, tfs };
  const posStart = new Uint32Array(n + 1);
  for (let j = 0; j < n; j++) posStart[j + 1] = posStart[j]! + tfs[j]!;
  const positions = new Uint32Array(posStart[n]!);
  const src = p.positions.data;
  for (let j = 0; j < n; j++) positions.set(src.subarray(srcPos[j]!, srcPos[j]! + tfs[j]!), posStart[j]!);
  return { numTerms, termStart, docs, tfs, posStart, positions };
}

function range(s: Segment, t: number): [number, number] {
  return t < s.numTerms ? [s.termStart[t]!, s.termStart[t + 1]!] : [0, 0];
}

/** Concatenates two segments term by term; every document of `b` must come after every one of `a`. */
export function mergeSegments(a: Segment, b: Segment, numTerms: number): Segment {
  const n = a.docs.length + b.docs.length;
  const termStart = new Uint32Array(numTerms + 1);
  const docs = new Uint32Array(n);
  const tfs = new Uint32Array(n);
  const withPos = a.posStart !== undefined && b.posStart !== undefined;
  const posStart = withPos ? new Uint32Array(n + 1) : undefined;
  const positions = withPos ? new Uint32Array(a.positions!.length + b.positions!.length) : undefined;
  let j = 0;
  for (let t = 0; t < numTerms; t++) {
    for (const s of [a, b]) {
      const [lo, hi] = range(s, t);
      docs.set(s.docs.subarray(lo, hi), j);
      tfs.set(s.tfs.subarray(lo, hi), j);
      if (posStart && positions) {
        const p0 = s.posStart![lo]!;
        const p1 = s.posStart![hi]!;
        positions.set(s.positions!.subarray(p0, p1), posStart[j]!);
        const shift = posStart[j]! - p0;
        for (let q = lo; q < hi; q++) posStart[j + q - lo + 1] = s.posStart![q + 1]! + shift;
      }
      j += hi - lo;
    }
    termStart[t + 1] = j;
  }
  return { numTerms, termStart, docs, tfs, posStart, positions };
}
