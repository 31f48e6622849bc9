/**
 * The inverted index of one text column: term dictionary, document frequencies, document lengths
 * (the BM25 statistics) and postings in up to two frozen segments plus a pending stream.
 */
import { freeze, mergeSegments, PendingPostings, U32List, type Segment } from "./postings.js";
import type { Tokenizer } from "./tokenizer.js";

/** A posting range of one term inside one segment. */
export interface PostingRange {
  readonly seg: Segment;
  readonly lo: number;
  readonly hi: number;
}

export class FieldIndex {
  readonly terms = new Map<string, number>();
  readonly termText: string[] = [];
  /** Documents containing each term, over all segments and the pending stream. */
  readonly df = new U32List();
  /** Indexed tokens per document (0 for a null value). */
  readonly docLen = new U32List();
  /** Documents whose value was not null: BM25's N for this column. */
  docCount = 0;
  /** Σ docLen: avgdl = totalLen / docCount. */
  totalLen = 0;
  main: Segment | undefined;
  tail: Segment | undefined;
  readonly pending: PendingPostings;

  // Per-document scratch, reused across documents. slotOf[term] is -1 outside addDoc.
  private tokTerm = new U32List(256);
  private tokPos = new U32List(256);
  private slotOf = new Int32Array(0);
  private distinct = new U32List(256);
  private slotTf = new U32List(256);

  constructor(
    readonly name: string,
    readonly withPositions: boolean,
  ) {
    this.pending = new PendingPostings(withPositions);
  }

  get numDocs(): number {
    return this.docLen.length;
  }

  /** Appends document number `this.numDocs`. */
  addDoc(text: string | null | undefined, tokenizer: Tokenizer): void {
    const doc = this.docLen.length;
    if (text === null || text === undefined) {
      this.docLen.push(0);
      return;
    }
    const ids = this.tokTerm;
    const pos = this.tokPos;
    ids.clear();
    pos.clear();
    tokenizer.forEachTerm(text, (term, position) => {
      let id = this.terms.get(term);
      if (id === undefined) {
        id = this.termText.length;
        this.terms.set(term, id);
        this.termText.push(term);
        this.df.push(0);
      }
      ids.push(id);
      pos.push(position);
    });
    const n = ids.length;
    this.docLen.push(n);
    this.docCount++;
    this.totalLen += n;
    if (n === 0) return;
    // Group the document's tokens by term without sorting: terms get local slots in order of first
    // occurrence, a counting pass gives each slot's tf, and positions (already ascending) are placed
    // slot by slot.
    if (this.slotOf.length < this.termText.length) {
      const grown = new Int32Array(Math.max(this.termText.length, this.slotOf.length * 2)).fill(-1);
      grown.set(this.slotOf);
      this.slotOf = grown;
    }
    const slotOf = this.slotOf;
    const distinct = this.distinct;
    const tf = this.slotTf;
    distinct.clear();
    tf.clear();
    const t = ids.data;
    for (let i = 0; i < n; i++) {
      let s = slotOf[t[i]!]!;
      if (s === -1) {
        s = distinct.length;
        slotOf[t[i]!] = s;
        distinct.push(t[i]!);
        tf.push(0);
      }
      tf.data[s]!++;
    }
    const p = this.pending;
    const m = distinct.length;
    for (let s = 0; s < m; s++) {
      const term = distinct.data[s]!;
      p.term.push(term);
      p.doc.push(doc);
      p.tf.push(tf.data[s]!);
      this.df.data[term]!++;
    }
    const positions = p.positions;
    if (positions) {
      // Slot s's positions go to [base + start[s], base + start[s] + tf[s]); tf becomes the cursor.
      const base = positions.length;
      if (base + n > positions.data.length) positions.grow(base + n);
      let run = 0;
      for (let s = 0; s < m; s++) {
        const c = tf.data[s]!;
        tf.data[s] = run;
        run += c;
      }
      const out = positions.data;
      const pd = pos.data;
      for (let i = 0; i < n; i++) out[base + tf.data[slotOf[t[i]!]!]!++] = pd[i]!;
      positions.length = base + n;
    }
    for (let s = 0; s < m; s++) slotOf[distinct.data[s]!] = -1;
  }

  /** Moves pending postings into the segments (a no-op when nothing is pending). */
  flush(): void {
    if (this.pending.size === 0) return;
    const numTerms = this.termText.length;
    const fresh = freeze(this.pending, numTerms);
    this.pending.clear();
    if (!this.main) {
      this.main = fresh;
      return;
    }
    this.tail = this.tail ? mergeSegments(this.tail, fresh, numTerms) : fresh;
    if (this.tail.docs.length * 8 >= this.main.docs.length) {
      this.main = mergeSegments(this.main, this.tail, numTerms);
      this.tail = undefined;
    }
  }

  /** Everything in one segment (before serializing). */
  compact(): Segment | undefined {
    this.flush();
    if (this.tail && this.main) {
      this.main = mergeSegments(this.main, this.tail, this.termText.length);
      this.tail = undefined;
    }
    return this.main;
  }

  /** The posting ranges of term `t`, in document order. Call `flush` first. */
  ranges(t: number): PostingRange[] {
    const out: PostingRange[] = [];
    for (const seg of [this.main, this.tail]) {
      if (!seg || t >= seg.numTerms) continue;
      const lo = seg.termStart[t]!;
      const hi = seg.termStart[t + 1]!;
      if (hi > lo) out.push({ seg, lo, hi });
    }
    return out;
  }

  numPostings(): number {
    return (this.main?.docs.length ?? 0) + (this.tail?.docs.length ?? 0) + this.pending.size;
  }
}
