/**
 * BM25 over one column's postings, term at a time.
 *
 *   score(d) = Σ_clauses  w · idf · (k1 + 1) · tf / (tf + k1 · (1 − b + b · dl(d) / avgdl))
 *   idf      = ln(1 + (N − df + 0.5) / (df + 0.5))            (Lucene's, always > 0)
 *
 * N, df, dl and avgdl are the column's own (N = documents whose value is not null). A term clause has
 * w = its count in the query. A phrase clause scores like one term whose tf is the number of times the
 * phrase occurs and whose idf is the sum of its terms' idf (Lucene's PhraseQuery). The (k1 + 1) factor
 * is the one lance and tantivy keep; it does not change the order.
 *
 * Each clause's postings are scanned once into a dense accumulator (`acc`, indexed by document), with
 * `hits` counting the clauses a document matched. With AND, clauses run rarest first and a document
 * only gains a hit if it matched every clause before, so the last clause leaves the conjunction.
 */
import { createError } from "../errors.js";
import type { FieldIndex, PostingRange } from "./field.js";
import type { Clause } from "./query.js";
import { U32List } from "./postings.js";

export interface Bm25Params {
  readonly k1: number;
  readonly b: number;
}

export type Operator = "OR" | "AND";

/**
 * A column's corpus statistics when several indexes are searched as one (an index and the rows
 * added since it was built): N, Σ dl and df over all of them, so every shard scores as one index
 * over the union would.
 */
export interface ColumnStats {
  readonly docCount: number;
  readonly totalLen: number;
  df(term: string): number;
}

export function idf(df: number, n: number): number {
  return Math.log(1 + (n - df + 0.5) / (df + 0.5));
}

/** Dense per-document buffers shared by the columns of one index; all zero between queries. */
export class Scratch {
  acc = new Float64Array(0);
  hits = new Uint16Array(0);
  touched = new U32List(1024);

  ensure(numDocs: number): void {
    if (this.acc.length >= numDocs) return;
    const cap = Math.max(numDocs, this.acc.length * 2, 1024);
    this.acc = new Float64Array(cap);
    this.hits = new Uint16Array(cap);
  }
}

interface NormCache {
  k1: number;
  b: number;
  numDocs: number;
  totalLen: number;
  avgdl: number;
  /** k1 · (1 − b + b · dl / avgdl) per document. */
  norm: Float32Array;
}

const norms = new WeakMap<FieldIndex, NormCache>();

function docNorms(field: FieldIndex, { k1, b }: Bm25Params, stats: ColumnStats | undefined): Float32Array {
  const c = norms.get(field);
  const n = field.numDocs;
  const [docCount, totalLen] = stats === undefined ? [field.docCount, field.totalLen] : [stats.docCount, stats.totalLen];
  const avgdl = docCount > 0 ? totalLen / docCount : 1;
  if (c && c.k1 === k1 && c.b === b && c.numDocs === n && c.totalLen === field.totalLen && c.avgdl === avgdl) return c.norm;
  const norm = new Float32Array(n);
  const len = field.docLen.data;
  const scale = avgdl > 0 ? b / avgdl : 0;
  for (let d = 0; d < n; d++) norm[d] = k1 * (1 - b + scale * len[d]!);
  norms.set(field, { k1, b, numDocs: n, totalLen: field.totalLen, avgdl, norm });
  return norm;
}

interface ResolvedClause {
  /** Estimated matches, to order AND clauses. */
  readonly df: number;
  /** w · idf · (k1 + 1). */
  readonly weight: number;
  /** Calls `visit(doc, tf)` for each matching document, in document order. */
  readonly scan: (visit: (doc: number, tf: number) => void) => void;
}

function termScan(ranges: PostingRange[]): ResolvedClause["scan"] {
  return (visit) => {
    for (const { seg, lo, hi } of ranges) {
      const docs = seg.docs;
      const tfs = seg.tfs;
      for (let p = lo; p < hi; p++) visit(docs[p]!, tfs[p]!);
    }
  };
}

/** Postings of one phrase term flattened across segments, with where each posting's positions are. */
interface PhraseList {
  docs: number[];
  pos: Uint32Array[];
  lo: number[];
  hi: number[];
}

function phraseList(ranges: PostingRange[]): PhraseList {
  const l: PhraseList = { docs: [], pos: [], lo: [], hi: [] };
  for (const { seg, lo, hi } of ranges) {
    for (let p = lo; p < hi; p++) {
      l.docs.push(seg.docs[p]!);
      l.pos.push(seg.positions!);
      l.lo.push(seg.posStart![p]!);
      l.hi.push(seg.posStart![p + 1]!);
    }
  }
  return l;
}

function contains(a: Uint32Array, lo: number, hi: number, v: number): boolean {
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    const x = a[m]!;
    if (x === v) return true;
    if (x < v) lo = m + 1;
    else hi = m;
  }
  return false;
}

function phraseScan(lists: PhraseList[], offsets: readonly number[]): ResolvedClause["scan"] {
  return (visit) => {
    let driver = 0;
    for (let i = 1; i < lists.length; i++) if (lists[i]!.docs.length < lists[driver]!.docs.length) driver = i;
    const D = lists[driver]!;
    const cursor = new Array<number>(lists.length).fill(0);
    outer: for (let i = 0; i < D.docs.length; i++) {
      const d = D.docs[i]!;
      for (let j = 0; j < lists.length; j++) {
        if (j === driver) continue;
        const L = lists[j]!;
        let c = cursor[j]!;
        while (c < L.docs.length && L.docs[c]! < d) c++;
        cursor[j] = c;
        if (c === L.docs.length) return;
        if (L.docs[c] !== d) continue outer;
      }
      let freq = 0;
      const dPos = D.pos[i]!;
      for (let q = D.lo[i]!; q < D.hi[i]!; q++) {
        const start = dPos[q]! - offsets[driver]!;
        if (start < 0) continue;
        let all = true;
        for (let j = 0; j < lists.length && all; j++) {
          if (j === driver) continue;
          const L = lists[j]!;
          const c = cursor[j]!;
          all = contains(L.pos[c]!, L.lo[c]!, L.hi[c]!, start + offsets[j]!);
        }
        if (all) freq++;
      }
      if (freq > 0) visit(d, freq);
    }
  };
}

/**
 * Resolves clauses against the column. Returns undefined when the query cannot match (AND with a term
 * the column has never seen), and drops unknown terms under OR.
 */
function resolve(field: FieldIndex, clauses: readonly Clause[], op: Operator, k1: number, stats: ColumnStats | undefined): ResolvedClause[] | undefined {
  const n = stats?.docCount ?? field.docCount;
  const out: ResolvedClause[] = [];
  for (const c of clauses) {
    if (c.kind === "term") {
      const t = field.terms.get(c.term);
      if (t === undefined) {
        if (op === "AND") return undefined;
        continue;
      }
      const df = stats?.df(c.term) ?? field.df.data[t]!;
      out.push({ df, weight: c.count * idf(df, n) * (k1 + 1), scan: termScan(field.ranges(t)) });
    } else {
      if (!field.withPositions) {
        throw createError(
          "INVALID_ARGUMENT",
          `Phrase query on column "${field.name}", whose full-text index has no positions. Rebuild it with Index.fts({ withPosition: true }), or pass phrase: false to match the words in any order.`,
          { column: field.name },
        );
      }
      const ids = c.terms.map((term) => field.terms.get(term));
      if (ids.some((t) => t === undefined)) {
        if (op === "AND") return undefined;
        continue;
      }
      let w = 0;
      let df = Infinity;
      for (let i = 0; i < ids.length; i++) {
        const f = stats?.df(c.terms[i]!) ?? field.df.data[ids[i]!]!;
        w += idf(f, n);
        df = Math.min(df, f);
      }
      const lists = (ids as number[]).map((t) => phraseList(field.ranges(t)));
      out.push({ df, weight: w * (k1 + 1), scan: phraseScan(lists, c.offsets) });
    }
  }
  if (op === "AND") out.sort((a, b) => a.df - b.df);
  return out;
}

/**
 * Scores one column into `s.acc` / `s.hits` and lists the matched documents in `s.touched`.
 * Returns how many hits a document needs to count as a match (0: nothing matches).
 */
export function scoreColumn(field: FieldIndex, clauses: readonly Clause[], op: Operator, params: Bm25Params, s: Scratch, stats?: ColumnStats): number {
  field.flush();
  s.ensure(field.numDocs);
  s.touched.clear();
  const resolved = resolve(field, clauses, op, params.k1, stats);
  if (!resolved || resolved.length === 0) return 0;
  const norm = docNorms(field, params, stats);
  const acc = s.acc;
  const hits = s.hits;
  const touched = s.touched;
  resolved.forEach((c, ci) => {
    const w = c.weight;
    if (op === "OR") {
      c.scan((d, tf) => {
        if (hits[d] === 0) touched.push(d);
        hits[d] = 1;
        acc[d]! += (w * tf) / (tf + norm[d]!);
      });
    } else {
      c.scan((d, tf) => {
        if (hits[d] !== ci) return;
        if (ci === 0) touched.push(d);
        hits[d] = ci + 1;
        acc[d]! += (w * tf) / (tf + norm[d]!);
      });
    }
  });
  return op === "OR" ? 1 : resolved.length;
}
